using System.Globalization;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// How the work is cut must not change the lists: the same events in one file per day or split across several files
/// per day, solved in automatic blocks or in 7 user × 5 item blocks, publish the same lists with the same scores.
/// </summary>
public class PartitioningInvarianceTests
{
    [Fact]
    public async Task Lists_do_not_depend_on_how_the_input_is_split_into_files_or_the_fit_into_blocks()
    {
        using var dir = new TempDirectory("batchrecs-splits");
        string input = dir.Sub("input"), split = dir.Sub("split");
        var gen = await CliProcess.RunAsync("demo-data", "--out", input, "--users", "1200", "--items", "500",
            "--interactions", "40000", "--days", "8", "--seed", "11", "--end-date", "2026-04-30");
        Assert.True(gen.ExitCode == 0, gen.StdErr);

        // The same rows, in the same order, as three files per day (DuckDB writes them; sizes differ per part).
        int days = 0;
        foreach (var day in Directory.GetDirectories(input))
        {
            string file = Path.Combine(day, "part-00000.parquet").Replace("'", "''");
            long rows = DuckQuery.Scalar($"SELECT count(*) FROM read_parquet('{file}')");
            string outDir = Path.Combine(split, Path.GetFileName(day));
            Directory.CreateDirectory(outDir);
            long[] cuts = [0, rows / 5, rows / 2, rows];
            for (int p = 0; p < 3; p++)
            {
                string target = Path.Combine(outDir, $"part-{p:D5}.parquet").Replace("'", "''");
                DuckQuery.Rows($"""
                    COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet('{file}', file_row_number = true)
                          WHERE file_row_number >= {cuts[p]} AND file_row_number < {cuts[p + 1]} ORDER BY file_row_number)
                    TO '{target}' (FORMAT parquet)
                    """);
            }
            days++;
        }
        Assert.Equal(8, days);

        string[] common = ["run", "--run-date", "2026-05-01", "--set", "top_n=10", "--set", "iterations=6", "--set", "factors=16",
            "--set", "quality_gate=false", "--set", "retention_days=36500", "--set", "index=exact"];
        var whole = await CliProcess.RunAsync([.. common, "--input", input, "--lake", dir.Sub("lake-whole")]);
        var parts = await CliProcess.RunAsync([.. common, "--input", split, "--lake", dir.Sub("lake-split"),
            "--set", "user_blocks=7", "--set", "item_blocks=5"]);
        Assert.True(whole.ExitCode == 0, whole.StdOut + whole.StdErr);
        Assert.True(parts.ExitCode == 0, parts.StdOut + parts.StdErr);
        // The two runs did read different file layouts.
        Assert.Equal(8.0, Metric(dir.Sub("lake-whole"), "input.files"));
        Assert.Equal(24.0, Metric(dir.Sub("lake-split"), "input.files"));

        string Lists(string lake) => Path.Combine(lake, "recommendations", "run_date=2026-05-01", "*.parquet").Replace("'", "''");
        string a = $"read_parquet('{Lists(dir.Sub("lake-whole"))}')", b = $"read_parquet('{Lists(dir.Sub("lake-split"))}')";
        long rowsA = DuckQuery.Scalar($"SELECT count(*) FROM {a}");
        Assert.True(rowsA > 10_000, $"{rowsA} rows");
        Assert.Equal(rowsA, DuckQuery.Scalar($"SELECT count(*) FROM {b}"));
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM (SELECT user_id, item_id, rank, score FROM {a} EXCEPT SELECT user_id, item_id, rank, score FROM {b})"));
        Assert.Equal(Metric(dir.Sub("lake-whole"), "fit.loss_final"), Metric(dir.Sub("lake-split"), "fit.loss_final"));
    }

    private static double Metric(string lake, string name) => Convert.ToDouble(
        DuckQuery.Rows($"SELECT value FROM run_metrics WHERE metric = '{name}'", Path.Combine(lake, "batchrecs.duckdb")).Single()[0], CultureInfo.InvariantCulture);
}
