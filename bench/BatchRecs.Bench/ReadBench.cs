using System.CommandLine;
using BatchRecs.Cli.Commands;
using System.Diagnostics;
using BatchRecs.Core.Data;
using BatchRecs.Lake.Input;

namespace BatchRecs.Bench;

/// <summary><c>BatchRecs.Bench read</c>: Parquet.Net vs DuckDB read_parquet on the same files, and the pairs stage after each.</summary>
internal static class ReadBench
{
    public static Command Create()
    {
        var input = new Option<string?>("--input") { Description = "existing input directory or az://CONTAINER/PREFIX (default: generate demo data)" };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 100_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 20_000 };
        var interactions = new Option<int>("--interactions") { DefaultValueFactory = _ => 4_000_000 };
        var days = new Option<int>("--days") { DefaultValueFactory = _ => 30 };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 3 };
        var cmd = new Command("read", "Time the two input readers (Parquet.Net, DuckDB read_parquet) on the same files.") { input, users, items, interactions, days, repeats };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string? dir = p.GetValue(input);
            string? temp = null;
            var end = new DateOnly(2026, 10, 31);
            if (dir is null)
            {
                temp = dir = Path.Combine(Path.GetTempPath(), $"batchrecs-bench-read-{Guid.NewGuid():N}");
                var spec = new SyntheticSpec(p.GetValue(users), p.GetValue(items), p.GetValue(interactions), p.GetValue(days), 42, end);
                var sw0 = Stopwatch.StartNew();
                await DemoDataCommand.WriteAsync(dir, spec, ct);
                Console.WriteLine($"generated {spec.Interactions:N0} events in {spec.Days} partitions in {sw0.Elapsed.TotalSeconds:F1} s ({Size(dir) / 1e6:F1} MB)");
            }
            try
            {
                // Every event: ten years up to the generated data's end, or up to tomorrow for a given input.
                var window = new ReadWindow((temp is null ? DateOnly.FromDateTime(DateTime.UtcNow) : end).AddDays(1), 3650);
                var rules = new EventRules(new Dictionary<string, float> { ["view"] = 1, ["cart"] = 3, ["purchase"] = 5 });
                bool remote = Lake.Storage.LakeLocation.IsObjectStore(dir);
                var readers = new (string Name, Func<Task<ReadResult>> Read)[]
                {
                    ("parquet.net", () => InteractionReader.ReadAsync(dir, window, rules, ct)),
                    ("duckdb", () => DuckDbInteractionReader.ReadAsync(dir, window, rules, ct)),
                }.Where(r => !remote || r.Name != "duckdb").ToList(); // DuckDB reads local files only
                foreach (var (name, read) in readers)
                {
                    var times = new List<double>();
                    var pairTimes = new List<double>();
                    long rows = 0;
                    int pairs = 0;
                    for (int r = 0; r < p.GetValue(repeats); r++)
                    {
                        GC.Collect();
                        long requests = Lake.Storage.AzureBlobStore.RequestsSent;
                        var sw = Stopwatch.StartNew();
                        var result = await read();
                        times.Add(sw.Elapsed.TotalSeconds);
                        if (remote)
                            Console.WriteLine($"  {result.Files.Count} objects read with {Lake.Storage.AzureBlobStore.RequestsSent - requests} requests (listing included)");
                        rows = result.RowsInWindow;
                        sw.Restart();
                        pairs = PairAggregator.Combine(result.Events, CombineRule.Sum, consume: true).Count;
                        pairTimes.Add(sw.Elapsed.TotalSeconds);
                    }
                    times.Sort();
                    pairTimes.Sort();
                    double median = times[times.Count / 2];
                    Console.WriteLine($"{name,-12} {rows:N0} rows: median {median:F2} s ({rows / median / 1e6:F1} M rows/s); runs {string.Join(", ", times.Select(x => x.ToString("F2")))} s");
                    Console.WriteLine($"{"  pairs",-12} {pairs:N0} pairs: median {pairTimes[pairTimes.Count / 2]:F2} s on {Environment.ProcessorCount} cores; runs {string.Join(", ", pairTimes.Select(x => x.ToString("F2")))} s");
                }
                Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
            }
            finally
            {
                if (temp is not null) Directory.Delete(temp, recursive: true);
            }
            return 0;
        }));
        return cmd;
    }

    private static long Size(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
