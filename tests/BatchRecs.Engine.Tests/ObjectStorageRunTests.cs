namespace BatchRecs.Engine.Tests;

/// <summary>
/// Input on object storage, end to end through the real command line against a real Azurite blob service: demo-data
/// writes to az://, a run reads from it and publishes exactly what the same run on local files publishes.
/// </summary>
public sealed class ObjectStorageRunTests : IDisposable
{
    private readonly AzuriteServer _azurite = new();

    [Fact]
    public async Task A_run_reading_az_input_publishes_the_lists_of_the_same_run_on_local_files()
    {
        using var dir = new TempDirectory("batchrecs-az-input");
        string[] data = ["--users", "600", "--items", "200", "--interactions", "20000", "--days", "20", "--seed", "6", "--end-date", "2026-04-30"];
        var up = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, ["demo-data", "--out", "az://events/daily", .. data]);
        Assert.True(up.ExitCode == 0, up.StdErr);
        Assert.Contains("to az://events/daily", up.StdOut);
        Assert.Equal(0, (await CliProcess.RunAsync(["demo-data", "--out", dir.Sub("local"), .. data])).ExitCode);

        string[] run = ["run", "--run-date", "2026-05-01", "--set", "lookback_days=7", "--set", "retention_days=36500", "--set", "top_n=10", "--set", "quality_gate=false"];
        var remote = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, [.. run, "--input", "az://events/daily", "--lake", dir.Sub("lake-az")]);
        Assert.True(remote.ExitCode == 0, remote.StdErr);
        Assert.Equal(0, (await CliProcess.RunAsync([.. run, "--input", dir.Sub("local"), "--lake", dir.Sub("lake-local")])).ExitCode);

        const string lists = "SELECT count(*), sum(hash(user_id, item_id, rank, score)) FROM recommendations";
        var a = DuckQuery.Rows(lists, Path.Combine(dir.Sub("lake-az"), "batchrecs.duckdb"))[0];
        var b = DuckQuery.Rows(lists, Path.Combine(dir.Sub("lake-local"), "batchrecs.duckdb"))[0];
        Assert.True(Convert.ToInt64(a[0]) > 5000);
        Assert.Equal(b, a);
        // Only the window's 7 partitions were read; the other 13 were never listed. The manifest names the objects.
        string db = Path.Combine(dir.Sub("lake-az"), "batchrecs.duckdb");
        Assert.Equal(7, DuckQuery.Scalar("SELECT CAST(value AS BIGINT) FROM run_metrics WHERE metric = 'input.files'", db));
        Assert.Equal(13, DuckQuery.Scalar("SELECT CAST(value AS BIGINT) FROM run_metrics WHERE metric = 'input.files_pruned'", db));
        string manifest = await File.ReadAllTextAsync(Path.Combine(dir.Sub("lake-az"), "recommendations", "run_date=2026-05-01", "manifest.json"));
        Assert.Contains("az://events/daily/dt=2026-04-30/part-00000.parquet", manifest);
        Assert.DoesNotContain("AccountKey", manifest);
        Assert.DoesNotContain("AccountKey", remote.StdOut + remote.StdErr);

        // A side input on object storage: the most recommended item, banned through exclude_input=az://…, is in no list.
        long top = DuckQuery.Scalar("SELECT item_id FROM recommendations GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT 1", db);
        string bans = Path.Combine(dir.Path, "bans.parquet");
        DuckQuery.Rows($"COPY (SELECT {top}::BIGINT AS item_id) TO '{bans}' (FORMAT parquet)");
        var store = new BatchRecs.Lake.Storage.AzureBlobStore(new Azure.Storage.Blobs.BlobContainerClient(_azurite.ConnectionString, "events"));
        await using (var content = File.OpenRead(bans)) await store.WriteAsync("rules/bans.parquet", content);
        var banned = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, [.. run, "--input", "az://events/daily", "--lake", dir.Sub("lake-az"),
            "--set", "exclude_input=az://events/rules"]);
        Assert.True(banned.ExitCode == 0, banned.StdErr);
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{dir.Sub("lake-az")}/recommendations/run_date=2026-05-01/*.parquet') WHERE item_id = {top}"));
        Assert.Equal(1, DuckQuery.Scalar("SELECT CAST(value AS BIGINT) FROM run_metrics JOIN runs USING (run_id) WHERE metric = 'rules.banned_items' ORDER BY started_at DESC LIMIT 1", db));
    }

    [Fact]
    public async Task Bad_input_on_object_storage_names_the_object_and_nothing_published_is_touched()
    {
        using var dir = new TempDirectory("batchrecs-az-bad");
        string[] data = ["--users", "300", "--items", "100", "--interactions", "6000", "--days", "5", "--seed", "2", "--end-date", "2026-04-30"];
        Assert.Equal(0, (await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, ["demo-data", "--out", "az://bad/events", .. data])).ExitCode);
        string[] run = ["run", "--input", "az://bad/events", "--lake", dir.Sub("lake"), "--set", "lookback_days=5", "--set", "retention_days=36500", "--set", "quality_gate=false"];
        Assert.Equal(0, (await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, [.. run, "--run-date", "2026-05-01"])).ExitCode);
        string published = Path.Combine(dir.Sub("lake"), "recommendations", "run_date=2026-05-01");
        var before = Directory.GetFiles(published).Select(f => (f, File.ReadAllBytes(f).Length)).ToList();

        // A part that is not Parquet in a partition of the next window: the run fails naming the object.
        string corrupt = Path.Combine(dir.Path, "corrupt.parquet");
        await File.WriteAllTextAsync(corrupt, "this is not a parquet file");
        var store = new BatchRecs.Lake.Storage.AzureBlobStore(new Azure.Storage.Blobs.BlobContainerClient(_azurite.ConnectionString, "bad"));
        await using (var content = File.OpenRead(corrupt)) await store.WriteAsync("events/dt=2026-04-29/part-00009.parquet", content);
        var failed = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, [.. run, "--run-date", "2026-05-01"]);
        Assert.Equal(2, failed.ExitCode);
        Assert.Contains("az://bad/events/dt=2026-04-29/part-00009.parquet: not a readable Parquet file", failed.StdErr);
        Assert.Equal(before, Directory.GetFiles(published).Select(f => (f, File.ReadAllBytes(f).Length)).ToList());

        // reader=duckdb cannot read object storage: refused by name before anything is read.
        var duck = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, [.. run, "--run-date", "2026-05-02", "--set", "reader=duckdb"]);
        Assert.Equal(2, duck.ExitCode);
        Assert.Contains("reader=duckdb reads local files only", duck.StdErr);
        // The lake itself cannot be on object storage yet: refused before anything is written (no local "az:" folder).
        var lake = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, ["run", "--input", "az://bad/events", "--lake", "az://bad/lake",
            "--run-date", "2026-05-02", "--set", "lookback_days=5"]);
        Assert.Equal(2, lake.ExitCode);
        Assert.Contains("the lake 'az://bad/lake': the lake and items_input cannot be on object storage yet", lake.StdErr);
        Assert.False(Directory.Exists("az:"));
        // Without credentials the run says which variables it needs.
        var anonymous = await CliProcess.RunWithEnvironmentAsync(new Dictionary<string, string> { ["AZURE_STORAGE_CONNECTION_STRING"] = "", ["AZURE_STORAGE_ACCOUNT"] = "" },
            [.. run, "--run-date", "2026-05-02"]);
        Assert.Equal(2, anonymous.ExitCode);
        Assert.Contains("az:// locations need credentials: set AZURE_STORAGE_CONNECTION_STRING", anonymous.StdErr);
    }

    public void Dispose() => _azurite.Dispose();
}
