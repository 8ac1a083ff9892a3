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
    ReportCommand.Create(),
    SchedulerCommand.Create(hooks),
    WorkerCommand.Create(hooks),
    BackfillCommand.Create(),
    DashboardCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
