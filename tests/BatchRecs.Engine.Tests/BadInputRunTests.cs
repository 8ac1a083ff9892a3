using System.Text.Json;

namespace BatchRecs.Engine.Tests;

/// <summary>Bad input through the real command line: exit code 2, a message naming what to fix, no stack trace.</summary>
public class BadInputRunTests
{
    private static async Task<string> DemoInput(TempDirectory dir)
    {
        string input = dir.Sub("input");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "120", "--interactions", "6000",
            "--days", "5", "--seed", "3", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        return input;
    }

    private static void AssertBadInput(CliProcess.Result r, params string[] expected)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        foreach (var e in expected) Assert.Contains(e, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public async Task A_lake_inside_the_input_is_refused_by_run_and_tune_before_anything_is_written()
    {
        using var dir = new TempDirectory("batchrecs-layout");
        string input = await DemoInput(dir);
        string lake = Path.Combine(input, "lake");
        var run = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "iterations=2");
        AssertBadInput(run, $"'{lake}'", $"'{input}'", "inside the input");
        Assert.False(Directory.Exists(lake));
        var tune = await CliProcess.RunAsync("tune", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--budget", "2");
        AssertBadInput(tune, $"'{lake}'", $"'{input}'", "inside the input");
        Assert.False(Directory.Exists(lake));

        // The other way round: an input inside the lake (its own output read as input).
        string inner = Path.Combine(dir.Sub("lake2"), "input");
        Directory.CreateDirectory(dir.Sub("lake2"));
        Directory.Move(input, inner);
        var reversed = await CliProcess.RunAsync("run", "--input", inner, "--lake", dir.Sub("lake2"), "--run-date", "2026-05-01", "--set", "iterations=2");
        AssertBadInput(reversed, $"'{inner}'", $"'{dir.Sub("lake2")}'", "inside the lake");
    }

    [Fact]
    public async Task A_malformed_partition_is_bad_input_and_is_skipped_and_listed_under_skip_bad_files()
    {
        using var dir = new TempDirectory("batchrecs-partition");
        string input = await DemoInput(dir);
        string day = Directory.GetDirectories(input, "dt=*").Order(StringComparer.Ordinal).Last();
        string bad = Path.Combine(input, "dt=2026-13-45", "part-00000.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(bad)!);
        File.Copy(Path.Combine(day, "part-00000.parquet"), bad);
        string lake = dir.Sub("lake");

        var run = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "iterations=2");
        AssertBadInput(run, bad, "dt=2026-13-45");

        var skipping = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "iterations=2",
            "--set", "quality_gate=false", "--skip-bad-files");
        Assert.True(skipping.ExitCode == 0, skipping.StdOut + skipping.StdErr);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(lake, "recommendations", "run_date=2026-05-01", "manifest.json")));
        var skipped = manifest.RootElement.GetProperty("skipped_inputs").EnumerateArray().ToList();
        Assert.Equal(bad, Assert.Single(skipped).GetProperty("path").GetString());
        Assert.DoesNotContain(manifest.RootElement.GetProperty("inputs").EnumerateArray(), f => f.GetProperty("path").GetString() == bad);
    }

    [Fact]
    public async Task Millisecond_epoch_times_read_as_seconds_fail_with_the_dates_seen_and_the_epoch_unit_to_set()
    {
        using var dir = new TempDirectory("batchrecs-epoch");
        string input = dir.Sub("input");
        Directory.CreateDirectory(input);
        string file = Path.Combine(input, "events.parquet").Replace("'", "''");
        // 2026-03-05 08:40 UTC onwards, one event a minute, as epoch milliseconds.
        DuckQuery.Rows($"COPY (SELECT range AS user_id, range % 7 AS item_id, 1772700000000 + range * 60000 AS event_time FROM range(50)) TO '{file}' (FORMAT parquet)");
        var run = await CliProcess.RunAsync("run", "--input", input, "--lake", dir.Sub("lake"), "--run-date", "2026-03-10", "--set", "lookback_days=30");
        // 1772700000000 s is 58144-08-17 (GNU date -u -d @1772700000000); the window is [2026-02-08, 2026-03-10).
        AssertBadInput(run, "no events", "2026-02-08", "2026-03-10", "58144-08-17", "epoch_unit=ms");
    }
}
