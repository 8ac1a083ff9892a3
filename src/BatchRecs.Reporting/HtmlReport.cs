using System.Globalization;
using System.Net;
using System.Text;
using BatchRecs.Lake.Output;

namespace BatchRecs.Reporting;

/// <summary>
/// Lays a run's data and charts out as one HTML page: status and reason, the headline numbers beside the previous
/// run's, the charts, the settings. Inline CSS and SVG only — no scripts, fonts, images or links to fetch — so the
/// file can be mailed, archived or opened from the lake on a machine without network.
/// </summary>
internal static class HtmlReport
{
    public static string Render(ReportData data, IReadOnlyList<ReportChart> charts, string databasePath)
    {
        var run = data.Run;
        var html = new StringBuilder(256 * 1024);
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{E(run.Job)} {run.RunDate:yyyy-MM-dd} — {E(run.Status)} — BatchRecs run report</title>
            <style>{Css}</style>
            </head>
            <body>
            <header>
            <h1>BatchRecs run report <span class="status {StatusClass(run.Status)}">{E(run.Status)}</span></h1>
            <p class="sub">job <b>{E(run.Job)}</b> · run date <b>{run.RunDate:yyyy-MM-dd}</b> · run <code>{E(run.RunId)}</code></p>
            </header>

            """);
        if (!string.IsNullOrEmpty(run.Reason))
            html.Append($"<div class=\"reason {StatusClass(run.Status)}\"><b>Reason:</b> {E(run.Reason)}</div>\n");

        Headline(html, data);

        html.Append("<h2>Charts</h2>\n<div class=\"grid\">\n");
        foreach (var c in charts)
        {
            html.Append($"<figure id=\"chart-{E(c.Id)}\" class=\"chart{(c.Drawn ? "" : " missing")}\">\n<h3>{E(c.Title)}</h3>\n");
            html.Append(c.Svg is null ? $"<p class=\"absent\">Not available: {E(c.Note)}</p>\n" : $"<div class=\"svg\">{c.Svg}</div>\n<figcaption>{E(c.Note)}</figcaption>\n");
            html.Append("</figure>\n");
        }
        html.Append("</div>\n");

        Settings(html, data);

        html.Append($"""
            <footer>
            Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by <code>batchrecs report --run {E(run.RunId)}</code> from <code>{E(databasePath)}</code>{(data.ManifestPath is null ? "" : $" and <code>{E(data.ManifestPath)}</code>")}.
            Self-contained: charts are inline SVG (ScottPlot); nothing is loaded from the network.
            </footer>
            </body>
            </html>

            """);
        return html.ToString();
    }

    /// <summary>The numbers an operator checks first, with the previous run of the job beside them.</summary>
    private static void Headline(StringBuilder html, ReportData data)
    {
        var run = data.Run;
        int? k = ReportCharts.ListLength(data);
        var previous = data.History.LastOrDefault(h => h.RunId != run.RunId && k is { } atK && h.Metrics.ContainsKey(MetricNames.ModelRecall(atK)));
        html.Append("<h2>Headline</h2>\n<div class=\"cols\">\n<table class=\"kv\">\n");
        Row(html, "status", run.Status);
        Row(html, "started (UTC)", run.StartedUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        Row(html, "finished (UTC)", run.FinishedUtc?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        Row(html, "duration", ReportCharts.Sec(data.Metric(MetricNames.TotalSeconds) ?? run.Seconds));
        Row(html, "input rows in window", ReportCharts.Count(run.InputRows));
        Row(html, "users × items", $"{ReportCharts.Count(run.Users)} × {ReportCharts.Count(run.Items)}");
        Row(html, "(user, item) pairs", ReportCharts.Count(data.Metric(MetricNames.InputPairs)));
        Row(html, "output rows (users)", $"{ReportCharts.Count(data.Metric(MetricNames.OutputRows))} ({ReportCharts.Count(data.Metric(MetricNames.OutputUsers))})");
        Row(html, "input files (pruned, skipped)",
            $"{ReportCharts.Count(data.Metric(MetricNames.InputFiles))} ({ReportCharts.Count(data.Metric(MetricNames.InputFilesPruned))}, {ReportCharts.Count(data.Metric(MetricNames.InputFilesSkipped))})");
        Row(html, "retrieval", (data.Metric(MetricNames.IndexNprobe) is { } nprobe
            ? $"IVF, nlist {ReportCharts.Count(data.Metric(MetricNames.IndexNlist))}, nprobe {ReportCharts.Count(nprobe)}, recall {ReportCharts.Count(data.Metric(MetricNames.IndexRecallMean))} (p5 {ReportCharts.Count(data.Metric(MetricNames.IndexRecallP5))})"
            : data.Metric(MetricNames.IndexExact) == 1 ? "exact" : data.Setting("index") ?? "–")
            + (data.Metric(MetricNames.IndexExactEstimateSeconds) is { } estimate
                ? $"; index=auto: exact estimated at {ReportCharts.Sec(estimate)} against a budget of {ReportCharts.Sec(data.Metric(MetricNames.IndexExactBudgetSeconds))}"
                : ""));
        if (data.Metric(MetricNames.ListsUsersModel) is { } modelUsers)
            Row(html, "lists by source", $"als {ReportCharts.Count(modelUsers)}, popular {ReportCharts.Count(data.Metric(MetricNames.ListsUsersPopular))}"
                + $" (by segment {ReportCharts.Count(data.Metric(MetricNames.ListsUsersPopularSegment))}); short lists {ReportCharts.Count(data.Metric(MetricNames.ListsShort))}");
        if (data.Metric(MetricNames.RulesCandidatesRemoved) is { } removed)
            Row(html, "candidates the rules removed", $"{ReportCharts.Count(removed)} (category cap {ReportCharts.Count(data.Metric(MetricNames.RulesCategoryRemoved))});"
                + $" banned items {ReportCharts.Count(data.Metric(MetricNames.RulesBannedItems))}, unavailable {ReportCharts.Count(data.Metric(MetricNames.RulesUnavailableItems))},"
                + $" per-user exclusions {ReportCharts.Count(data.Metric(MetricNames.RulesExcludedPairs))}");
        html.Append("</table>\n");

        html.Append($"<table class=\"metrics\">\n<tr><th>metric @{(k is null ? "K" : k.Value.ToString(CultureInfo.InvariantCulture))}</th><th>model</th><th>popular</th><th>lift</th><th>model, previous run{(previous is null ? "" : $" ({previous.RunDate:MM-dd})")}</th></tr>\n");
        if (k is not { } kk || data.Metric(MetricNames.ModelRecall(kk)) is null)
            html.Append("<tr><td colspan=\"5\" class=\"absent\">no evaluation metrics in this run</td></tr>\n");
        else
            foreach (var name in MetricNames.Headline)
            {
                if (data.Metric(MetricNames.Model(name, kk)) is not { } model) continue;
                double? pop = data.Metric(MetricNames.Popular(name, kk));
                double? prev = previous?.Metrics.TryGetValue(MetricNames.Model(name, kk), out var pv) == true ? pv : null;
                string lift = pop is > 0 && name is not (MetricNames.Gini or MetricNames.MeanPopularityRank) ? "×" + (model / pop.Value).ToString("0.00", CultureInfo.InvariantCulture) : "";
                string change = prev is { } p ? $"{F(p)} <span class=\"{(model >= p ? "up" : "down")}\">({(model - p >= 0 ? "+" : "−")}{F(Math.Abs(model - p))})</span>" : "–";
                html.Append($"<tr><td>{E(name)}</td><td class=\"n\">{F(model)}</td><td class=\"n\">{(pop is null ? "–" : F(pop.Value))}</td><td class=\"n\">{lift}</td><td class=\"n\">{change}</td></tr>\n");
            }
        html.Append("</table>\n</div>\n");
    }

    private static void Settings(StringBuilder html, ReportData data)
    {
        html.Append("<h2>Settings</h2>\n");
        if (data.Settings.Count == 0)
        {
            html.Append("<p class=\"absent\">No settings were recorded for this run.</p>\n");
            return;
        }
        html.Append("<table class=\"settings\">\n");
        var items = data.Settings.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        const int Columns = 3;
        int rows = (items.Count + Columns - 1) / Columns;
        for (int r = 0; r < rows; r++)
        {
            html.Append("<tr>");
            for (int c = 0; c < Columns; c++)
            {
                int i = c * rows + r;
                html.Append(i < items.Count ? $"<th>{E(items[i].Key)}</th><td>{E(items[i].Value)}</td>" : "<th></th><td></td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
    }

    private static void Row(StringBuilder html, string name, string? value) =>
        html.Append($"<tr><th>{E(name)}</th><td>{E(value ?? "–")}</td></tr>\n");

    private static string F(double v) => Math.Abs(v) >= 100 ? v.ToString("#,0.0", CultureInfo.InvariantCulture) : v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string StatusClass(string status) => status switch { "succeeded" => "ok", "running" => "running", _ => "bad" };

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private const string Css = """
        body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; margin: 20px 24px; color: #222; background: #fff; }
        h1 { font-size: 26px; margin: 0 0 4px 0; }
        h2 { font-size: 20px; margin: 28px 0 10px 0; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        h3 { font-size: 16px; margin: 0 0 6px 0; }
        .sub { color: #555; margin: 0; }
        code { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; }
        .status { font-size: 15px; padding: 3px 10px; border-radius: 12px; vertical-align: middle; color: #fff; }
        .status.ok { background: #2e7d32; } .status.bad { background: #c62828; } .status.running { background: #f9a825; }
        .reason { margin: 14px 0; padding: 10px 14px; border-radius: 6px; }
        .reason.bad { background: #fdecea; border: 1px solid #f5c2c0; } .reason.ok, .reason.running { background: #fff8e1; border: 1px solid #ffe0a3; }
        .cols { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; }
        table.kv th { color: #555; font-weight: normal; }
        table.metrics th { background: #f5f5f5; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; }
        .up { color: #2e7d32; } .down { color: #c62828; }
        .grid { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        figure.chart { margin: 0; padding: 10px; border: 1px solid #e3e3e3; border-radius: 6px; width: 600px; box-sizing: content-box; }
        figure.missing { background: #fafafa; }
        figcaption { font-size: 13px; color: #444; margin-top: 6px; line-height: 1.35; }
        .absent { color: #777; font-style: italic; font-size: 14px; }
        table.settings { font-size: 13px; }
        table.settings th { color: #555; font-weight: normal; }
        footer { margin-top: 30px; font-size: 12px; color: #777; }
        """;
}
