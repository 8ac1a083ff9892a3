namespace BatchRecs.Notebooks.Tests;

/// <summary>
/// A small demo lake made with the real CLI: a synthetic log and two nightly runs on consecutive dates, so the
/// notebooks have tonight's run and yesterday's to compare. Built once for all notebooks.
/// </summary>
public sealed class DemoLakeFixture : IAsyncLifetime
{
    public const string Yesterday = "2026-11-26";
    public const string Today = "2026-11-27";

    private readonly TempDirectory _dir = new("batchrecs-notebooks");

    public string Lake => _dir.Sub("lake");

    public static string RepositoryRoot { get; } = FindRoot();

    public async Task InitializeAsync()
    {
        string input = _dir.Sub("input");
        await Cli("demo-data", "--out", input, "--users", "1500", "--items", "600", "--interactions", "40000", "--days", "30", "--end-date", Today);
        string job = Path.Combine(RepositoryRoot, "jobs", "nightly.json");
        foreach (var date in new[] { Yesterday, Today })
            await Cli("run", "--input", input, "--lake", Lake, "--job", job, "--run-date", date);
    }

    private static async Task Cli(params string[] args)
    {
        var r = await CliProcess.RunAsync(args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"batchrecs {string.Join(' ', args)} exited with {r.ExitCode}:\n{r.StdOut}\n{r.StdErr}");
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "BatchRecs.sln"))) return d.FullName;
        throw new InvalidOperationException($"BatchRecs.sln not found above {AppContext.BaseDirectory}.");
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
