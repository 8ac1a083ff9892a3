using System.CommandLine;
using BatchRecs.Cli;
using BatchRecs.Cli.Commands;

// The composition root: test hooks come from the environment here, once, and are handed to the commands that use them.
var hooks = TestHooks.FromEnvironment();

var root = new RootCommand("BatchRecs: a nightly batch recommender over a Parquet lake (implicit ALS, top-N, DuckDB and Parquet outputs).")
{
    DemoCommand.Create(hooks),
    DemoDataCommand.Create(),
    ImportCommand.Create(),
    RunCommand.Create(hooks),
    TuneCommand.Create(),
    SqlCommand.Create(),
    SettingsCommand.Create(),
    RunsCommand.Create(),
    RecommendCommand.Create(),
    SimulateCommand.Create(),
    ReportCommand.Create(),
    SchedulerCommand.Create(hooks),
    WorkerCommand.Create(hooks),
    BackfillCommand.Create(),
    DashboardCommand.Create(),
};
// SIGTERM and Ctrl+C cancel the command's token; a run then deletes its queued block jobs and scratch files, records
// itself as failed ("cancelled") and ends. System.CommandLine stops waiting for that after ProcessTerminationTimeout
// (default 2 s, which could cut the record short) and exits 143/130: 4 s keeps the whole exit within 5 s.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(4) });
