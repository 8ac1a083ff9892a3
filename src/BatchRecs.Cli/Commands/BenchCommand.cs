using System.CommandLine;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs bench ...</c>: the project's own benchmark harness (figures for the issues' closing notes).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var cmd = new Command("bench", "Benchmarks on synthetic data: als, topn, read.");
        // Subcommands are added here, one file each (BenchAlsCommand, BenchTopNCommand, ...).
        cmd.Add(BenchReadCommand.Create());
        cmd.Add(BenchQualityCommand.Create());
        cmd.Add(BenchTuneCommand.Create());
        cmd.Add(BenchTopNCommand.Create());
        cmd.Add(BenchAlsCommand.Create());
        cmd.Add(BenchDistributedCommand.Create());
        return cmd;
    }
}
