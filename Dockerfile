# The batchrecs CLI image.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/BatchRecs.Cli/BatchRecs.Cli.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
COPY jobs /app/jobs
VOLUME ["/lake", "/input"]
ENTRYPOINT ["dotnet", "/app/batchrecs.dll"]
CMD ["--help"]
