using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Cli.Commands;
using System.Diagnostics;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench topn</c>: exact top-N against the IVF index. Factors come from a quick implicit-ALS fit on a
/// synthetic interaction log (<c>--source als</c>, the default: real norm spread, seen items filtered) or from
/// <see cref="SyntheticFactors"/> (<c>--source synthetic</c>: clustered, log-normal item norms; cheap at 1M items).
/// Times are medians over <c>--repeat</c> runs; recall@N is measured over all users against the exact lists.
/// </summary>
internal static class TopNBench
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { Description = "users", DefaultValueFactory = _ => 100_000 };
        var items = new Option<int>("--items") { Description = "items", DefaultValueFactory = _ => 20_000 };
        var factors = new Option<int>("--factors") { Description = "k, the factor dimension", DefaultValueFactory = _ => 64 };
        var n = new Option<int>("--n") { Description = "list length N", DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { Description = "threads", DefaultValueFactory = _ => 2 };
        var nlist = new Option<string>("--nlist") { Description = "inverted lists: auto (≈ 4·sqrt(items)) or a number", DefaultValueFactory = _ => "auto" };
        var nprobe = new Option<string>("--nprobe") { Description = "comma-separated nprobe values to time, or auto (the tuned value only)", DefaultValueFactory = _ => "1,2,4,8,16,24,32,48,64,96,128" };
        var seed = new Option<ulong>("--seed") { Description = "seed of data, index and samples", DefaultValueFactory = _ => 42UL };
        var source = new Option<string>("--source") { Description = "als (quick ALS fit on synthetic interactions, seen items excluded) or synthetic (clustered factors, log-normal norms)", DefaultValueFactory = _ => "als" };
        var target = new Option<double>("--target") { Description = "recall@N target of the auto-tune", DefaultValueFactory = _ => 0.95 };
        var repeat = new Option<int>("--repeat") { Description = "timed runs per measurement (median reported)", DefaultValueFactory = _ => 3 };
        var ranges = new Option<int>("--norm-ranges") { Description = "IVF norm ranges (1 = a single MIPS transform)", DefaultValueFactory = _ => 1 };
        var skipExact = new Option<bool>("--skip-exact-timing") { Description = "time exact search once only" };
        var cmd = new Command("topn", "Exact top-N vs the IVF index: times, recall@N over nprobe, auto-tuned nprobe.")
        { users, items, factors, n, threads, nlist, nprobe, seed, source, target, repeat, ranges, skipExact };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            int u = p.GetValue(users), i = p.GetValue(items), k = p.GetValue(factors), top = p.GetValue(n), t = p.GetValue(threads);
            int reps = Math.Max(1, p.GetValue(repeat));
            ulong s = p.GetValue(seed);
            var sw = Stopwatch.StartNew();
            var (f, seen) = MakeFactors(p.GetValue(source)!, u, i, k, s, t);
            Console.WriteLine($"factors: {p.GetValue(source)}, {u:N0} users × {i:N0} items × k={k} in {sw.Elapsed.TotalSeconds:F1} s; N={top}, threads={t}, seen items excluded: {(seen is null ? "no" : $"yes ({seen.NonZeros:N0})")}");
            Console.WriteLine($"item norms: {NormSummary(f.Items, k)}");

            var query = new TopNQuery(top, seen, MaxThreads: t);
            TopNResult exact = null!;
            var exactTimes = Time(p.GetValue(skipExact) ? 1 : reps, () => exact = ExactTopN.Search(f.Users, f.Items, k, query));
            Console.WriteLine($"exact:      {Median(exactTimes):F3} s  (runs: {string.Join(", ", exactTimes.Select(x => x.ToString("F3")))})  rows {exact.TotalRows:N0}");

            string nl = p.GetValue(nlist)!;
            var build = new IvfBuildOptions(Nlist: nl == "auto" ? 0 : int.Parse(nl), Seed: s, NormRanges: p.GetValue(ranges), MaxThreads: t);
            sw.Restart();
            var index = IvfIndex.Build(f.Items, k, build);
            double buildSeconds = sw.Elapsed.TotalSeconds;
            var sizes = index.ListSizes.Order().ToArray();
            Console.WriteLine($"ivf build:  {buildSeconds:F3} s  nlist={index.Nlist}, list sizes min/median/max {sizes[0]}/{sizes[sizes.Length / 2]}/{sizes[^1]}");

            sw.Restart();
            var tuning = index.AutoTuneNprobe(f.Users, f.Items, new IvfSearchOptions(top, 1, seen, MaxThreads: t), p.GetValue(target), seed: s + 1);
            Console.WriteLine($"auto-tune:  nprobe={tuning.Nprobe} (target mean recall {p.GetValue(target)}, {tuning.Recall.Users} sampled users: mean {tuning.Recall.Mean:F4}, p5 {tuning.Recall.P5:F3}; {tuning.Trials.Count} trials, {sw.Elapsed.TotalSeconds:F2} s)");

            var probes = p.GetValue(nprobe) == "auto" ? [tuning.Nprobe]
                : p.GetValue(nprobe)!.Split(',').Select(int.Parse).Append(tuning.Nprobe).Where(x => x <= index.Nlist).Distinct().Order().ToArray();
            Console.WriteLine($"{"nprobe",7} {"time s",8} {"speedup",8} {"recall",8} {"p5",6} {"min",6} {"scored",7} {"extended",8}");
            foreach (int np in probes)
            {
                TopNResult result = null!;
                IvfSearchStats stats = null!;
                var times = Time(reps, () => (result, stats) = index.Search(f.Users, new IvfSearchOptions(top, np, seen, MaxThreads: t)));
                var recall = RecallMeasurement.Compare(exact, result);
                Console.WriteLine($"{np,7} {Median(times),8:F3} {Median(exactTimes) / Median(times),7:F1}x {recall.Mean,8:F4} {recall.P5,6:F3} {recall.Min,6:F3} {stats.FractionScored(i),6:P1} {stats.UsersExtended,8}{(np == tuning.Nprobe ? "  ← auto" : "")}");
            }
            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static (FactorSet Factors, CsrMatrix? Seen) MakeFactors(string source, int users, int items, int k, ulong seed, int threads)
    {
        if (source == "synthetic") return (SyntheticFactors.Generate(users, items, k, seed), null);
        if (source != "als") throw new BadInputException($"--source must be als or synthetic (got '{source}').");
        var log = SyntheticInteractions.Generate(new SyntheticSpec(Users: users, Items: items, Interactions: 20 * users, Seed: seed));
        var r = log.UserIds.Select(x => (int)x - 1).ToArray();
        var c = log.ItemIds.Select(x => (int)x - 1).ToArray();
        var csr = CsrMatrix.FromEntries(users, items, r, c, Enumerable.Repeat(1f, r.Length).ToArray());
        var settings = new AlsSettings(Factors: k, Iterations: 3, Regularization: 0.05f, Seed: seed);
        var model = ImplicitAls.Fit(AlsProblem.Build(csr, settings), settings, new LocalExecutor(threads));
        return (new FactorSet(model.UserFactors, model.ItemFactors, k), csr);
    }

    private static string NormSummary(float[] items, int k)
    {
        var norms = Enumerable.Range(0, items.Length / k).Select(i => Math.Sqrt(items.AsSpan(i * k, k).ToArray().Sum(x => (double)x * x))).Order().ToArray();
        return $"p1 {norms[norms.Length / 100]:G3}, median {norms[norms.Length / 2]:G3}, p99 {norms[norms.Length * 99 / 100]:G3}, max {norms[^1]:G3}";
    }

    private static double[] Time(int reps, Action run)
    {
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            run();
            times[r] = sw.Elapsed.TotalSeconds;
        }
        return times;
    }

    private static double Median(double[] x)
    {
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
