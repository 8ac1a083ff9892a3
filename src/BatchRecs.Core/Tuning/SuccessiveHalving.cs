using BatchRecs.Core.Errors;
namespace BatchRecs.Core.Tuning;

/// <summary>
/// One rung of a successive-halving search: how much of the budget a trial gets there.
/// </summary>
/// <param name="IterationFraction">share of the trial's own iterations trained by the end of this rung.</param>
/// <param name="UserFraction">share of the users trained on (a seeded sample), 1 = all.</param>
/// <param name="ValidationFraction">share of the validation users scored (a seeded sample, nested: a user scored at one
/// rung is scored at every later one), 1 = all.</param>
public sealed record Rung(double IterationFraction, double UserFraction, double ValidationFraction = 1.0);

/// <summary>The outcome of one trial at one rung.</summary>
public sealed record TrialResult(int Trial, int Rung, IReadOnlyDictionary<string, string> Settings, double Metric, double Seconds);

/// <summary>
/// Successive halving (Jamieson &amp; Talwalkar 2016; the building block of Hyperband, Li et al. 2017): many settings are
/// tried cheaply (few iterations, a user sample), the best 1/η continue to the next rung with more budget, and so on.
/// Deterministic for a seed: trials are drawn by <see cref="SearchSpace.Draw"/> and ties keep the lower trial number.
/// </summary>
public static class SuccessiveHalving
{
    /// <summary>
    /// A fifteenth of the iterations (one of the default 15) on a quarter of the users, scoring an eighth of the
    /// validation users; a fifth on half of them, scoring a quarter; all of them on everyone. The screening rungs start
    /// from the reference fit (see <see cref="Als.FactorProjection"/>), so their first iterations already separate good
    /// settings from bad; the last rung is a full fit from the random start.
    /// </summary>
    public static readonly Rung[] DefaultRungs = [new(1.0 / 15, 0.25, 0.125), new(0.2, 0.5, 0.25), new(1.0, 1.0)];

    /// <param name="evaluate">trains and scores one trial at one rung: (trial, rung index, settings) → metric (higher is better).</param>
    /// <param name="affordable">which of the best (the 1/η the rule keeps, in rank order) the budget lets into a rung:
    /// (rung index, their settings) → the positions admitted; the best is promoted even when none is. Null: all of them.</param>
    /// <param name="stratum">settings whose metrics are only comparable with each other before the last rung (e.g. the
    /// same factor count, when screening starts depend on it): each stratum keeps its own best 1/η (at least one), and
    /// the promoted are ranked by their rank within their stratum first. Null: one stratum.</param>
    /// <param name="space">where the settings are drawn from (a finite space is walked without repeats).</param>
    /// <param name="trials">settings drawn for rung 0 (the budget).</param>
    /// <param name="seed">seed of the draws.</param>
    /// <param name="rungs">the rungs, cheapest first (null: <see cref="DefaultRungs"/>).</param>
    /// <param name="eta">η: each rung keeps the best 1/η of the one before.</param>
    /// <param name="outOfTime">checked before every trial; once it returns true (and a trial has been scored) the search stops with what it has.</param>
    public static IReadOnlyList<TrialResult> Run(SearchSpace space, int trials, ulong seed, Func<int, int, IReadOnlyDictionary<string, string>, double> evaluate,
        IReadOnlyList<Rung>? rungs = null, int eta = 3, Func<bool>? outOfTime = null,
        Func<int, IReadOnlyList<IReadOnlyDictionary<string, string>>, IReadOnlyList<int>>? affordable = null,
        Func<IReadOnlyDictionary<string, string>, string>? stratum = null)
    {
        if (trials <= 0) throw new BadInputException($"budget must be positive (got {trials}).");
        if (eta < 2) throw new ArgumentException("eta must be at least 2.", nameof(eta));
        rungs ??= DefaultRungs;
        var results = new List<TrialResult>();
        var alive = Enumerable.Range(0, trials).Select(t => (Trial: t, Settings: space.Draw(seed, t))).ToList();
        for (int r = 0; r < rungs.Count && alive.Count > 0; r++)
        {
            var scored = new List<(int Trial, IReadOnlyDictionary<string, string> Settings, double Metric)>();
            foreach (var (trial, settings) in alive)
            {
                if (outOfTime?.Invoke() == true && scored.Count > 0) break;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                double metric = evaluate(trial, r, settings);
                results.Add(new TrialResult(trial, r, settings, metric, sw.Elapsed.TotalSeconds));
                scored.Add((trial, settings, double.IsFinite(metric) ? metric : double.NegativeInfinity));
            }
            if (r == rungs.Count - 1) break;
            alive = stratum is null
                ? scored.OrderByDescending(s => s.Metric).ThenBy(s => s.Trial).Take(Math.Max(1, scored.Count / eta)).Select(s => (s.Trial, s.Settings)).ToList()
                : scored.GroupBy(s => stratum(s.Settings), StringComparer.Ordinal)
                    .SelectMany(g => g.OrderByDescending(s => s.Metric).ThenBy(s => s.Trial).Take(Math.Max(1, g.Count() / eta)).Select((s, rank) => (s, rank)))
                    .OrderBy(x => x.rank).ThenByDescending(x => x.s.Metric).ThenBy(x => x.s.Trial).Select(x => (x.s.Trial, x.s.Settings)).ToList();
            if (affordable is not null && alive.Count > 1)
            {
                var admitted = affordable(r + 1, alive.Select(a => a.Settings).ToList()).Where(i => i >= 0 && i < alive.Count).Distinct().Order().ToList();
                alive = admitted.Count > 0 ? admitted.Select(i => alive[i]).ToList() : [alive[0]];
            }
        }
        return results;
    }

    /// <summary>The best trial of the highest rung reached (ties: lower trial number).</summary>
    public static TrialResult Best(IReadOnlyList<TrialResult> results)
    {
        int top = results.Max(r => r.Rung);
        return results.Where(r => r.Rung == top).OrderByDescending(r => r.Metric).ThenBy(r => r.Trial).First();
    }
}
