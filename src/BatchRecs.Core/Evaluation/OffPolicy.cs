using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Evaluation;

/// <summary>
/// Logged exposures of served lists (<c>feedback_input</c>) on dense indices: who was shown what, with the probability the
/// serving policy showed it with (its logged propensity), and whether it was clicked.
/// </summary>
public sealed record FeedbackLog(int[] Users, int[] Items, float[] Propensity, bool[] Clicked)
{
    public int Rows => Users.Length;
}

/// <summary>An estimate with its bootstrap 95 % interval (percentiles 2.5 and 97.5 over resampled users).</summary>
public readonly record struct Estimate(double Value, double Low, double High);

/// <summary>Off-policy estimates of new lists on logged traffic, and what was observed on it.</summary>
/// <param name="Users">logged users (those whose served lists the log holds).</param>
/// <param name="Rows">logged exposures.</param>
/// <param name="LoggedCtr">the observed click-through rate of the served lists: clicks / exposures.</param>
/// <param name="IpsCtr">Σ w·click / (N · users), w = π_new / p: the new lists' clicks per impression, unbiased when every
/// item the new lists show had a logged propensity above 0.</param>
/// <param name="SnipsCtr">Σ w·click / Σ w: the same, self-normalized (lower variance, small bias).</param>
/// <param name="IpsRecall">Σ π_new·click/p / Σ click/p: the share of the (reweighted) clicked items the new lists hold.</param>
/// <param name="SnipsRecall">the same per user, averaged over users with a click.</param>
public sealed record OpeReport(int Users, int Rows, double LoggedCtr, Estimate IpsCtr, Estimate SnipsCtr, Estimate IpsRecall, Estimate SnipsRecall);

/// <summary>
/// Inverse propensity scoring of a new set of lists on exposures logged under another policy (Horvitz–Thompson; the
/// self-normalized form of Swaminathan and Joachims 2015). Each logged exposure (u, i, p, c) weighs π_new(i | u) / p:
/// for deterministic lists π_new = 1 when the new list of u holds i, else 0. Items are treated as examined independently
/// of their position (an item-level model): position bias is left to the logged propensities' policy.
/// </summary>
/// <remarks>
/// The logging policy judged on its own traffic has w = 1 for every row, so IPS CTR = clicks / (N·users) — the observed
/// CTR when every served list had N logged rows — and SNIPS CTR = clicks / rows exactly. The intervals resample users
/// (clusters: a user's rows are not independent) <c>bootstrap</c> times with a seeded generator.
/// </remarks>
public static class OffPolicy
{
    /// <param name="log">the logged exposures.</param>
    /// <param name="target">π_new(i | u) for a logged row's user and item.</param>
    /// <param name="n">the new lists' length N.</param>
    /// <param name="bootstrap">resamples for the intervals (0: no interval, Low = High = Value).</param>
    /// <param name="seed">the resampling seed.</param>
    public static OpeReport Evaluate(FeedbackLog log, Func<int, int, double> target, int n, int bootstrap = 200, ulong seed = 1)
    {
        if (log.Rows == 0) throw new ArgumentException("the feedback log is empty.", nameof(log));
        // Per user: sums of the estimators' terms, so a bootstrap resample is a weighted sum over users.
        var index = new Dictionary<int, int>();
        var sums = new List<UserSums>();
        long clicks = 0;
        for (int e = 0; e < log.Rows; e++)
        {
            if (!index.TryGetValue(log.Users[e], out int j)) { index[log.Users[e]] = j = sums.Count; sums.Add(new UserSums()); }
            double pi = target(log.Users[e], log.Items[e]), p = log.Propensity[e];
            double c = log.Clicked[e] ? 1 : 0;
            var s = sums[j];
            s.Rows++;
            s.Weight += pi / p;
            s.WeightedClicks += pi / p * c;
            s.ClickMass += c / p;
            s.ClickMassShown += pi * c / p;
            clicks += (long)c;
        }
        var users = sums.ToArray();
        var all = Array.ConvertAll(users, _ => 1);
        var point = Compute(users, all, n);
        var draws = new double[4][];
        for (int m = 0; m < 4; m++) draws[m] = new double[bootstrap];
        var rng = new Random(unchecked((int)SplitMix64.Mix(seed)));
        var counts = new int[users.Length];
        for (int b = 0; b < bootstrap; b++)
        {
            Array.Clear(counts);
            for (int j = 0; j < users.Length; j++) counts[rng.Next(users.Length)]++;
            var r = Compute(users, counts, n);
            for (int m = 0; m < 4; m++) draws[m][b] = r[m];
        }
        Estimate At(int m) => bootstrap == 0 ? new(point[m], point[m], point[m]) : new(point[m], Percentile(draws[m], 0.025), Percentile(draws[m], 0.975));
        return new OpeReport(users.Length, log.Rows, (double)clicks / log.Rows, At(0), At(1), At(2), At(3));
    }

    private sealed class UserSums
    {
        public int Rows;
        public double Weight, WeightedClicks, ClickMass, ClickMassShown;
    }

    /// <summary>IPS CTR, SNIPS CTR, IPS recall, SNIPS recall over users drawn <paramref name="times"/>[j] times each.</summary>
    private static double[] Compute(UserSums[] users, int[] times, int n)
    {
        double weighted = 0, weight = 0, mass = 0, shown = 0, recallSum = 0, count = 0, withClick = 0;
        for (int j = 0; j < users.Length; j++)
        {
            if (times[j] == 0) continue;
            var s = users[j];
            int t = times[j];
            weighted += t * s.WeightedClicks; weight += t * s.Weight; mass += t * s.ClickMass; shown += t * s.ClickMassShown;
            count += t;
            if (s.ClickMass > 0) { recallSum += t * s.ClickMassShown / s.ClickMass; withClick += t; }
        }
        return [weighted / (n * count), weight > 0 ? weighted / weight : 0, mass > 0 ? shown / mass : 0, withClick > 0 ? recallSum / withClick : 0];
    }

    private static double Percentile(double[] x, double q)
    {
        var sorted = (double[])x.Clone();
        Array.Sort(sorted);
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(sorted.Length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>π_new for deterministic lists: 1 when user u's list holds item i.</summary>
    public static Func<int, int, double> InLists(TopNResult lists) => (u, i) => u < lists.Users && lists.ItemsOf(u).Contains(i) ? 1 : 0;
}
