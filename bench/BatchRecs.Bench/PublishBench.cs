using System.CommandLine;
using System.Diagnostics;
using BatchRecs.Cli.Commands;
using BatchRecs.Core.Data;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Output;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench publish</c>: publishes synthetic lists (users × top-N, random items and scores, k-dimensional
/// factors) into a fresh lake, and reports the time and the process's peak resident memory above what the lists
/// themselves take: the publish stage's own cost per list row.
/// </summary>
internal static class PublishBench
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 1_000_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 200_000 };
        var topN = new Option<int>("--top-n") { DefaultValueFactory = _ => 20 };
        var factors = new Option<int>("--factors") { DefaultValueFactory = _ => 64 };
        var cmd = new Command("publish", "Publish synthetic lists into a fresh lake: seconds and peak memory per list row.") { users, items, topN, factors };
        cmd.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            int u = p.GetValue(users), i = p.GetValue(items), n = p.GetValue(topN), k = p.GetValue(factors);
            var rng = new Random(1);
            var recs = new TopNResult(u, n);
            for (int x = 0; x < u; x++)
            {
                recs.Counts[x] = n;
                for (int r = 0; r < n; r++) { recs.Items[x * n + r] = rng.Next(i); recs.Scores[x * n + r] = 1f - r / (float)n; }
            }
            var uf = new float[(long)u * k]; var itf = new float[(long)i * k];
            for (long e = 0; e < uf.Length; e++) uf[e] = (float)rng.NextDouble();
            for (long e = 0; e < itf.Length; e++) itf[e] = (float)rng.NextDouble();
            var userIds = IdMap.FromInt64(Enumerable.Range(0, u).Select(x => (long)x));
            var itemIds = IdMap.FromInt64(Enumerable.Range(0, i).Select(x => (long)x));
            string lake = Path.Combine(Path.GetTempPath(), $"batchrecs-bench-publish-{Guid.NewGuid():N}");
            var now = DateTime.UtcNow;
            var run = new RunRecord("bench-" + Guid.NewGuid().ToString("N")[..6], "bench", DateOnly.FromDateTime(now), RunStatus.Succeeded, now, now, null,
                0, u, i, new Dictionary<string, double>(), new Dictionary<string, string>());
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            long before = Environment.WorkingSet;
            var sw = Stopwatch.StartNew();
            try
            {
                await LakePublisher.PublishAsync(lake, new PublishRequest(run, userIds, itemIds, recs, "als", k, uf, itf, []), new PublishOptions(36500), ct);
                double seconds = sw.Elapsed.TotalSeconds;
                long peak = Process.GetCurrentProcess().PeakWorkingSet64;
                Console.WriteLine($"{recs.TotalRows:N0} rows ({u:N0} users × {n}), k = {k}: {seconds:F1} s ({recs.TotalRows / seconds / 1e6:F2} M rows/s); " +
                    $"resident before {before / 1e9:F2} GB, peak {peak / 1e9:F2} GB (+{(peak - before) / (double)recs.TotalRows:F0} B/row)");
            }
            finally
            {
                Directory.Delete(lake, recursive: true);
            }
            return 0;
        }));
        return cmd;
    }
}
