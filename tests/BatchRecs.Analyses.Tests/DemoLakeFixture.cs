namespace BatchRecs.Analyses.Tests;

/// <summary>
/// A small demo lake made with the real CLI, once per test run: a synthetic log, two nightly runs on consecutive dates
/// (so list changes have yesterday to compare with) and a failed run (a night whose input window is empty), as a lake
/// looks after a few nights. Tests that might write copy it first (<see cref="CopyLake"/>).
/// </summary>
public sealed class DemoLakeFixture : IAsyncLifetime
{
    public const string Yesterday = "2026-11-26";
    public const string Today = "2026-11-27";
    /// <summary>No input falls in this date's window, so its run fails (and is recorded) and publishes nothing.</summary>
    public const string FailedDate = "2026-12-31";

    /// <summary>Retention counts from the wall clock: the fixed dates above must not age out when the tests run later.</summary>
    private const string KeepEverything = "retention_days=36500";

    private readonly TempDirectory _dir = new("batchrecs-analyses");

    public string Lake => _dir.Sub("lake");

    public string Catalog => Path.Combine(Lake, "batchrecs.duckdb");

    public static string RepositoryRoot { get; } = FindRoot();

    public async Task InitializeAsync()
    {
        string input = _dir.Sub("input");
        await Cli(0, "demo-data", "--out", input, "--users", "1500", "--items", "600", "--interactions", "40000", "--days", "30", "--end-date", Today);
        string job = Path.Combine(RepositoryRoot, "jobs", "nightly.json");
        foreach (var date in new[] { Yesterday, Today })
            await Cli(0, "run", "--input", input, "--lake", Lake, "--job", job, "--run-date", date, "--set", KeepEverything);
        await Cli(2, "run", "--input", input, "--lake", Lake, "--job", job, "--run-date", FailedDate, "--allow-future-date", "--set", KeepEverything);
    }

    /// <summary>A private copy of the lake (every file, hidden ones too) for a test that must not touch the shared one.</summary>
    public TempDirectory CopyLake()
    {
        var copy = new TempDirectory("batchrecs-lake-copy");
        foreach (var file in Directory.EnumerateFiles(Lake, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy.Path, Path.GetRelativePath(Lake, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    private static async Task Cli(int expectedExit, params string[] args)
    {
        var r = await CliProcess.RunAsync(args);
        if (r.ExitCode != expectedExit)
            throw new InvalidOperationException($"batchrecs {string.Join(' ', args)} exited with {r.ExitCode}, expected {expectedExit}:\n{r.StdOut}\n{r.StdErr}");
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

/// <summary>Every test class of this assembly shares one demo lake; the classes run one after another (2-core machines).</summary>
[CollectionDefinition(Name)]
public sealed class DemoLakeCollection : ICollectionFixture<DemoLakeFixture>
{
    public const string Name = "demo lake";
}
