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

        // items_input as an object: downloaded for the publish (DuckDB loads it), its unavailable item in no list.
        string items = Path.Combine(dir.Path, "items.parquet");
        DuckQuery.Rows($"COPY (SELECT DISTINCT item_id, item_id <> {top} AS available, 'item ' || item_id AS title FROM read_parquet('{dir.Sub("local")}/dt=*/*.parquet')) TO '{items}' (FORMAT parquet)");
        await using (var content = File.OpenRead(items)) await store.WriteAsync("catalog/items.parquet", content);
        var withItems = await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, [.. run, "--input", "az://events/daily", "--lake", dir.Sub("lake-az"),
            "--set", "items_input=az://events/catalog/items.parquet"]);
        Assert.True(withItems.ExitCode == 0, withItems.StdErr);
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{dir.Sub("lake-az")}/recommendations/run_date=2026-05-01/*.parquet') WHERE item_id = {top}"));
        Assert.Equal(200, DuckQuery.Scalar("SELECT count(*) FROM items", db));
        Assert.False(Directory.Exists(Path.Combine(dir.Sub("lake-az"), "_scratch", "items")) && Directory.EnumerateFiles(Path.Combine(dir.Sub("lake-az"), "_scratch", "items")).Any());
    }

    /// <summary>The README's "demo night on Azurite": <c>demo --out az://…</c> writes its input there and publishes its lake there.</summary>
    [Fact]
    public async Task The_demo_night_runs_with_its_input_and_lake_in_object_storage()
    {
        using var dir = new TempDirectory("batchrecs-az-demo");
        var demo = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("cache")), ["demo", "--out", "az://demo/night", "--set", "quality_gate=false"]);
        Assert.True(demo.ExitCode == 0, demo.StdErr);
        Assert.Contains("days in az://demo/night/input", demo.StdOut);
        Assert.Contains("--lake az://demo/night/lake", demo.StdOut);
        var store = Container("demo");
        Assert.Contains(await store.ListAllAsync("night/input/"), o => o.Name.StartsWith("night/input/dt=", StringComparison.Ordinal));
        string day = (await store.ListLevelAsync("night/lake/recommendations/")).Folders.Single()["night/lake/recommendations/run_date=".Length..].TrimEnd('/');
        string run = await CompleteLatestRunAsync(store, day, "night/lake/");
        // The summary names where services read the run and the snapshot, not the working copy.
        Assert.Contains($"parquet   az://demo/night/lake/recommendations/run_date={day}/{run}/", demo.StdOut);
        Assert.Contains("duckdb    az://demo/night/lake/batchrecs.duckdb (snapshot; working copy ", demo.StdOut);
        // An analyst elsewhere queries it (the snapshot is downloaded into a working copy of their own).
        var sql = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("analyst")), ["sql", "--lake", "az://demo/night/lake", "SELECT run_id, status FROM runs"]);
        Assert.True(sql.ExitCode == 0, sql.StdErr);
        Assert.Contains(run, sql.StdOut);
        Assert.Contains("succeeded", sql.StdOut);
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
        // Without credentials the run says which variables it needs.
        var anonymous = await CliProcess.RunWithEnvironmentAsync(new Dictionary<string, string> { ["AZURE_STORAGE_CONNECTION_STRING"] = "", ["AZURE_STORAGE_ACCOUNT"] = "" },
            [.. run, "--run-date", "2026-05-02"]);
        Assert.Equal(2, anonymous.ExitCode);
        Assert.Contains("az:// locations need credentials: set AZURE_STORAGE_CONNECTION_STRING", anonymous.StdErr);
    }

    public void Dispose() => _azurite.Dispose();

    private Dictionary<string, string> Env(string cache) => new(_azurite.Environment) { ["BATCHRECS_LAKE_CACHE"] = cache };

    private BatchRecs.Lake.Storage.AzureBlobStore Container(string name) =>
        new(new Azure.Storage.Blobs.BlobContainerClient(_azurite.ConnectionString, name));

    /// <summary>The run _LATEST names for the date, after checking that its manifest's every part is there with its size and SHA-256.</summary>
    private static async Task<string> CompleteLatestRunAsync(BatchRecs.Lake.Storage.AzureBlobStore store, string date, string lake = "recs/")
    {
        string folder = $"{lake}recommendations/run_date={date}/";
        await using var latestStream = await store.OpenReadAsync(folder + "_LATEST");
        string runId = (await new StreamReader(latestStream).ReadToEndAsync()).Trim();
        await using var manifestStream = await store.OpenReadAsync($"{folder}{runId}/manifest.json");
        using var manifest = System.Text.Json.JsonDocument.Parse(manifestStream);
        Assert.Equal(runId, manifest.RootElement.GetProperty("run_id").GetString());
        var files = manifest.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            await using var part = await store.OpenReadAsync($"{folder}{runId}/{f.GetProperty("name").GetString()}");
            var bytes = new MemoryStream();
            await part.CopyToAsync(bytes);
            Assert.Equal(f.GetProperty("bytes").GetInt64(), bytes.Length);
            Assert.Equal(f.GetProperty("sha256").GetString(), Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes.ToArray())).ToLowerInvariant());
        }
        return runId;
    }

    [Fact]
    public async Task A_lake_on_object_storage_commits_by_LATEST_survives_a_publisher_killed_at_each_step_and_cleans_up_after()
    {
        using var dir = new TempDirectory("batchrecs-az-lake");
        string[] data = ["--users", "400", "--items", "150", "--interactions", "12000", "--days", "10", "--seed", "4", "--end-date", "2026-04-30"];
        Assert.Equal(0, (await CliProcess.RunWithEnvironmentAsync(_azurite.Environment, ["demo-data", "--out", "az://input/events", .. data])).ExitCode);
        Assert.Equal(0, (await CliProcess.RunAsync(["demo-data", "--out", dir.Sub("local-in"), .. data])).ExitCode);
        string[] run = ["run", "--run-date", "2026-05-01", "--set", "lookback_days=10", "--set", "retention_days=36500", "--set", "quality_gate=false"];
        var first = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("host-a")), [.. run, "--input", "az://input/events", "--lake", "az://lake/recs"]);
        Assert.True(first.ExitCode == 0, first.StdErr);
        var store = Container("lake");
        string published = await CompleteLatestRunAsync(store, "2026-05-01");

        // The exports equal the same run's on local files, read as a downstream reader does: _LATEST, then its folder.
        Assert.Equal(0, (await CliProcess.RunAsync([.. run, "--input", dir.Sub("local-in"), "--lake", dir.Sub("local-lake")])).ExitCode);
        string download = dir.Sub("download");
        Directory.CreateDirectory(download);
        foreach (var o in await store.ListAllAsync($"recs/recommendations/run_date=2026-05-01/{published}/"))
            if (o.Name.EndsWith(".parquet", StringComparison.Ordinal))
            {
                await using var src = await store.OpenReadAsync(o.Name);
                await using var dst = File.Create(Path.Combine(download, Path.GetFileName(o.Name)));
                await src.CopyToAsync(dst);
            }
        const string hash = "SELECT count(*), sum(hash(user_id, item_id, rank, score)) FROM read_parquet('{0}/*.parquet')";
        Assert.Equal(DuckQuery.Rows(string.Format(hash, $"{dir.Sub("local-lake")}/recommendations/run_date=2026-05-01"))[0],
            DuckQuery.Rows(string.Format(hash, download))[0]);
        // The catalog's read-only snapshot sits next to the exports; a host without a copy starts from it.
        Assert.Contains(await store.ListAllAsync("recs/batchrecs.duckdb"), o => o.Name == "recs/batchrecs.duckdb");

        // A publisher killed at each step of the commit: whatever _LATEST names is whole, and the next run cleans up.
        foreach (string point in new[] { "remote-parts-uploaded", "remote-committed", "remote-catalog-uploaded" })
        {
            var killed = await CliProcess.RunWithEnvironmentAsync(new Dictionary<string, string>(Env(dir.Sub("host-a"))) { ["BATCHRECS_CRASH_AT"] = point },
                [.. run, "--input", "az://input/events", "--lake", "az://lake/recs"]);
            Assert.NotEqual(0, killed.ExitCode);
            string latest = await CompleteLatestRunAsync(store, "2026-05-01");
            if (point == "remote-parts-uploaded") Assert.Equal(published, latest); // not committed: the previous run stands
            else Assert.NotEqual(published, latest); // committed: the new run, whole
            // Host B, with no working copy of its own, downloads the snapshot and publishes on top.
            var next = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("host-b-" + point)), [.. run, "--input", "az://input/events", "--lake", "az://lake/recs"]);
            Assert.True(next.ExitCode == 0, next.StdErr);
            Assert.Contains("catalog_downloaded=True", next.StdOut + next.StdErr);
            published = await CompleteLatestRunAsync(store, "2026-05-01");
            // Retention left the date with _LATEST and the run it names: the killed run's folder is gone.
            var left = (await store.ListAllAsync("recs/recommendations/run_date=2026-05-01/")).Select(o => o.Name.Split('/')[3]).Distinct().Order().ToList();
            Assert.Equal(new[] { "_LATEST", published }.Order(), left);
        }
        // A tuning on the lake: its trials go into the catalog snapshot and its settings next to it, for runs on any host.
        var tune = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("tuner")), ["tune", "--input", "az://input/events", "--lake", "az://lake/recs",
            "--run-date", "2026-05-01", "--budget", "3", "--set", "lookback_days=10"]);
        Assert.True(tune.ExitCode == 0, tune.StdErr);
        Assert.Contains(await store.ListAllAsync("recs/tuning/default/"), o => o.Name == "recs/tuning/default/latest.json");
        // An analyst anywhere queries the lake's catalog snapshot: sql --lake az://… reads a refreshed working copy.
        var sql = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("analyst")), ["sql", "--lake", "az://lake/recs",
            "SELECT count(*) AS runs FROM runs WHERE status = 'succeeded'"]);
        Assert.True(sql.ExitCode == 0, sql.StdErr);
        // The first run, the three that followed a killed one, and the one killed after its snapshot went up (it had committed).
        Assert.Matches(@"runs\s*\n-+\s*\n\s*5\s", sql.StdOut);
        Assert.True(File.Exists(Path.Combine(dir.Sub("analyst"), "lake", "recs", "tuning", "default", "latest.json")));
        // The snapshot's view of the current data is the run _LATEST names.
        var current = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("analyst")), ["sql", "--lake", "az://lake/recs",
            "SELECT DISTINCT run_id FROM current_recommendations"]);
        Assert.True(current.ExitCode == 0, current.StdErr);
        Assert.Contains(published, current.StdOut);
        var trials = await CliProcess.RunWithEnvironmentAsync(Env(dir.Sub("analyst")), ["sql", "--lake", "az://lake/recs", "SELECT count(*) AS trials FROM tuning_trials"]);
        Assert.DoesNotMatch(@"trials\s*\n-+\s*\n\s*0\s", trials.StdOut);
    }
}
