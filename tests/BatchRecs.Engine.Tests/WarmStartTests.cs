namespace BatchRecs.Engine.Tests;

public class WarmStartTests
{
    [Fact]
    public async Task A_run_warm_started_from_the_last_published_factors_starts_nearer_the_optimum()
    {
        using var dir = new TempDirectory("batchrecs-warm");
        string input = dir.Sub("input");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "800", "--items", "300", "--interactions", "25000",
            "--days", "12", "--end-date", "2026-04-30")).ExitCode);
        string[] common = ["run", "--input", input, "--set", "holdout_fraction=0", "--set", "lookback_days=10", "--set", "quality_gate=false", "--set", "factors=16"];
        Assert.Equal(0, (await CliProcess.RunAsync([.. common, "--lake", dir.Sub("lake"), "--run-date", "2026-04-30", "--set", "iterations=10"])).ExitCode);
        var warm = await CliProcess.RunAsync([.. common, "--lake", dir.Sub("lake"), "--run-date", "2026-05-01", "--set", "iterations=1", "--set", "warm_start=last_run"]);
        var cold = await CliProcess.RunAsync([.. common, "--lake", dir.Sub("cold"), "--run-date", "2026-05-01", "--set", "iterations=1"]);
        Assert.True(warm.ExitCode == 0 && cold.ExitCode == 0, warm.StdErr + cold.StdErr);
        Assert.Contains("run.warm_start from=last_run", warm.StdOut);
        double Loss(string db) => (double)DuckQuery.Rows("SELECT value FROM run_metrics WHERE metric = 'fit.loss_final' AND run_date = DATE '2026-05-01'", db).Single()[0];
        double warmLoss = Loss(Path.Combine(dir.Sub("lake"), "batchrecs.duckdb")), coldLoss = Loss(Path.Combine(dir.Sub("cold"), "batchrecs.duckdb"));
        Assert.True(warmLoss < coldLoss, $"warm {warmLoss} vs cold {coldLoss}");
    }
}
