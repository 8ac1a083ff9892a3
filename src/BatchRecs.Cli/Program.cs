using System.CommandLine;
using BatchRecs.Cli.Commands;

var root = new RootCommand("BatchRecs: a nightly batch recommender over a Parquet lake (implicit ALS, top-N, DuckDB and Parquet outputs).")
{
    DemoCommand.Create(),
    DemoDataCommand.Create(),
    ImportCommand.Create(),
    RunCommand.Create(),
    TuneCommand.Create(),
    SqlCommand.Create(),
    SettingsCommand.Create(),
    RunsCommand.Create(),
    RecommendCommand.Create(),
    ReportCommand.Create(),
    SchedulerCommand.Create(),
    WorkerCommand.Create(),
    BackfillCommand.Create(),
    DashboardCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
