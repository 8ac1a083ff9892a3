using System.Text;
using System.Xml.Linq;
using DuckDB.NET.Data;

namespace BatchRecs.Notebooks.Tests;

/// <summary>
/// Every code cell of every notebook in <c>notebooks/</c> runs against a fresh demo lake, so the notebooks never rot:
/// a renamed column, a dropped view or a broken helper fails here, naming the notebook and the cell.
/// </summary>
public sealed class NotebookTests(DemoLakeFixture lake) : IClassFixture<DemoLakeFixture>
{
    private static IReadOnlyList<string> NotebookNames() =>
        Directory.GetFiles(Path.Combine(DemoLakeFixture.RepositoryRoot, "notebooks"), "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    public static TheoryData<string> Notebooks() => new(NotebookNames());

    [Fact]
    public void The_analyst_notebooks_are_there()
    {
        var names = NotebookNames();
        Assert.True(names.Count >= 4, $"expected at least 4 notebooks in notebooks/, found: {string.Join(", ", names)}");
        foreach (var name in names)
            Assert.True(NotebookRunner.CodeCells(Path.Combine(DemoLakeFixture.RepositoryRoot, "notebooks", name)).Count >= 2, $"{name} has fewer than 2 C# cells.");
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Every_cell_runs_against_a_demo_lake(string notebook)
    {
        var runner = new NotebookRunner
        {
            // Jupyter starts a kernel in the notebook's folder; the notebooks find the lake through BATCHRECS_LAKE.
            WorkingDirectory = Path.Combine(DemoLakeFixture.RepositoryRoot, "notebooks"),
            ProvidedPackages = [new("DuckDB.NET.Data.Full", CentralVersion("DuckDB.NET.Data.Full"),
                [typeof(DuckDBConnection).Assembly.Location, typeof(DuckDB.NET.Native.NativeMethods).Assembly.Location])],
        };
        Environment.SetEnvironmentVariable("BATCHRECS_LAKE", lake.Lake);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cells = await runner.RunAsync(Path.Combine(DemoLakeFixture.RepositoryRoot, "notebooks", notebook), cts.Token);

        if (cells.FirstOrDefault(c => c.Failed) is { } bad)
            Assert.Fail($"{notebook}, code cell {bad.Index} failed:\n{bad.Error}\n--- cell ---\n{bad.Code}");
        Assert.Equal(NotebookRunner.CodeCells(Path.Combine(DemoLakeFixture.RepositoryRoot, "notebooks", notebook)).Count, cells.Count);
        var shown = new StringBuilder();
        foreach (var c in cells) foreach (var o in c.Outputs) shown.AppendLine($"[cell {c.Index}] {o[..Math.Min(o.Length, 300)]}");
        Console.WriteLine($"{notebook}:\n{shown}");
        Assert.True(cells.Count(c => c.Outputs.Any(o => o.Length > 0)) >= 2, $"{notebook} showed almost nothing:\n{shown}");
    }

    private static string CentralVersion(string package) =>
        XDocument.Load(Path.Combine(DemoLakeFixture.RepositoryRoot, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == package).Attribute("Version")!.Value;
}
