using System.Globalization;
using BatchRecs.Lake.Output;
using ScottPlot;

namespace BatchRecs.Reporting;

/// <summary>One chart of the report: an inline SVG, or (when the run did not record what it needs) a note saying why not.</summary>
/// <param name="Id">stable id (the HTML element is <c>chart-ID</c>).</param>
/// <param name="Note">below the chart: how to read it; in place of the chart: why it is missing.</param>
/// <param name="Title">the chart's heading.</param>
/// <param name="Svg">the chart as an inline <c>&lt;svg&gt;</c>, or null when it could not be drawn.</param>
public sealed record ReportChart(string Id, string Title, string? Svg, string Note)
{
    public bool Drawn => Svg is not null;
}

/// <summary>
/// The report's charts, each a function of <see cref="ReportData"/> alone. A chart whose metrics the run did not
/// record (evaluation off with <c>holdout_fraction = 0</c>, <c>index = exact</c>, a run that failed early) becomes a
/// note naming what is missing and why, never an empty or misleading plot.
/// </summary>
public static class ReportCharts
{
    // Each chart's id and title, named so that every chart function finds its own (never by position).
    private static readonly (string Id, string Title) LossChart = ("loss", "Training loss per iteration");
    private static readonly (string Id, string Title) IterationTimeChart = ("iteration-time", "Time per iteration");
    private static readonly (string Id, string Title) QualityChart = ("quality", "Model vs popularity baseline");
    private static readonly (string Id, string Title) TrendChart = ("trend", "Quality over the last runs");
    private static readonly (string Id, string Title) IndexChart = ("index", "IVF index: recall of the chosen nprobe");
    private static readonly (string Id, string Title) IndexTrendChart = ("index-trend", "IVF index: recall vs search time, last runs");
    private static readonly (string Id, string Title) LongTailChart = ("long-tail", "Long tail: item popularity in the input vs in the lists");
    private static readonly (string Id, string Title) CoverageChart = ("coverage", "Catalogue coverage and Gini");
    private static readonly (string Id, string Title) IpwChart = ("ipw", "IPW effect: plain vs unbiased metrics");
    private static readonly (string Id, string Title) StagesChart = ("stages", "Stage timings");
    private static readonly (string Id, string Title) InputChart = ("input", "Input volume per day");
    private static readonly (string Id, string Title) TuningChart = ("tuning", "Tuning: the search behind these settings");
    private static readonly (string Id, string Title) OpeChart = ("ope", "Off-policy estimate on served feedback, last runs");

    /// <summary>Ids and titles of every chart, in report order.</summary>
    public static IReadOnlyList<(string Id, string Title)> All { get; } =
    [
        LossChart, IterationTimeChart, QualityChart, TrendChart, IndexChart, IndexTrendChart,
        LongTailChart, CoverageChart, IpwChart, StagesChart, InputChart, TuningChart, OpeChart,
    ];

    public static IReadOnlyList<ReportChart> Build(ReportData data)
    {
        int? k = ListLength(data);
        return
        [
            Loss(data), IterationTime(data), Quality(data, k), Trend(data, k), Index(data), IndexTrend(data),
            LongTail(data), Coverage(data, k), Ipw(data, k), Stages(data), Input(data), Tuning(data), Ope(data),
        ];
    }

    /// <summary>K of the @K metrics: the run's <c>top_n</c>, or the K its recorded metrics carry.</summary>
    public static int? ListLength(ReportData data)
    {
        if (int.TryParse(data.Setting("top_n"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && data.Metric(MetricNames.ModelRecall(n)) is not null)
            return n;
        foreach (var name in data.Metrics.Keys.Order(StringComparer.Ordinal))
            if (MetricNames.TryParseAtK(name, MetricNames.ModelRanker, MetricNames.Recall, out int k)) return k;
        return n > 0 ? n : null;
    }

    private static ReportChart Loss(ReportData data)
    {
        var (id, title) = LossChart;
        var evalFit = Series(data, StageNames.FitEval, MetricNames.LossField);
        var fit = Series(data, StageNames.Fit, MetricNames.LossField);
        if (evalFit.Count == 0 && fit.Count == 0)
            return Missing(id, title, "No per-iteration loss was recorded (the run failed before fitting, or ran on a version that did not record fit.iterNNN.loss).");
        var plot = ChartCanvas.New("iteration", "training loss");
        AddLine(plot, evalFit, "evaluated fit (training split)", ChartCanvas.Model);
        AddLine(plot, fit, "refit (whole window, warm start)", ChartCanvas.Popular);
        plot.ShowLegend(Alignment.UpperRight);
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot), evalFit.Count > 0 && fit.Count > 0
            ? "The loss should fall and flatten. The two fits see different data (the refit adds the held-out pairs), so their levels differ; the refit starts from the evaluated fit's factors."
            : "The loss should fall and flatten." + (evalFit.Count == 0 ? " Evaluation was off, so the refit on the whole window is the only fit and starts from random factors." : ""));
    }

    private static ReportChart IterationTime(ReportData data)
    {
        var (id, title) = IterationTimeChart;
        var evalFit = Series(data, StageNames.FitEval, MetricNames.SecondsField);
        var fit = Series(data, StageNames.Fit, MetricNames.SecondsField);
        if (evalFit.Count == 0 && fit.Count == 0)
            return Missing(id, title, "No per-iteration time was recorded (fit_eval.iterNNN.seconds, fit.iterNNN.seconds).");
        var plot = ChartCanvas.New("iteration", "milliseconds");
        AddLine(plot, evalFit.Select(p => (p.X, p.Y * 1000)).ToList(), "evaluated fit", ChartCanvas.Model);
        AddLine(plot, fit.Select(p => (p.X, p.Y * 1000)).ToList(), "refit", ChartCanvas.Popular);
        plot.Axes.SetLimitsY(0, evalFit.Concat(fit).Max(p => p.Y) * 1000 * 1.15);
        plot.ShowLegend(Alignment.UpperRight);
        string mean = string.Join("; ", new[] { ("evaluated fit", evalFit), ("refit", fit) }
            .Where(s => s.Item2.Count > 0).Select(s => $"{s.Item1} {Ms(s.Item2.Average(p => p.Y))} per iteration"));
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot), $"Wall time of each ALS iteration (both half-steps and the loss). Mean: {mean}.");
    }

    private static ReportChart Quality(ReportData data, int? k)
    {
        var (id, title) = QualityChart;
        if (k is not { } kk || data.Metric(MetricNames.ModelRecall(kk)) is null)
            return Missing(id, title, NoEvaluation(data));
        string[] names = [MetricNames.Recall, MetricNames.Ndcg, MetricNames.Map, MetricNames.HitRate];
        var present = names.Where(n => data.Metric(MetricNames.Model(n, kk)) is not null).ToArray();
        var plot = ChartCanvas.New("", "value on held-out pairs");
        ChartCanvas.GroupedBars(plot, present.Select(n => $"{Label(n)}@{k}").ToArray(),
        [
            ("ALS model", ChartCanvas.Model, present.Select(n => data.Metric(MetricNames.Model(n, kk)) ?? double.NaN).ToArray()),
            ("popularity baseline", ChartCanvas.Popular, present.Select(n => data.Metric(MetricNames.Popular(n, kk)) ?? double.NaN).ToArray()),
        ], v => v.ToString("0.000", CultureInfo.InvariantCulture));
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"Each user's latest pairs were held out ({Count(data.Metric(MetricNames.EvalHeldOutPairs))} pairs of {Count(data.Metric(MetricNames.EvalUsers))} users); both rankers were scored on them at K = {k}.");
    }

    private static ReportChart Trend(ReportData data, int? k)
    {
        var (id, title) = TrendChart;
        if (k is not { } kk) return Missing(id, title, NoEvaluation(data));
        var points = data.History.Where(h => h.Metrics.ContainsKey(MetricNames.ModelRecall(kk))).ToList();
        if (points.Count == 0)
            return Missing(id, title, $"No run of job '{data.Run.Job}' up to this one recorded {MetricNames.ModelRecall(kk)}.");
        var plot = ChartCanvas.New("run date (oldest left)", $"value @{k}");
        var xs = Enumerable.Range(0, points.Count).Select(i => (double)i).ToArray();
        (string Metric, string Name, Color Color, bool Dashed)[] lines =
        [
            (MetricNames.ModelRecall(kk), "model recall", ChartCanvas.Model, false),
            (MetricNames.ModelNdcg(kk), "model NDCG", ChartCanvas.Third, false),
            (MetricNames.Popular(MetricNames.Recall, kk), "popular recall", ChartCanvas.Popular, true),
            (MetricNames.PopularNdcg(kk), "popular NDCG", ChartCanvas.Fourth, true),
        ];
        foreach (var (metric, name, color, dashed) in lines)
        {
            var line = points.Select((p, i) => (X: xs[i], Y: p.Metrics.TryGetValue(metric, out var v) ? v : double.NaN))
                .Where(p => double.IsFinite(p.Y)).ToList();
            if (line.Count == 0) continue;
            if (AddLine(plot, line, name, color) is { } s && dashed) s.MarkerShape = MarkerShape.OpenSquare;
        }
        int current = points.FindIndex(p => p.RunId == data.Run.RunId);
        if (current >= 0)
        {
            var v = plot.Add.VerticalLine(current);
            v.LineColor = Colors.Gray.WithAlpha(0.5);
            v.LegendText = "this run";
        }
        ChartCanvas.CategoryTicks(plot, Thin(points.Select(p => p.RunDate.ToString("MM-dd", CultureInfo.InvariantCulture)).ToArray(), 8));
        double top = points.SelectMany(p => lines.Select(l => p.Metrics.GetValueOrDefault(l.Metric, 0))).Max();
        plot.Axes.SetLimits(-0.5, Math.Max(points.Count - 0.5, 1.5), 0, Math.Max(top, 0.01) * 1.1);
        plot.ShowLegend(Edge.Bottom);
        int failed = data.History.Count - points.Count;
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"The last {points.Count} evaluated run(s) of job '{data.Run.Job}' up to this one (at most {RunReport.TrendRuns})" +
            (failed > 0 ? $"; {failed} run(s) without evaluation metrics (failed early or holdout off) are left out." : "."));
    }

    /// <summary>The doubly robust CTR estimate of each run's model on the feedback it read, with its interval, beside the CTR the served lists observed.</summary>
    private static ReportChart Ope(ReportData data)
    {
        var (id, title) = OpeChart;
        var (value, low, high) = MetricNames.OpeEstimate("dr_ctr");
        var points = data.History.Where(h => h.Metrics.ContainsKey(value) && h.Metrics.ContainsKey(MetricNames.OpeLoggedCtr)).ToList();
        if (points.Count == 0)
            return Missing(id, title, data.Setting("feedback_input") is null or ""
                ? "No feedback_input: the runs had no served traffic to estimate their lists on."
                : $"No run of job '{data.Run.Job}' up to this one had feedback in its last ope_days to estimate on.");
        var plot = ChartCanvas.New("run date (oldest left)", "CTR");
        var xs = Enumerable.Range(0, points.Count).Select(i => (double)i).ToArray();
        for (int i = 0; i < points.Count; i++)
        {
            var interval = plot.Add.Line(xs[i], points[i].Metrics[low], xs[i], points[i].Metrics[high]);
            interval.LineColor = ChartCanvas.Model.WithAlpha(0.5);
            interval.LineWidth = 6;
            if (i == 0) interval.LegendText = "95 % interval";
        }
        AddLine(plot, points.Select((p, i) => (xs[i], p.Metrics[value])).ToList(), "estimate (doubly robust)", ChartCanvas.Model);
        AddLine(plot, points.Select((p, i) => (xs[i], p.Metrics[MetricNames.OpeLoggedCtr])).ToList(), "served lists' observed CTR", ChartCanvas.Popular);
        ChartCanvas.CategoryTicks(plot, Thin(points.Select(p => p.RunDate.ToString("MM-dd", CultureInfo.InvariantCulture)).ToArray(), 8));
        double top = points.Max(p => Math.Max(p.Metrics[high], p.Metrics[MetricNames.OpeLoggedCtr]));
        plot.Axes.SetLimits(-0.5, Math.Max(points.Count - 0.5, 1.5), 0, Math.Max(top, 0.01) * 1.15);
        plot.ShowLegend(Edge.Bottom);
        var last = points[^1];
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            "How each run's model would have done on the served lists of its last ope_days, judged in each list's own context (see Feedback and off-policy evaluation): " +
            FormattableString.Invariant($"the latest estimate {last.Metrics[value]:F4} (95 % {last.Metrics[low]:F4}–{last.Metrics[high]:F4}) against an observed {last.Metrics[MetricNames.OpeLoggedCtr]:F4}") +
            (data.Setting("ope_gate") == "true" ? "; ope_gate rejects a run whose interval ends below the observed CTR." : "; ope_gate is off."));
    }

    private static ReportChart Index(ReportData data)
    {
        var (id, title) = IndexChart;
        if (data.Metric(MetricNames.IndexRecallMean) is not { } mean)
            return Missing(id, title, NoIndex(data));
        double p5 = data.Metric(MetricNames.IndexRecallP5) ?? double.NaN;
        var plot = ChartCanvas.New("", "recall vs exact top-N (canary users)");
        ChartCanvas.GroupedBars(plot, ["mean over canary users", "5th percentile"],
            [("recall", ChartCanvas.Model, [mean, p5])], v => v.ToString("0.000", CultureInfo.InvariantCulture));
        if (double.TryParse(data.Setting("recall_floor"), NumberStyles.Float, CultureInfo.InvariantCulture, out double floor) && floor > 0)
        {
            var line = plot.Add.HorizontalLine(floor);
            line.LineColor = ChartCanvas.Floor;
            line.LegendText = $"recall_floor {floor.ToString("0.###", CultureInfo.InvariantCulture)}";
            plot.ShowLegend(Alignment.LowerRight);
        }
        plot.Axes.SetLimitsY(0, 1.1);
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"nlist {Count(data.Metric(MetricNames.IndexNlist))}, nprobe {Count(data.Metric(MetricNames.IndexNprobe))} (setting: {data.Setting("nprobe") ?? "?"}); " +
            $"{Percent(data.Metric(MetricNames.IndexFractionScored))} of the items scored per user; " +
            $"search {Sec(data.Metric(MetricNames.IndexSearchSeconds))}, build {Sec(data.Metric(MetricNames.IndexBuildSeconds))}, tuning {Sec(data.Metric(MetricNames.IndexTuneSeconds))}; " +
            $"recall measured on {Count(data.Metric(MetricNames.IndexCanaryUsers))} canary users against exact search.");
    }

    private static ReportChart IndexTrend(ReportData data)
    {
        var (id, title) = IndexTrendChart;
        var points = data.History.Where(h => h.Metrics.ContainsKey(MetricNames.IndexRecallMean) && h.Metrics.ContainsKey(MetricNames.IndexSearchSeconds)).ToList();
        if (points.Count == 0) return Missing(id, title, NoIndex(data));
        var plot = ChartCanvas.New("search time of the canary users (ms)", "mean recall");
        foreach (var (p, i) in points.Select((p, i) => (p, i)))
        {
            bool current = p.RunId == data.Run.RunId;
            double x = p.Metrics[MetricNames.IndexSearchSeconds] * 1000, y = p.Metrics[MetricNames.IndexRecallMean];
            var marker = plot.Add.Marker(x, y);
            marker.MarkerSize = current ? 12 : 8;
            marker.Color = current ? ChartCanvas.Floor : ChartCanvas.Model;
            if (current) marker.LegendText = "this run";
            var label = plot.Add.Text($"nprobe {Count(p.Metrics.GetValueOrDefault(MetricNames.IndexNprobe, double.NaN))} ({p.RunDate:MM-dd})", x, y);
            label.LabelFontSize = 11;
            label.LabelOffsetX = 8;
            label.LabelOffsetY = -8 + 14 * (i % 3); // close points (runs often differ little) get their labels staggered
        }
        double right = points.Max(p => p.Metrics[MetricNames.IndexSearchSeconds]) * 1000;
        double bottom = points.Min(p => p.Metrics[MetricNames.IndexRecallMean]);
        plot.Axes.SetLimits(0, right * 1.5, Math.Max(0, Math.Min(bottom - 0.05, 0.8)), 1.02);
        if (double.TryParse(data.Setting("recall_floor"), NumberStyles.Float, CultureInfo.InvariantCulture, out double floor) && floor > 0)
        {
            var line = plot.Add.HorizontalLine(floor);
            line.LineColor = ChartCanvas.Floor.WithAlpha(0.6);
            line.LegendText = $"recall_floor {floor.ToString("0.###", CultureInfo.InvariantCulture)} (this run's setting)";
        }
        plot.ShowLegend(Alignment.LowerLeft);
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            "What each run recorded for its auto-tuned nprobe: one point per run (the pipeline measures one nprobe per run, not a sweep).");
    }

    private static ReportChart LongTail(ReportData data)
    {
        var (id, title) = LongTailChart;
        if (data.LongTail is not { } tail)
            return Missing(id, title, "The lake no longer holds this run's item_propensity or recommendations rows (item popularity is kept for the newest run only), or the run published nothing.");
        var plot = ChartCanvas.New("items ranked by input popularity (top x % of items)", "share (%)");
        var labels = tail.Bins.Select((b, i) => i % 2 == 1 || tail.Bins.Count <= 10 ? $"{(100.0 * b.LastRank / tail.Items).ToString("0", CultureInfo.InvariantCulture)}%" : "").ToArray();
        ChartCanvas.GroupedBars(plot, labels,
        [
            ("input interactions", ChartCanvas.Popular, tail.Bins.Select(b => 100.0 * b.Interactions / Math.Max(1, tail.Interactions)).ToArray()),
            ("recommendation slots", ChartCanvas.Model, tail.Bins.Select(b => 100.0 * b.Slots / Math.Max(1, tail.Slots)).ToArray()),
        ]);
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"{tail.Items:N0} items ranked by their interactions in the input and cut into {tail.Bins.Count} groups of equal size, most popular left: each group's share of the input interactions beside its share of the recommendation slots. The lists use {tail.ItemsRecommended:N0} of them ({Percent((double)tail.ItemsRecommended / tail.Items)}); " +
            $"the top group holds {Percent((double)tail.Bins[0].Interactions / Math.Max(1, tail.Interactions))} of the interactions and {Percent((double)tail.Bins[0].Slots / Math.Max(1, tail.Slots))} of the slots.");
    }

    private static ReportChart Coverage(ReportData data, int? k)
    {
        var (id, title) = CoverageChart;
        if (k is not { } kk || (data.Metric(MetricNames.Model(MetricNames.Coverage, kk)) is null && data.Metric(MetricNames.Model(MetricNames.Gini, kk)) is null))
            return Missing(id, title, NoEvaluation(data));
        var plot = ChartCanvas.New("", "share of items / inequality");
        ChartCanvas.GroupedBars(plot, [$"coverage@{k}", $"Gini@{k}"],
        [
            ("ALS model", ChartCanvas.Model, [data.Metric(MetricNames.Model(MetricNames.Coverage, kk)) ?? double.NaN, data.Metric(MetricNames.Model(MetricNames.Gini, kk)) ?? double.NaN]),
            ("popularity baseline", ChartCanvas.Popular, [data.Metric(MetricNames.Popular(MetricNames.Coverage, kk)) ?? double.NaN, data.Metric(MetricNames.Popular(MetricNames.Gini, kk)) ?? double.NaN]),
        ], v => v.ToString("0.000", CultureInfo.InvariantCulture));
        plot.Axes.SetLimitsY(0, 1.15);
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            "Coverage: share of the catalogue that appears in some list (higher = more of the catalogue is shown). Gini: how unevenly the slots are spread over items (0 = evenly, 1 = all on one item). Measured on the evaluation lists.");
    }

    private static ReportChart Ipw(ReportData data, int? k)
    {
        var (id, title) = IpwChart;
        if (k is not { } kk || data.Metric(MetricNames.ModelRecall(kk)) is null)
            return Missing(id, title, NoEvaluation(data));
        string snips = MetricNames.Model(MetricNames.SnipsRecall, kk), ips = MetricNames.Model(MetricNames.IpsRecall, kk);
        if (data.Metric(snips) is null && data.Metric(ips) is null)
            return Missing(id, title, $"This run recorded no inverse-propensity-weighted metrics ({snips}, {ips}).");
        string[] kinds = [MetricNames.Recall, MetricNames.SnipsRecall, MetricNames.IpsRecall];
        var present = kinds.Where(n => data.Metric(MetricNames.Model(n, kk)) is not null).ToArray();
        var plot = ChartCanvas.New("", $"value @{k}");
        ChartCanvas.GroupedBars(plot, present.Select(n => n switch { MetricNames.Recall => "recall (plain)", MetricNames.SnipsRecall => "SNIPS recall", _ => "IPS recall" }).ToArray(),
        [
            ("ALS model", ChartCanvas.Model, present.Select(n => data.Metric(MetricNames.Model(n, kk)) ?? double.NaN).ToArray()),
            ("popularity baseline", ChartCanvas.Popular, present.Select(n => data.Metric(MetricNames.Popular(n, kk)) ?? double.NaN).ToArray()),
        ], v => v.ToString("0.000", CultureInfo.InvariantCulture));
        string lift = string.Join(", ", present
            .Where(n => data.Metric(MetricNames.Popular(n, kk)) is > 0)
            .Select(n => $"{n} ×{(data.Metric(MetricNames.Model(n, kk))!.Value / data.Metric(MetricNames.Popular(n, kk))!.Value).ToString("0.00", CultureInfo.InvariantCulture)}"));
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"Held-out hits weighted by 1/propensity (propensity: {data.Setting("propensity") ?? "?"}), so hits on rarely seen items count more. " +
            $"Model over baseline: {lift}. IPS is unnormalised and can exceed 1; SNIPS divides by the weights' sum.");
    }

    private static ReportChart Stages(ReportData data)
    {
        var (id, title) = StagesChart;
        var stages = data.Metrics
            .Select(m => (IsStage: MetricNames.TryParseStageSeconds(m.Key, out string stage) && m.Key != MetricNames.TotalSeconds, Stage: stage, Seconds: m.Value))
            .Where(s => s.IsStage).Select(s => (s.Stage, s.Seconds))
            .OrderBy(s => StageOrder(s.Stage)).ThenBy(s => s.Stage, StringComparer.Ordinal).ToList();
        if (stages.Count == 0)
            return Missing(id, title, "No stage timings (time.<stage>_s) were recorded: the run failed before its first stage finished.");
        var plot = ChartCanvas.New("seconds", "");
        // Horizontal bars, first stage on top.
        var bars = stages.Select((s, i) => new Bar
        {
            Position = stages.Count - 1 - i,
            Value = s.Seconds,
            FillColor = ChartCanvas.Model,
            LineWidth = 0,
            Label = Sec(s.Seconds),
        }).ToList();
        var plottable = plot.Add.Bars(bars);
        plottable.Horizontal = true;
        plottable.ValueLabelStyle.FontSize = 11;
        ChartCanvas.CategoryTicksLeft(plot, stages.Select(s => s.Stage).Reverse().ToArray());
        plot.Axes.SetLimits(0, stages.Max(s => s.Seconds) * 1.25, -0.5, stages.Count - 0.5);
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"Wall time per pipeline stage; the run took {Sec(data.Metric(MetricNames.TotalSeconds) ?? data.Run.Seconds)} in all (publish is timed after the metrics are stored, so it is not shown).");
    }

    private static ReportChart Input(ReportData data)
    {
        var (id, title) = InputChart;
        if (data.InputDays.Count == 0)
            return Missing(id, title, data.Run.Status == "succeeded"
                ? "The run's manifest.json is gone or belongs to a later run of the same date, so the per-day input is not known."
                : $"The run {data.Run.Status} and published no manifest, so the per-day input is not known (input rows in the runs table: {Count(data.Run.InputRows)}).");
        var plot = ChartCanvas.New("input day (dt= partition)", "rows read");
        var bars = data.InputDays.Select((d, i) => new Bar { Position = i, Value = d.Rows, FillColor = ChartCanvas.Model, LineWidth = 0 }).ToList();
        plot.Add.Bars(bars);
        ChartCanvas.CategoryTicks(plot, Thin(data.InputDays.Select(d => d.Day?.ToString("MM-dd", CultureInfo.InvariantCulture) ?? "undated").ToArray(), 8));
        plot.Axes.SetLimits(-0.5, data.InputDays.Count - 0.5, 0, data.InputDays.Max(d => d.Rows) * 1.1);
        var rows = data.InputDays.Select(d => d.Rows).ToArray();
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"{rows.Sum():N0} rows in {data.InputDays.Sum(d => d.Files)} file(s) over {data.InputDays.Count} day(s); per day min {rows.Min():N0}, max {rows.Max():N0}. A missing or unusually small day points at an upstream delivery problem.");
    }

    private static ReportChart Tuning(ReportData data)
    {
        var (id, title) = TuningChart;
        if (data.Tuning is not { } t || t.Trials.Count == 0)
            return Missing(id, title, "This run did not use tuned settings (no adopted `batchrecs tune` result for the job, or use_tuned=false).");
        var plot = ChartCanvas.New("rung (budget grows left to right)", t.Metric + " on the validation split");
        int rungs = t.Trials.Max(x => x.Rung) + 1;
        var xs = t.Trials.Select(x => x.Rung + 0.3 * ((x.Trial % 7) / 7.0 - 0.5)).ToArray();
        var scatter = plot.Add.ScatterPoints(xs, t.Trials.Select(x => x.Metric).ToArray());
        scatter.Color = ChartCanvas.Model;
        scatter.LegendText = "trial";
        var line = plot.Add.HorizontalLine(t.CurrentValue);
        line.Color = ChartCanvas.Popular;
        line.LegendText = "current settings";
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, rungs).Select(r => (double)r).ToArray(), Enumerable.Range(0, rungs).Select(r => $"rung {r}").ToArray());
        return new ReportChart(id, title, ChartCanvas.ToSvg(plot),
            $"Tuning {t.TuningId}: {t.Trials.Count(x => x.Rung == 0)} settings tried, the best of each rung continued (successive halving). " +
            $"Best {t.Metric} {t.TunedValue.ToString("0.0000", CultureInfo.InvariantCulture)} vs {t.CurrentValue.ToString("0.0000", CultureInfo.InvariantCulture)} for the settings it replaced" +
            $" ({(t.Adopted ? "adopted" : "not adopted")}); cost {t.CostInFits.ToString("0.0", CultureInfo.InvariantCulture)}× one full fit.");
    }

    private static ReportChart Missing(string id, string title, string why) => new(id, title, null, why);

    private static string NoEvaluation(ReportData data) =>
        data.Setting("holdout_fraction") is "0" or "0.0"
            ? "Evaluation is off for this run (holdout_fraction = 0), so there are no Recall/NDCG/coverage metrics."
            : $"The run recorded no evaluation metrics (status: {data.Run.Status}).";

    private static string NoIndex(ReportData data) =>
        data.Setting("index") is "exact"
            ? "This run used exact top-N (index = exact): every user was scored against every item, so there is no IVF recall to show."
            : data.Metric(MetricNames.IndexExact) == 1
            ? $"This run used exact top-N (index = auto: exact scoring was estimated at {Sec(data.Metric(MetricNames.IndexExactEstimateSeconds))}, within exact_budget_seconds): every user was scored against every item, so there is no IVF recall to show."
            : $"The run recorded no IVF index metrics ({MetricNames.IndexRecallMean}, {MetricNames.IndexSearchSeconds}; status: {data.Run.Status}).";

    /// <summary>The <c>STAGE.iterNNN.FIELD</c> metrics as (iteration, value), in iteration order.</summary>
    private static List<(double X, double Y)> Series(ReportData data, string stage, string field)
    {
        return data.Metrics
            .Select(m => (Ok: MetricNames.TryParseFitIteration(m.Key, stage, field, out int it), It: it, m.Value))
            .Where(t => t.Ok && double.IsFinite(t.Value))
            .OrderBy(t => t.It)
            .Select(t => ((double)t.It, t.Value))
            .ToList();
    }

    /// <summary>A line with markers; nothing (and no legend entry) for an empty series.</summary>
    private static ScottPlot.Plottables.Scatter? AddLine(Plot plot, List<(double X, double Y)> points, string name, Color color)
    {
        if (points.Count == 0) return null;
        var s = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
        s.LegendText = name;
        s.Color = color;
        s.LineWidth = 2;
        s.MarkerSize = 5;
        return s;
    }

    /// <summary>Leaves every n-th label (the others blank) so that about <paramref name="max"/> show side by side without overlapping.</summary>
    private static string[] Thin(string[] labels, int max)
    {
        int step = Math.Max(1, (int)Math.Ceiling(labels.Length / (double)max));
        return labels.Select((l, i) => i % step == 0 ? l : "").ToArray();
    }

    private static int StageOrder(string stage) => StageNames.InOrder.ToList().IndexOf(stage) is var i and >= 0 ? i : StageNames.InOrder.Count;

    private static string Label(string metric) => metric switch { MetricNames.Ndcg => "NDCG", MetricNames.Map => "MAP", MetricNames.HitRate => "hit rate", _ => metric };

    internal static string Count(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("#,0.##", CultureInfo.InvariantCulture) : "–";

    internal static string Percent(double? v) => v is { } x && double.IsFinite(x) ? (100 * x).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "–";

    internal static string Sec(double? v) => v switch
    {
        null => "–",
        < 1 => Ms(v.Value),
        _ => v.Value.ToString("0.00", CultureInfo.InvariantCulture) + " s",
    };

    private static string Ms(double seconds) => (seconds * 1000).ToString(seconds < 0.01 ? "0.00" : "0.#", CultureInfo.InvariantCulture) + " ms";
}
