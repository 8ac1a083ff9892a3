# The batchrecs CLI image (scheduler, worker, dashboard and one-off runs).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/BatchRecs.Cli/BatchRecs.Cli.csproj -c Release -o /app

# The ASP.NET Core runtime, not the plain one: batchrecs.dll references Microsoft.AspNetCore.App (the dashboard),
# so no command starts on the plain runtime image. curl serves the compose health check.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
COPY jobs /app/jobs
VOLUME ["/lake", "/input"]
ENTRYPOINT ["dotnet", "/app/batchrecs.dll"]
CMD ["--help"]
