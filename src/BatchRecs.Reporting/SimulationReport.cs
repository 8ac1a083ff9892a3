using System.Globalization;
using System.Net;
using BatchRecs.Engine.Simulation;
using ScottPlot;

namespace BatchRecs.Reporting;

/// <summary>
/// The report of <c>batchrecs simulate</c>: one self-contained HTML page (<c>DIR/report.html</c>) with the two policies'
/// curves night by night — true CTR of the published lists and of the model's own slots, Gini of the slots over items,
/// catalogue coverage, and the explore policy's off-policy estimate with its interval against the true CTR.
/// </summary>
public static class SimulationReport
{
    public static string Write(string outDir, IReadOnlyList<NightResult> nights)
    {
        var charts = new List<(string Title, string Svg, string Caption)>
        {
            Chart("True CTR of the published lists", "true CTR", nights, r => r.TrueCtr,
                "Expected clicks per slot under the hidden truth (relevance × position examination)."),
            Chart("True CTR of the model's own slots", "true CTR (model slots)", nights, r => r.TrueCtrModel,
                "Exploration slots left out: does what the model learns from exploration make its own slots better?"),
            Chart("Gini of list slots over items", "Gini", nights, r => r.Gini,
                "Concentration of the published slots on few items: rising night over night is the feedback loop."),
            Chart("Catalogue coverage", "items in some list / items", nights, r => r.Coverage, "Share of the catalogue any list shows."),
            Ope(nights),
        };
        string path = Path.Combine(outDir, "report.html");
        using var w = new StreamWriter(path);
        w.WriteLine("<!doctype html><html><head><meta charset=\"utf-8\"><title>batchrecs simulate</title>");
        w.WriteLine("<style>body{font-family:'DejaVu Sans',sans-serif;max-width:1260px;margin:1em auto}figure{display:inline-block;margin:8px}figcaption{max-width:600px;font-size:13px}</style></head><body>");
        w.WriteLine($"<h1>Closed-loop simulation: {nights.Select(n => n.Night).DefaultIfEmpty(0).Max()} nights, baseline vs explore</h1>");
        w.WriteLine("<p>baseline: explore_slots=0, debias=none. explore: explore_slots=2, propensity=logged, debias=ipw-train. Same world, organic traffic and click seeds.</p>");
        w.WriteLine("<ul>" + string.Concat(SimulationVerdict.Of(nights).Lines().Select(l => $"<li>{WebUtility.HtmlEncode(l)}</li>")) + "</ul>");
        foreach (var (title, svg, caption) in charts)
            w.WriteLine($"<figure><h3>{WebUtility.HtmlEncode(title)}</h3>{svg}<figcaption>{WebUtility.HtmlEncode(caption)}</figcaption></figure>");
        w.WriteLine("</body></html>");
        return path;
    }

    private static (string, string, string) Chart(string title, string y, IReadOnlyList<NightResult> nights, Func<NightResult, double> value, string caption)
    {
        var plot = ChartCanvas.New("night", y);
        foreach (var (policy, color) in new[] { ("baseline", ChartCanvas.Popular), ("explore", ChartCanvas.Model) })
        {
            var rows = nights.Where(n => n.Policy == policy).OrderBy(n => n.Night).ToList();
            if (rows.Count == 0) continue;
            var line = plot.Add.Scatter(rows.Select(r => (double)r.Night).ToArray(), rows.Select(value).ToArray(), color);
            line.LegendText = policy;
        }
        plot.ShowLegend(Alignment.LowerRight);
        return (title, ChartCanvas.ToSvg(plot), caption);
    }

    private static (string, string, string) Ope(IReadOnlyList<NightResult> nights)
    {
        var rows = nights.Where(n => n.Policy == "explore" && n.OpeCtr is not null).OrderBy(n => n.Night).ToList();
        var plot = ChartCanvas.New("night", "CTR");
        if (rows.Count > 0)
        {
            double[] x = rows.Select(r => (double)r.Night).ToArray();
            var band = plot.Add.FillY(x, rows.Select(r => r.OpeCtrLow!.Value).ToArray(), rows.Select(r => r.OpeCtrHigh!.Value).ToArray());
            band.FillStyle.Color = ChartCanvas.Model.WithAlpha(0.2);
            band.LegendText = "OPE 95 % interval";
            plot.Add.Scatter(x, rows.Select(r => r.OpeCtr!.Value).ToArray(), ChartCanvas.Model).LegendText = "OPE estimate (doubly robust)";
            plot.Add.Scatter(x, rows.Select(r => r.OpeTrueCtr ?? double.NaN).ToArray(), ChartCanvas.Floor).LegendText = "true CTR of the judged lists";
            plot.Add.Scatter(x, rows.Select(r => r.TrueCtrModel).ToArray(), ChartCanvas.Popular).LegendText = "true CTR of the night's model slots";
            plot.ShowLegend(Alignment.LowerRight);
        }
        var verdict = SimulationVerdict.Of(nights);
        string caption = verdict.OpeJudged == 0 ? "No night had earlier feedback to estimate from."
            : string.Create(CultureInfo.InvariantCulture, $"The explore policy's estimate, made from the last ope_days of feedback only, of the lists its model would have shown in each served list's context (what it estimates, so what it is judged against). The interval covers their true CTR on {verdict.OpeCovered} of {verdict.OpeJudged} nights; mean relative error {verdict.OpeMeanError:P1}. The night's own model slots are shown for reference.");
        return ("Off-policy estimate vs true CTR (explore)", ChartCanvas.ToSvg(plot), caption);
    }
}
