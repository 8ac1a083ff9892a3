using System.Text.RegularExpressions;
using BatchRecs.Reporting;

namespace BatchRecs.Reporting.Tests;

public class RunReportTests(ReportLakeFixture lake) : IClassFixture<ReportLakeFixture>
{
    [Fact]
    public void The_report_of_an_evaluated_run_sits_under_reports_outside_the_served_partition_and_draws_every_chart()
    {
        Assert.Equal(Path.Combine(lake.Lake, "reports", lake.EvaluatedRun + ".html"), lake.EvaluatedReport);
        // The served partition holds exactly what its manifest lists: nothing is written into it after the swap.
        string partition = Path.Combine(lake.Lake, "recommendations", "run_date=2026-05-01");
        var manifest = BatchRecs.Lake.Output.RunManifest.Read(Path.Combine(partition, "manifest.json"));
        Assert.Equal(manifest.Files.Select(f => f.Name).Concat(["_SUCCESS", "manifest.json"]).Order(), Directory.GetFiles(partition).Select(Path.GetFileName).Order());
        string html = File.ReadAllText(lake.EvaluatedReport);
        Assert.Contains(lake.EvaluatedRun, html);
        Assert.Contains("succeeded", html);
        foreach (var (id, title) in ReportCharts.All)
        {
            string figure = Figure(html, id);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(title), figure);
            Assert.True(Regex.Matches(figure, "<svg").Count == 1, $"chart '{id}' should hold one inline SVG:\n{figure[..Math.Min(400, figure.Length)]}");
            // ScottPlot laid the labels out with DejaVu Sans; the SVG must name it and carry real text.
            Assert.Matches("<text[^>]*font-family=\"DejaVu Sans\"[^>]*>\\s*\\S", figure);
        }
        Assert.Equal(ReportCharts.All.Count, Regex.Matches(html, "<svg").Count);
        // The trend has both evaluated runs; the headline compares with the previous one.
        Assert.Contains("The last 2 evaluated run(s)", Figure(html, "trend"));
        Assert.Contains("previous run (04-30)", html);
        // The 05-01 run read the served 04-30 lists' feedback: its estimate is drawn with the observed CTR.
        Assert.Contains("the latest estimate", Figure(html, "ope"));
        // Headline numbers and settings.
        foreach (var s in new[] { "recall", "ndcg", "coverage", "gini", "top_n", "holdout_fraction", "nprobe" }) Assert.Contains(s, html);
    }

    [Fact]
    public void The_report_is_self_contained()
    {
        string html = File.ReadAllText(lake.EvaluatedReport);
        Assert.DoesNotMatch("(src|href)\\s*=\\s*[\"']?(https?:)?//", html);
        Assert.DoesNotMatch("url\\((?!#)", html); // only references inside the SVG (clip paths)
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        // The only "http" left are the SVG/XLink namespace names, which browsers never fetch.
        var urls = Regex.Matches(html, "https?://[^\"'\\s<>]+").Select(m => m.Value).Distinct().Order().ToArray();
        Assert.All(urls, u => Assert.Contains(u, new[] { "http://www.w3.org/1999/xlink", "http://www.w3.org/2000/svg" }));
    }

    [Fact]
    public async Task Headless_chromium_renders_the_report_with_its_charts_and_their_text()
    {
        string png = Path.Combine(lake.Scratch, "report.png");
        await HeadlessChromium.ScreenshotAsync(lake.EvaluatedReport, png);
        var shot = ScreenshotPixels.Count(png);
        Assert.Equal((1400, 3000), (shot.Width, shot.Height));
        Assert.True(shot.NonWhiteFraction > 0.05, $"the screenshot is nearly blank: {shot}");
        Assert.True(shot.ChartBlue > 20_000 && shot.ChartOrange > 10_000, $"the charts' bars and lines are not on the screenshot: {shot}");

        // The same page with the charts' <text> removed: the difference in dark pixels is the ink of the charts'
        // labels, ticks and legends. Without a usable font it would be (close to) nothing.
        string noText = Path.Combine(lake.Scratch, "report-no-svg-text.html");
        File.WriteAllText(noText, Regex.Replace(File.ReadAllText(lake.EvaluatedReport), "<text[^>]*>.*?</text>", "", RegexOptions.Singleline));
        string pngNoText = Path.Combine(lake.Scratch, "report-no-svg-text.png");
        await HeadlessChromium.ScreenshotAsync(noText, pngNoText);
        var bare = ScreenshotPixels.Count(pngNoText);
        Assert.True(shot.Dark - bare.Dark > 15_000, $"the charts' text adds only {shot.Dark - bare.Dark} dark pixels: {shot} vs {bare}");
    }

    [Fact]
    public void A_run_without_evaluation_and_with_exact_retrieval_says_which_charts_it_cannot_draw_and_why()
    {
        string html = RunReport.Build(lake.Lake, lake.PlainRun);
        foreach (var id in new[] { "quality", "coverage", "ipw" })
            Assert.Contains("Not available: Evaluation is off for this run (holdout_fraction = 0)", Figure(html, id));
        Assert.Contains("settings tried", File.ReadAllText(lake.EvaluatedReport));
        Assert.Contains("Not available: This run used exact top-N (index = exact)", Figure(html, "index"));
        Assert.Contains("no evaluation metrics in this run", html);
        // What the run did record is still drawn: the refit's loss, stages, input, its long tail, and the earlier runs' trends.
        foreach (var id in new[] { "loss", "iteration-time", "stages", "input", "long-tail", "trend", "index-trend" })
            Assert.Contains("<svg", Figure(html, id));
        Assert.Contains("1 run(s) without evaluation metrics", Figure(html, "trend"));
    }

    [Fact]
    public async Task A_failed_run_gets_its_report_outside_the_published_partitions_with_its_reason()
    {
        string before = File.ReadAllText(lake.EvaluatedReport);
        var r = await ReportLakeFixture.Cli(0, "report", "--run", "latest", "--lake", lake.Lake);
        string path = Path.Combine(lake.Lake, "reports", lake.FailedRun + ".html");
        Assert.Contains(path, r.StdOut);
        string html = File.ReadAllText(path);
        Assert.Contains("status bad\">failed", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(lake.FailedReason), html);
        Assert.False(string.IsNullOrWhiteSpace(lake.FailedReason));
        Assert.Contains("Not available", Figure(html, "input"));
        Assert.False(File.Exists(Path.Combine(lake.Lake, "recommendations", "run_date=2026-05-03", "report.html")));
        Assert.Equal(before, File.ReadAllText(lake.EvaluatedReport));
    }

    [Fact]
    public async Task An_unknown_run_or_lake_is_a_clear_error()
    {
        var r = await ReportLakeFixture.Cli(2, "report", "--run", "no-such-run", "--lake", lake.Lake);
        Assert.Contains("run 'no-such-run' is not in the runs table", r.StdErr);
        var missing = await ReportLakeFixture.Cli(2, "report", "--run", "latest", "--lake", Path.Combine(lake.Scratch, "nowhere"));
        Assert.Contains("no run database", missing.StdErr);
    }

    [Fact]
    public async Task The_out_option_writes_where_asked()
    {
        string path = Path.Combine(lake.Scratch, "custom", "plain.html");
        await ReportLakeFixture.Cli(0, "report", "--run", lake.PlainRun, "--lake", lake.Lake, "--out", path);
        Assert.Contains(lake.PlainRun, File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    private static string Figure(string html, string id)
    {
        var m = Regex.Match(html, $"<figure id=\"chart-{Regex.Escape(id)}\"[^>]*>(.*?)</figure>", RegexOptions.Singleline);
        Assert.True(m.Success, $"no chart '{id}' in the report");
        return m.Groups[1].Value;
    }
}
