using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Tests;

/// <summary>What a run is handed instead of reading globals: the report writer of its host and the fault injector of its request.</summary>
public class RunHooksTests
{
    private sealed class RecordingReporter : IRunReporter
    {
        public List<string> Runs { get; } = [];

        public string Write(string lakeDir, string runId)
        {
            Runs.Add(runId);
            return Path.Combine(lakeDir, "reports", runId + ".html");
        }
    }

    private sealed class RecordingFaults : IFaultInjector
    {
        public List<string> Reached { get; } = [];

        public void Reach(string point) { lock (Reached) Reached.Add(point); }
    }

    [Fact]
    public async Task A_run_calls_its_reporter_when_it_succeeds_and_when_it_fails_and_tells_its_injector_each_point()
    {
        using var dir = new TempDirectory("batchrecs-hooks");
        string input = dir.Sub("input"), empty = dir.Sub("empty-input"), lake = dir.Sub("lake");
        Directory.CreateDirectory(empty);
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "300", "--items", "150", "--interactions", "6000",
            "--days", "10", "--seed", "5", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);
        string[] settings = ["iterations=2", "refit_iterations=1", "factors=8", "top_n=5", "lookback_days=10", "quality_gate=false"];
        var reporter = new RecordingReporter();
        var faults = new RecordingFaults();
        var run = new NightlyRun(new RunLog(TextWriter.Null), reporter);

        var ok = await run.ExecuteAsync(new RunRequest(input, lake, new DateOnly(2026, 5, 1), JobDefinition.Default, settings) { Faults = faults });
        Assert.Equal([ok.Run.RunId], reporter.Runs);
        Assert.Equal(["fit_eval-iteration-1", "fit_eval-iteration-2", "fit-iteration-1"], faults.Reached.Where(p => p.Contains("-iteration-")));
        Assert.Equal(FaultPoint.PublishSteps, faults.Reached.Where(p => FaultPoint.PublishSteps.Contains(p)));

        // A failed run (nothing in the window) is reported too; a run without a reporter writes none.
        await Assert.ThrowsAnyAsync<Exception>(() => run.ExecuteAsync(new RunRequest(empty, lake, new DateOnly(2026, 5, 2), JobDefinition.Default, settings)));
        Assert.Equal(2, reporter.Runs.Count);
        await new NightlyRun(new RunLog(TextWriter.Null)).ExecuteAsync(new RunRequest(input, lake, new DateOnly(2026, 5, 1), JobDefinition.Default, settings));
        Assert.Equal(2, reporter.Runs.Count);
        Assert.False(Directory.Exists(Path.Combine(lake, "reports")));
    }
}
