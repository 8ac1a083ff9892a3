using System.Globalization;
using System.Net;
using System.Text;
using DuckDB.NET.Data;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchRecs.Hangfire;

/// <summary>The dashboard's settings.</summary>
/// <param name="Lake">lake whose DuckDB <c>runs</c> table the runs page lists (optional).</param>
/// <param name="AllowWrites">let the Hangfire dashboard trigger, retry and delete jobs (read-only otherwise).</param>
/// <param name="Storage">the Hangfire storage to show.</param>
/// <param name="Port">the TCP port to listen on.</param>
/// <param name="Bind">the address to listen on.</param>
public sealed record DashboardSettings(StorageOptions Storage, int Port, string? Lake, bool AllowWrites = false, string Bind = "0.0.0.0");

/// <summary>
/// <c>batchrecs dashboard</c>: the Hangfire dashboard at <c>/hangfire</c> and a BatchRecs page at <c>/</c> listing the
/// runs with their status and headline metrics, read from the DuckDB <c>runs</c> table (read-only).
/// </summary>
public static class DashboardHost
{
    public static WebApplication Build(DashboardSettings options, DashboardAccess? access = null)
    {
        access ??= DashboardAccess.FromEnvironment();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://{options.Bind}:{options.Port}");
        builder.Services.AddHangfire(config => options.Storage.Apply(config));
        // Hangfire's pages carry, and its middleware checks, an antiforgery token once IAntiforgery is registered.
        // Keys live in memory: a token lasts as long as this process (reload the page after a restart), and no key
        // material is written to disk.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddAntiforgery();
        builder.Services.AddSingleton<SameOriginGuard>();
        var app = builder.Build();
        var guard = app.Services.GetRequiredService<SameOriginGuard>();
        app.Use(guard.InvokeAsync); // before Hangfire: every write, on any path, passes the same-origin and token checks
        app.UseHangfireDashboard("/hangfire", new global::Hangfire.DashboardOptions
        {
            Authorization = [access],
            IsReadOnlyFunc = _ => !options.AllowWrites,
            DashboardTitle = "BatchRecs scheduler",
            AppPath = "/",
        });
        app.Use(async (http, next) =>
        {
            if (!access.IsAllowed(http))
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"batchrecs\"";
                await http.Response.WriteAsync("local requests only, unless a user/password or token is configured");
                return;
            }
            await next(http);
        });
        app.MapGet("/", (HttpContext http) => Results.Content(RunsPage(options.Lake), "text/html; charset=utf-8"));
        app.MapGet("/health", () => Results.Text("ok"));
        return app;
    }

    /// <summary>The runs page: newest first, with status, reason and the headline metrics.</summary>
    public static string RunsPage(string? lake)
    {
        var sb = new StringBuilder();
        sb.Append("""
            <!doctype html><html><head><meta charset="utf-8"><title>BatchRecs runs</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
            .succeeded{color:#137333}.failed{color:#a50e0e}.rejected{color:#b06000}.running{color:#1a73e8}</style></head><body>
            <h1>BatchRecs runs</h1><p><a href="/hangfire">Hangfire dashboard</a></p>
            """);
        string? db = lake is null ? null : Path.Combine(lake, "batchrecs.duckdb");
        if (db is null || !File.Exists(db))
        {
            sb.Append("<p>No runs yet").Append(lake is null ? " (start the dashboard with --lake DIR)" : $" in {WebUtility.HtmlEncode(lake)}").Append(".</p></body></html>");
            return sb.ToString();
        }
        using var con = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
        con.Open();
        using var cmd = con.CreateCommand();
        cmd.CommandText = """
            SELECT r.run_id, r.job, strftime(r.run_date, '%Y-%m-%d'), r.status, strftime(r.started_at, '%Y-%m-%d %H:%M:%S'), r.seconds, r.users, r.items, r.reason,
                   (SELECT max(value) FILTER (WHERE metric LIKE 'model.ndcg@%') FROM run_metrics m WHERE m.run_id = r.run_id),
                   (SELECT max(value) FILTER (WHERE metric LIKE 'popular.ndcg@%') FROM run_metrics m WHERE m.run_id = r.run_id),
                   (SELECT max(value) FILTER (WHERE metric LIKE 'model.recall@%') FROM run_metrics m WHERE m.run_id = r.run_id)
            FROM runs r ORDER BY r.started_at DESC LIMIT 100
            """;
        using var rd = cmd.ExecuteReader();
        sb.Append("<table id=\"runs\"><tr><th>run</th><th>job</th><th>run date</th><th>status</th><th>started (UTC)</th><th>seconds</th><th>users</th><th>items</th><th>model NDCG</th><th>popular NDCG</th><th>model recall</th><th>reason</th></tr>");
        while (rd.Read())
        {
            string Cell(int i, string fmt = "") => rd.IsDBNull(i) ? "" : WebUtility.HtmlEncode(rd.GetValue(i) is IFormattable f ? f.ToString(fmt == "" ? null : fmt, CultureInfo.InvariantCulture) : rd.GetValue(i).ToString() ?? "");
            string status = Cell(3);
            sb.Append("<tr><td>").Append(Cell(0)).Append("</td><td>").Append(Cell(1)).Append("</td><td>").Append(Cell(2))
              .Append("</td><td class=\"").Append(status).Append("\">").Append(status).Append("</td><td>").Append(Cell(4))
              .Append("</td><td>").Append(Cell(5, "F1")).Append("</td><td>").Append(Cell(6)).Append("</td><td>").Append(Cell(7))
              .Append("</td><td>").Append(Cell(9, "F4")).Append("</td><td>").Append(Cell(10, "F4")).Append("</td><td>").Append(Cell(11, "F4"))
              .Append("</td><td>").Append(Cell(8)).Append("</td></tr>");
        }
        sb.Append("</table></body></html>");
        return sb.ToString();
    }
}
