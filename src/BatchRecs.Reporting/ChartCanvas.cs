using ScottPlot;

namespace BatchRecs.Reporting;

/// <summary>
/// The common look of the report's charts, and their export as inline SVG.
/// </summary>
/// <remarks>
/// ScottPlot measures text with SkiaSharp while laying out a plot, and silently draws no text when the font it
/// asks for is missing (PACKAGES.md). DejaVu Sans is the font this project installs (<c>fonts-dejavu-core</c>);
/// the SVG names it too, so the browser draws labels with the same metrics ScottPlot laid them out with.
/// </remarks>
internal static class ChartCanvas
{
    public const int Width = 600, Height = 340;

    public static readonly Color Model = Color.FromHex("#1f77b4");
    public static readonly Color Popular = Color.FromHex("#ff7f0e");
    public static readonly Color Third = Color.FromHex("#2ca02c");
    public static readonly Color Fourth = Color.FromHex("#9467bd");
    public static readonly Color Floor = Color.FromHex("#d62728");

    private static readonly Lock FontLock = new();

    public static Plot New(string xLabel, string yLabel)
    {
        EnsureFont();
        var plot = new Plot();
        plot.XLabel(xLabel, 14);
        plot.YLabel(yLabel, 14);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        return plot;
    }

    /// <summary>Category labels under the bottom axis at positions 0, 1, 2, ….</summary>
    public static void CategoryTicks(Plot plot, IReadOnlyList<string> labels)
    {
        var pos = Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(pos, labels.ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
    }

    /// <summary>Category labels beside the left axis (for horizontal bars).</summary>
    public static void CategoryTicksLeft(Plot plot, IReadOnlyList<string> labels)
    {
        var pos = Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(pos, labels.ToArray());
        plot.Axes.Left.MajorTickStyle.Length = 0;
    }

    /// <summary>
    /// Grouped bars: one group per category, one bar per series inside it, a legend naming the series.
    /// Each series' <c>Values</c> holds one value per category, in the order of <paramref name="categories"/>; a NaN leaves that bar out.
    /// </summary>
    public static void GroupedBars(Plot plot, IReadOnlyList<string> categories, IReadOnlyList<(string Name, Color Color, double[] Values)> series,
        Func<double, string>? valueLabel = null)
    {
        double width = 0.8 / series.Count;
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (int c = 0; c < categories.Count; c++)
            {
                double v = series[s].Values[c];
                if (!double.IsFinite(v)) continue;
                bars.Add(new Bar
                {
                    Position = c - 0.4 + width * (s + 0.5),
                    Value = v,
                    Size = width * 0.92,
                    FillColor = series[s].Color,
                    LineWidth = 0,
                    Label = valueLabel?.Invoke(v) ?? "",
                });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s].Name;
            plottable.ValueLabelStyle.FontSize = 11;
        }
        CategoryTicks(plot, categories);
        double max = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimits(-0.5, categories.Count - 0.5, 0, max * 1.12);
        if (series.Count > 1) plot.ShowLegend(Edge.Top);
    }

    /// <summary>The plot as an <c>&lt;svg&gt;</c> element for inlining into HTML (no XML declaration).</summary>
    public static string ToSvg(Plot plot, int width = Width, int height = Height)
    {
        string svg = plot.GetSvgXml(width, height);
        int start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start > 0 ? svg[start..] : svg;
    }

    private static void EnsureFont()
    {
        lock (FontLock)
        {
            if (Fonts.Default != "DejaVu Sans") Fonts.Default = "DejaVu Sans";
        }
    }
}
