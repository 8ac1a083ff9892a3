using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using DuckDB.NET.Data;

namespace BatchRecs.Engine.Simulation;

/// <summary>The simulated world and how long it runs.</summary>
/// <param name="Nights">nights simulated per policy.</param>
/// <param name="Users">users.</param>
/// <param name="Items">items.</param>
/// <param name="Seed">seed of the world, the organic traffic and the clicks (the same for both policies).</param>
/// <param name="Overrides">settings for both policies' runs (<c>--set key=value</c>), and for one of them (<c>--set explore.key=value</c>).</param>
/// <param name="NewItems">the share of the items that arrive during the nights (evenly, at seeded random popularity ranks)
/// instead of being there from the start: a catalogue that grows, as a shop's or a news site's does.</param>
public sealed record SimulationSpec(int Nights, int Users = 2000, int Items = 400, int Seed = 1, IReadOnlyList<string>? Overrides = null,
    double NewItems = SimulationSpec.DefaultNewItems)
{
    /// <summary>Half the catalogue arrives during the nights by default: in a fixed catalogue the baseline's lists start from
    /// the organic traffic's popularity skew and spread as users use up what they show, which hides the loop that starves
    /// items it never shows (README, "The loop, simulated").</summary>
    public const double DefaultNewItems = 0.5;
}

/// <summary>One policy's night, as <c>nights.parquet</c> stores it.</summary>
/// <param name="Policy">baseline or explore.</param>
/// <param name="Night">1-based night.</param>
/// <param name="TrueCtr">the expected CTR of the published lists under the hidden truth (relevance × examination).</param>
/// <param name="TrueCtrModel">the same over the model's own slots (exploration slots left out).</param>
/// <param name="TrueRecallAtN">the share of each user's N truly most relevant unseen items the list holds, averaged.</param>
/// <param name="OpeCtr">the run's doubly robust estimate (<c>ope.dr_ctr</c>), from earlier nights' feedback only, of the CTR
/// of its model's lists in the served lists' contexts (null on night 1).</param>
/// <param name="OpeCtrLow">its 95 % interval's lower end.</param>
/// <param name="OpeCtrHigh">its upper end.</param>
/// <param name="Coverage">items in some list / items.</param>
/// <param name="Gini">Gini of the items' slot counts.</param>
public sealed record NightResult(string Policy, int Night, double TrueCtr, double TrueCtrModel, double TrueRecallAtN, double? OpeCtr, double? OpeCtrLow,
    double? OpeCtrHigh, double Coverage, double Gini)
{
    /// <summary>The expected CTR under the hidden truth of the lists the estimate judged: what <see cref="OpeCtr"/> estimates
    /// (null when it judged none).</summary>
    public double? OpeTrueCtr { get; init; }

    /// <summary>Gini of the items' distinct users in the log the night's run trained on (organic history and earlier clicks).</summary>
    public double LogGini { get; init; }
}

/// <summary>
/// <c>batchrecs simulate</c>: a closed loop that proves the feedback loop works. A hidden world — relevance from a
/// low-rank taste model plus item popularity — produces organic traffic that favours popular items; each night the real
/// <see cref="NightlyRun"/> trains on the growing log and publishes; the simulator serves the lists, users examine them
/// with a position bias and click with relevance × examination; the clicks join the log and the served rows (with their
/// propensity and run id) become the feedback log. Two policies run side by side on the same world and seeds:
/// <c>baseline</c> (explore_slots=0, debias=none) and <c>explore</c> (explore_slots=2, propensity=logged, debias=ipw-train).
/// </summary>
public sealed class ClosedLoop(SimulationSpec spec, string outDir, RunLog log)
{
    private const int Factors = 8, HistoryDays = 14, OrganicPerDay = 3;
    private const double Examination = 0.7; // P(examine rank r) = r^−0.7

    public static readonly DateOnly FirstNight = new(2026, 1, 1);

    /// <summary>The two policies: name and the settings that make it.</summary>
    public static readonly IReadOnlyList<(string Name, string[] Settings)> Policies =
    [
        ("baseline", ["explore_slots=0", "debias=none"]),
        ("explore", ["explore_slots=2", "propensity=logged", "debias=ipw-train"]),
    ];

    private readonly double[,] _relevance = new double[spec.Users, spec.Items];
    private readonly double[] _popularity = new double[spec.Items];

    /// <summary>The night each item arrives (0: there from the start).</summary>
    private readonly int[] _arrival = new int[spec.Items];

    private int _night;

    private bool Available(int item) => _arrival[item] <= _night;

    public async Task<IReadOnlyList<NightResult>> RunAsync(CancellationToken ct = default)
    {
        Directory.CreateDirectory(outDir);
        BuildWorld();
        var results = new List<NightResult>();
        foreach (var (policy, settings) in Policies)
        {
            string root = Path.Combine(outDir, policy);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            string input = Path.Combine(root, "input"), lake = Path.Combine(root, "lake"), feedback = Path.Combine(root, "feedback");
            Directory.CreateDirectory(feedback); // empty until the first night is served
            var seen = new HashSet<(int, int)>();
            // The same organic history for both policies: the generator restarts from the seed.
            var organic = new Random(spec.Seed * 7919 + 1);
            _night = 0;
            for (int d = -HistoryDays; d < 0; d++) await WriteDayAsync(input, FirstNight.AddDays(d), Organic(organic, seen), ct);
            var clicks = new Random(spec.Seed * 104729 + 3);
            for (int night = 1; night <= spec.Nights; night++)
            {
                _night = night;
                var date = FirstNight.AddDays(night - 1);
                string[] overrides = [.. Base(feedback), .. settings, .. Overrides(policy)];
                var judged = new List<OpeList>();
                var summary = await new NightlyRun(log).ExecuteAsync(new RunRequest(input, lake, date, JobDefinition.Default with { Name = "sim-" + policy }, overrides)
                {
                    OnOpeList = judged.Add,
                }, ct);
                var lists = ReadLists(lake, date);
                var m = summary.Run.Metrics;
                double? Metric(string k) => m.TryGetValue(k, out var v) ? v : null;
                // Measured before serving: recall counts the items the user had not seen when the lists were made.
                results.Add(Measure(policy, night, lists, seen, Metric("ope.dr_ctr"), Metric("ope.dr_ctr_low"), Metric("ope.dr_ctr_high")) with
                {
                    OpeTrueCtr = judged.Count == 0 ? null : TrueCtr(judged),
                    LogGini = BatchRecs.Core.Evaluation.Metrics.Gini(PerItem(seen)),
                });
                var (served, events) = Serve(lists, date, clicks, seen);
                log.Event("simulate.night", ("policy", policy), ("night", night), ("true_ctr", results[^1].TrueCtr), ("gini", results[^1].Gini),
                    ("ope_ctr", results[^1].OpeCtr ?? double.NaN));
                await FeedbackWriter.WriteDayAsync(feedback, date, served, ct);
                await WriteDayAsync(input, date, [.. events, .. Organic(organic, seen)], ct);
            }
        }
        WriteNights(Path.Combine(outDir, "nights.parquet"), results);
        return results;
    }

    private string[] Base(string feedback) =>
    [
        "top_n=10", "lookback_days=60", "retention_days=36500", "quality_gate=false", "similar_items=false", "index=exact",
        "factors=16", "iterations=8", $"seed={spec.Seed}", $"feedback_input={feedback}", "ope_days=7",
    ];

    private IEnumerable<string> Overrides(string policy)
    {
        foreach (var o in spec.Overrides ?? [])
        {
            int dot = o.IndexOf('.'), eq = o.IndexOf('=');
            string? scope = dot > 0 && (eq < 0 || dot < eq) && Policies.Any(p => p.Name == o[..dot]) ? o[..dot] : null;
            if (scope is null) yield return o;
            else if (scope == policy) yield return o[(dot + 1)..];
        }
    }

    /// <summary>Relevance q(u, i) = σ(3·xᵤ·yᵢ + 0.6·log(I·πᵢ) − 3.5): taste (rank 8) plus popularity πᵢ ∝ (i + 1)^−0.9.</summary>
    private void BuildWorld()
    {
        var rng = new Random(spec.Seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var x = new double[spec.Users * Factors];
        var y = new double[spec.Items * Factors];
        for (int j = 0; j < x.Length; j++) x[j] = Normal() / Math.Sqrt(Factors) * 1.5;
        for (int j = 0; j < y.Length; j++) y[j] = Normal() / Math.Sqrt(Factors) * 1.5;
        double total = 0;
        for (int i = 0; i < spec.Items; i++) total += _popularity[i] = Math.Pow(i + 1, -0.9);
        for (int i = 0; i < spec.Items; i++) _popularity[i] /= total;
        // Arrivals: a seeded share of the items, whatever their popularity, arrive evenly over the nights.
        int arriving = (int)Math.Round(spec.NewItems * spec.Items);
        var order = Enumerable.Range(0, spec.Items).OrderBy(_ => rng.Next()).ToArray();
        for (int j = 0; j < arriving; j++) _arrival[order[j]] = 1 + j * spec.Nights / Math.Max(1, arriving);
        for (int u = 0; u < spec.Users; u++)
            for (int i = 0; i < spec.Items; i++)
            {
                double dot = 0;
                for (int f = 0; f < Factors; f++) dot += x[u * Factors + f] * y[i * Factors + f];
                _relevance[u, i] = 1 / (1 + Math.Exp(-(3 * dot + 0.6 * Math.Log(spec.Items * _popularity[i]) - 3.5)));
            }
    }

    /// <summary>A day of organic traffic: each user sees a few items drawn by popularity and interacts with those they like.</summary>
    private List<(int User, int Item)> Organic(Random rng, HashSet<(int, int)> seen)
    {
        var events = new List<(int, int)>();
        for (int u = 0; u < spec.Users; u++)
            for (int j = 0; j < OrganicPerDay; j++)
            {
                double r = rng.NextDouble(), acc = 0;
                int i = 0;
                while (i < spec.Items - 1 && (acc += _popularity[i]) < r) i++;
                if (!Available(i)) continue; // not in the catalogue yet: the user saw nothing new there
                if (rng.NextDouble() < _relevance[u, i]) { events.Add((u, i)); seen.Add((u, i)); }
            }
        return events;
    }

    private sealed record Slot(int User, int Item, int Rank, string Source, float Propensity, string RunId);

    private static List<Slot> ReadLists(string lake, DateOnly date)
    {
        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        using var cmd = con.CreateCommand();
        string parts = Path.Combine(lake, "recommendations", $"run_date={date:yyyy-MM-dd}", "*.parquet").Replace("'", "''");
        cmd.CommandText = $"SELECT user_id, item_id, rank, source, propensity, run_id FROM read_parquet('{parts}') ORDER BY user_id, rank";
        using var r = cmd.ExecuteReader();
        var slots = new List<Slot>();
        while (r.Read()) slots.Add(new Slot((int)r.GetInt64(0), (int)r.GetInt64(1), r.GetInt32(2), r.GetString(3), r.GetFloat(4), r.GetString(5)));
        return slots;
    }

    private static double Examine(int rank) => Math.Pow(rank, -Examination);

    /// <summary>Distinct users per item in the log so far.</summary>
    private long[] PerItem(HashSet<(int User, int Item)> seen)
    {
        var counts = new long[spec.Items];
        foreach (var (_, i) in seen) counts[i]++;
        return InCatalogue(counts);
    }

    /// <summary>The counts of the items in the catalogue tonight (those arrived): coverage and Gini are over these.</summary>
    private long[] InCatalogue(long[] perItem) => perItem.Where((_, i) => Available(i)).ToArray();

    /// <summary>The expected CTR under the hidden truth of the lists the off-policy estimate judged (each a full list of N).</summary>
    private double TrueCtr(List<OpeList> judged)
    {
        double sum = 0;
        long slots = 0;
        foreach (var l in judged)
        {
            int u = (int)(long)l.UserId;
            for (int r = 0; r < l.ItemIds.Length; r++) sum += Examine(r + 1) * _relevance[u, (int)(long)l.ItemIds[r]];
            slots += l.ItemIds.Length;
        }
        return slots == 0 ? 0 : sum / slots;
    }

    /// <summary>Serves the lists: each slot is examined with its position's probability and clicked with the item's relevance.</summary>
    private (List<FeedbackRow> Served, List<(int User, int Item)> Clicks) Serve(List<Slot> lists, DateOnly date, Random rng, HashSet<(int, int)> seen)
    {
        var served = new List<FeedbackRow>(lists.Count);
        var clicks = new List<(int, int)>();
        var at = date.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc);
        foreach (var s in lists)
        {
            bool click = rng.NextDouble() < Examine(s.Rank) * _relevance[s.User, s.Item];
            served.Add(new FeedbackRow(s.User, s.Item, at, s.Rank, s.Propensity, s.RunId, click));
            if (click) { clicks.Add((s.User, s.Item)); seen.Add((s.User, s.Item)); }
        }
        return (served, clicks);
    }

    private NightResult Measure(string policy, int night, List<Slot> lists, HashSet<(int, int)> seenBefore, double? ope, double? low, double? high)
    {
        double ctr = 0, ctrModel = 0;
        int model = 0;
        var slotsPerItem = new long[spec.Items];
        foreach (var s in lists)
        {
            double p = Examine(s.Rank) * _relevance[s.User, s.Item];
            ctr += p;
            if (s.Source != "explore") { ctrModel += p; model++; }
            slotsPerItem[s.Item]++;
        }
        // Recall: each listed user's N most relevant items they have not interacted with, against their list.
        double recall = 0;
        int listed = 0;
        foreach (var g in lists.GroupBy(s => s.User))
        {
            int n = g.Count();
            var best = Enumerable.Range(0, spec.Items).Where(i => Available(i) && !seenBefore.Contains((g.Key, i))).OrderByDescending(i => _relevance[g.Key, i]).Take(n).ToHashSet();
            recall += g.Count(s => best.Contains(s.Item)) / (double)Math.Max(1, best.Count);
            listed++;
        }
        return new NightResult(policy, night, lists.Count == 0 ? 0 : ctr / lists.Count, model == 0 ? 0 : ctrModel / model, listed == 0 ? 0 : recall / listed,
            ope, low, high, slotsPerItem.Count(c => c > 0) / (double)InCatalogue(slotsPerItem).Length, BatchRecs.Core.Evaluation.Metrics.Gini(InCatalogue(slotsPerItem)));
    }

    private static async Task WriteDayAsync(string input, DateOnly day, List<(int User, int Item)> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        long micros = (day.ToDateTime(new TimeOnly(18, 0), DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10;
        var cols = new InteractionColumns(events.Select(e => (long)e.User).ToArray(), null, events.Select(e => (long)e.Item).ToArray(), null,
            Enumerable.Repeat(micros, events.Count).ToArray());
        string dir = Path.Combine(input, PartitionPath.DirectoryFor(day));
        Directory.CreateDirectory(dir);
        await InteractionWriter.WriteFileAsync(Path.Combine(dir, "part-00000.parquet"), cols, Enumerable.Range(0, events.Count).ToArray(), ct);
    }

    private static void WriteNights(string path, IReadOnlyList<NightResult> rows)
    {
        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        using (var create = con.CreateCommand())
        {
            create.CommandText = "CREATE TABLE nights (policy VARCHAR, night INTEGER, true_ctr DOUBLE, true_ctr_model DOUBLE, true_recall_at_n DOUBLE, " +
                "ope_ctr DOUBLE, ope_ctr_low DOUBLE, ope_ctr_high DOUBLE, ope_true_ctr DOUBLE, coverage DOUBLE, gini DOUBLE, log_gini DOUBLE)";
            create.ExecuteNonQuery();
        }
        using (var a = con.CreateAppender("nights"))
            foreach (var r in rows)
            {
                var row = a.CreateRow().AppendValue(r.Policy).AppendValue(r.Night).AppendValue(r.TrueCtr).AppendValue(r.TrueCtrModel).AppendValue(r.TrueRecallAtN);
                row = r.OpeCtr is { } o ? row.AppendValue(o) : row.AppendNullValue();
                row = r.OpeCtrLow is { } l ? row.AppendValue(l) : row.AppendNullValue();
                row = r.OpeCtrHigh is { } h ? row.AppendValue(h) : row.AppendNullValue();
                row = r.OpeTrueCtr is { } t ? row.AppendValue(t) : row.AppendNullValue();
                row.AppendValue(r.Coverage).AppendValue(r.Gini).AppendValue(r.LogGini).EndRow();
            }
        if (File.Exists(path)) File.Delete(path);
        using var copy = con.CreateCommand();
        copy.CommandText = $"COPY (SELECT * FROM nights ORDER BY policy, night) TO '{path.Replace("'", "''")}' (FORMAT parquet)";
        copy.ExecuteNonQuery();
    }
}
