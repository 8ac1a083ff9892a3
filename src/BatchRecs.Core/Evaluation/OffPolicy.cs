using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Evaluation;

/// <summary>
/// Logged exposures of served lists (<c>feedback_input</c>) on dense indices: who was shown what, with the probability the
/// serving policy showed it with (its logged propensity), whether it was clicked, and (when known) at which 1-based position.
/// </summary>
public sealed record FeedbackLog(int[] Users, int[] Items, float[] Propensity, bool[] Clicked)
{
    public int Rows => Users.Length;

    /// <summary>The 1-based position each row was served at, or null when the log does not say.</summary>
    public int[]? Positions { get; init; }

    /// <summary>The night each row was served (<see cref="DateOnly.DayNumber"/> of its partition), or null when the log does
    /// not say: a user's rows of one night are one served list.</summary>
    public int[]? Nights { get; init; }

    /// <summary>The given rows, in their order.</summary>
    public FeedbackLog Where(int[] rows) => new FeedbackLog(Array.ConvertAll(rows, e => Users[e]), Array.ConvertAll(rows, e => Items[e]),
            Array.ConvertAll(rows, e => Propensity[e]), Array.ConvertAll(rows, e => Clicked[e]))
        {
            Positions = Positions is { } positions ? Array.ConvertAll(rows, e => positions[e]) : null,
            Nights = Nights is { } nights ? Array.ConvertAll(rows, e => nights[e]) : null,
        };
}

/// <summary>
/// Position-based click model for the estimate: the new lists' rank of a logged item, and the examination probability of
/// each rank (relative: only ratios are used). A click at logged position r counts ex(r′)/ex(r) toward a list that shows
/// the item at r′, so an estimate of lists that move items up or down is not confused with the items' appeal.
/// </summary>
/// <param name="NewRank">the 1-based rank at which the new list shows a logged row's item (only asked where π_new &gt; 0).</param>
/// <param name="Examination">ex(r) for r = 1 … (index r − 1); positions past its end take its last value.</param>
public sealed record PositionModel(Func<int, int> NewRank, double[] Examination)
{
    public double At(int rank) => Examined(Examination, rank);

    /// <summary>ex(rank) of an examination curve (ranks past its end take its last value), or 1 without one.</summary>
    public static double Examined(double[]? examination, int rank) =>
        examination is null ? 1 : examination[Math.Clamp(rank, 1, examination.Length) - 1];

    /// <summary>
    /// Fits ex(r) = r^−η on the log's randomly placed rows (propensity &lt; 1: exploration draws, which BatchRecs puts at
    /// seeded random positions, so an item's relevance does not depend on where it landed and their CTR by position traces
    /// examination alone), by Poisson maximum likelihood of the clicks at each position. Null when there are fewer
    /// than <paramref name="minClicks"/> such clicks or fewer than two positions with clicks: no evidence, no correction.
    /// </summary>
    /// <param name="log">the logged exposures, with positions.</param>
    /// <param name="n">the ranks the model covers (the lists' length).</param>
    /// <param name="minClicks">the clicks on randomly placed rows below which nothing is fitted.</param>
    public static (double Eta, double[] Examination)? FitPowerLaw(FeedbackLog log, int n, int minClicks = 100)
    {
        if (log.Positions is not { } positions) return null;
        int depth = Math.Max(n, 1);
        var shown = new long[depth + 1];
        var clicked = new long[depth + 1];
        for (int e = 0; e < log.Rows; e++)
        {
            if (log.Propensity[e] >= 1 || positions[e] < 1 || positions[e] > depth) continue;
            shown[positions[e]]++;
            if (log.Clicked[e]) clicked[positions[e]]++;
        }
        if (clicked.Sum() < minClicks || clicked.Count(c => c > 0) < 2) return null;
        // Poisson maximum likelihood of clicks_r ~ shown_r · a · r^−η (a profiled out: a = Σ clicks / Σ shown_r·r^−η), by
        // golden-section search over η ∈ [0, 3]; the log-likelihood is concave in η. (A least-squares fit of log CTR leans
        // steep: the log of a small count's ratio is biased low, most at the deep positions that have the fewest clicks.)
        long totalClicks = clicked.Sum();
        double LogLikelihood(double eta)
        {
            double exposure = 0, sum = 0;
            for (int r = 1; r <= depth; r++) exposure += shown[r] * Math.Pow(r, -eta);
            double a = totalClicks / exposure;
            for (int r = 1; r <= depth; r++)
                if (shown[r] > 0) sum += clicked[r] * Math.Log(a * Math.Pow(r, -eta)) - shown[r] * a * Math.Pow(r, -eta);
            return sum;
        }
        double lo = 0, hi = 3, phi = (Math.Sqrt(5) - 1) / 2;
        for (int step = 0; step < 60; step++)
        {
            double m1 = hi - phi * (hi - lo), m2 = lo + phi * (hi - lo);
            if (LogLikelihood(m1) < LogLikelihood(m2)) lo = m1; else hi = m2;
        }
        double eta = (lo + hi) / 2;
        return (eta, Enumerable.Range(1, depth).Select(r => Math.Pow(r, -eta)).ToArray());
    }
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
    /// <param name="target">π_new for a logged row (by its index): the probability the new policy shows the row's item to
    /// the row's user in the row's context.</param>
    /// <param name="n">the new lists' length N.</param>
    /// <param name="bootstrap">resamples for the intervals (0: no interval, Low = High = Value).</param>
    /// <param name="seed">the resampling seed.</param>
    /// <param name="position">a position-based click model (needs the log's positions), or null: clicks are taken as the
    /// item's whatever its position (the item-level model).</param>
    public static OpeReport Evaluate(FeedbackLog log, Func<int, double> target, int n, int bootstrap = 200, ulong seed = 1, PositionModel? position = null)
    {
        if (log.Rows == 0) throw new ArgumentException("the feedback log is empty.", nameof(log));
        if (position is not null && log.Positions is null) throw new ArgumentException("a position model needs the log's positions.", nameof(position));
        // Per user: sums of the estimators' terms, so a bootstrap resample is a weighted sum over users.
        var index = new Dictionary<int, int>();
        var sums = new List<UserSums>();
        long clicks = 0;
        for (int e = 0; e < log.Rows; e++)
        {
            if (!index.TryGetValue(log.Users[e], out int j)) { index[log.Users[e]] = j = sums.Count; sums.Add(new UserSums()); }
            double pi = target(e), p = log.Propensity[e];
            double c = log.Clicked[e] ? 1 : 0;
            // Under the position model a click at logged position r is worth ex(r′)/ex(r) at the new rank r′.
            double moved = position is null || pi == 0 || c == 0 ? 1
                : position.At(position.NewRank(e)) / position.At(log.Positions![e]);
            var s = sums[j];
            s.Rows++;
            if (log.Nights is null ? s.Lists == 0 : s.Nights.Add(log.Nights[e])) s.Lists++;
            s.Weight += pi / p;
            s.WeightedClicks += pi / p * c * moved;
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
        public int Rows, Lists;
        public readonly HashSet<int> Nights = [];
        public double Weight, WeightedClicks, ClickMass, ClickMassShown;
    }

    /// <summary>IPS CTR, SNIPS CTR, IPS recall, SNIPS recall over users drawn <paramref name="times"/>[j] times each.</summary>
    private static double[] Compute(UserSums[] users, int[] times, int n)
    {
        double weighted = 0, weight = 0, mass = 0, shown = 0, recallSum = 0, lists = 0, withClick = 0;
        for (int j = 0; j < users.Length; j++)
        {
            if (times[j] == 0) continue;
            var s = users[j];
            int t = times[j];
            weighted += t * s.WeightedClicks; weight += t * s.Weight; mass += t * s.ClickMass; shown += t * s.ClickMassShown;
            lists += t * s.Lists;
            if (s.ClickMass > 0) { recallSum += t * s.ClickMassShown / s.ClickMass; withClick += t; }
        }
        return [weighted / (n * lists), weight > 0 ? weighted / weight : 0, mass > 0 ? shown / mass : 0, withClick > 0 ? recallSum / withClick : 0];
    }

    private static double Percentile(double[] x, double q)
    {
        var sorted = (double[])x.Clone();
        Array.Sort(sorted);
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(sorted.Length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>
    /// The doubly robust CTR of new lists (Dudík, Langford and Li 2011, with the position model): a direct estimate of every
    /// slot of every judged list, ex(r)·ĝ(s), plus the inverse-propensity-weighted residuals of the logged rows those lists
    /// hold, ex(r′)/ex(r)·(c − ex(r)·ĝ(s))/p. ĝ maps the new model's score s of a (user, item) to its click probability when
    /// examined: fitted on the judged users' randomized rows when they carry enough clicks, otherwise on each pair's first
    /// exposure (weighted 1/p, so each stands for the pairs its policy left out), in up to 20 score bins, then made
    /// non-decreasing (pool-adjacent violators). Where the logging policy never showed an item IPS has nothing to say and the
    /// direct part still counts it; where ĝ is wrong the residuals correct it on average.
    /// </summary>
    /// <param name="log">the logged exposures (with positions when <paramref name="examination"/> is given).</param>
    /// <param name="lists">the judged lists: user, items best first, and the new model's scores of them.</param>
    /// <param name="listOfRow">the index in <paramref name="lists"/> of the list that stands in for a row's served list, or −1 (the row is not judged).</param>
    /// <param name="rowScore">the new model's score of a judged row's item for its user.</param>
    /// <param name="n">the list length N (slots per list).</param>
    /// <param name="examination">ex(r) for r = 1 …, or null: every position examined alike.</param>
    /// <param name="bootstrap">resamples of users for the interval.</param>
    /// <param name="seed">the resampling seed.</param>
    /// <param name="maxWeight">rows whose weight 1/p exceeds it add no residual (the SWITCH estimator of Wang, Agarwal and
    /// Dudík 2017): a residual weighted 50 or 2,000 is almost always a small negative and rarely a huge positive, so its
    /// realized sum runs low night after night; the direct estimate is the better bet there.</param>
    /// <param name="minExploredClicks">the clicks on randomized rows (p &lt; 1) from which ĝ is fitted on those rows alone.</param>
    public static Estimate DoublyRobustCtr(FeedbackLog log, IReadOnlyList<JudgedList> lists, Func<int, int> listOfRow, Func<int, double> rowScore, int n,
        double[]? examination, int bootstrap = 200, ulong seed = 1, double maxWeight = DefaultMaxWeight, int minExploredClicks = DefaultMinExploredClicks)
    {
        double Ex(int rank) => PositionModel.Examined(examination, rank);
        if (examination is not null && log.Positions is null) throw new ArgumentException("an examination model needs the log's positions.", nameof(examination));
        var judged = Enumerable.Range(0, log.Rows).Where(e => listOfRow(e) >= 0).ToArray();
        if (judged.Length == 0 || lists.Count == 0) throw new ArgumentException("no logged row is judged.", nameof(listOfRow));
        var index = new Dictionary<int, int>();
        int UserIndex(int u) => index.TryGetValue(u, out int j) ? j : index[u] = index.Count;
        var listUser = lists.Select(l => UserIndex(l.User)).ToArray();
        // The calibration's rows. The slots ĝ alone answers for are those the logging policy left to chance: its own
        // deterministic picks (p = 1) are in the residuals. Randomized rows (p < 1) weighted 1/p are a sample of exactly those
        // pairs, so ĝ is fitted on them once they carry minExploredClicks clicks. The logging policy's picks would bias it:
        // a policy that knew more than the judged model (its later data, items the judged fit never saw) picked, at each
        // score, the pairs that click more, and the judged lists' pairs it passed over click less (measured with
        // `simulate`: ĝ from every row read those slots 20 % high and the estimate ran 5–10 % high night after night).
        // Without enough randomized clicks, each (user, item)'s first exposure: a pair shown again was passed over the
        // first time, so repeats stand for the items users skip and would pull ĝ down where the model is most sure.
        var explored = judged.Where(e => log.Propensity[e] < 1).ToArray();
        int[] calib;
        if (explored.Count(e => log.Clicked[e]) >= minExploredClicks) calib = explored;
        else
        {
            var first = new Dictionary<(int, int), int>();
            foreach (int e in judged)
            {
                var key = (log.Users[e], log.Items[e]);
                if (!first.TryGetValue(key, out int f) || Night(log, e) < Night(log, f)) first[key] = e;
            }
            calib = [.. first.Values];
        }
        calib = calib.OrderBy(rowScore).ToArray();
        var calibScore = calib.Select(rowScore).ToArray();
        var calibClick = calib.Select(e => log.Clicked[e] ? 1.0 : 0).ToArray();
        var calibExamined = calib.Select(e => examination is null ? 1 : Ex(log.Positions![e])).ToArray();
        var calibUser = calib.Select(e => UserIndex(log.Users[e])).ToArray();
        // The residuals' rows: judged rows whose item the new list holds, weight 1/p at most maxWeight.
        var resid = judged.Where(e => 1 / log.Propensity[e] <= maxWeight && Array.IndexOf(lists[listOfRow(e)].Items, log.Items[e]) >= 0).ToArray();
        int users = index.Count;
        var weights = new double[calib.Length];
        var perUser = new double[users];

        double Value(int[]? times)
        {
            int T(int user) => times?[user] ?? 1;
            for (int j = 0; j < calib.Length; j++) weights[j] = T(calibUser[j]) / (double)log.Propensity[calib[j]];
            var g = Calibration.Fit(calibScore, calibClick, calibExamined, weights, sorted: true);
            double num = 0, den = 0;
            for (int l = 0; l < lists.Count; l++)
            {
                int t = T(listUser[l]);
                if (t == 0) continue;
                var list = lists[l];
                double direct = 0;
                for (int r = 0; r < list.Items.Length; r++) direct += Ex(r + 1) * g.At(list.Scores[r]);
                num += t * direct;
                den += t * n;
            }
            foreach (int e in resid)
            {
                int t = T(UserIndex(log.Users[e]));
                if (t == 0) continue;
                int rank = Array.IndexOf(lists[listOfRow(e)].Items, log.Items[e]) + 1;
                double exLogged = examination is null ? 1 : Ex(log.Positions![e]);
                double c = log.Clicked[e] ? 1 : 0;
                num += t * Ex(rank) / exLogged * (c - exLogged * g.At(rowScore(e))) / log.Propensity[e];
            }
            return den > 0 ? num / den : 0;
        }
        double point = Value(null);
        if (bootstrap == 0) return new(point, point, point);
        // The interval resamples users and refits ĝ on each resample: the calibration's own uncertainty is in it.
        var rng = new Random(unchecked((int)SplitMix64.Mix(seed ^ 0xD0B1E)));
        var counts = new int[users];
        var draws = new double[bootstrap];
        for (int b = 0; b < bootstrap; b++)
        {
            Array.Clear(counts);
            for (int j = 0; j < users; j++) counts[rng.Next(users)]++;
            draws[b] = Value(counts);
        }
        return new(point, Percentile(draws, 0.025), Percentile(draws, 0.975));
    }

    private static int Night(FeedbackLog log, int e) => log.Nights?[e] ?? 0;

    /// <summary>The weight 1/p above which <see cref="DoublyRobustCtr"/> drops a row's residual.</summary>
    public const double DefaultMaxWeight = 10;

    /// <summary>The clicks on randomized rows from which <see cref="DoublyRobustCtr"/> fits ĝ on them alone.</summary>
    public const int DefaultMinExploredClicks = 500;

    /// <summary>π_new for deterministic lists: 1 when the row's user's list holds the row's item.</summary>
    public static Func<int, double> InLists(TopNResult lists, FeedbackLog log) => e =>
        log.Users[e] < lists.Users && lists.ItemsOf(log.Users[e]).Contains(log.Items[e]) ? 1 : 0;
}

/// <summary>A new list the doubly robust estimate judges: its user, its items best first, and the new model's scores of them.</summary>
public sealed record JudgedList(int User, int[] Items, float[] Scores);

/// <summary>
/// A non-decreasing map from a model score to a click probability when examined: weighted ratio estimates Σ w·c / Σ w·ex
/// in up to 20 equal-count score bins, merged by pool-adjacent violators until they do not decrease.
/// </summary>
public sealed class Calibration
{
    private readonly double[] _upper; // each bin's highest score
    private readonly double[] _value;

    private Calibration(double[] upper, double[] value) => (_upper, _value) = (upper, value);

    /// <summary>The click probability when examined of a pair with score <paramref name="score"/>.</summary>
    public double At(double score)
    {
        int b = Array.BinarySearch(_upper, score);
        if (b < 0) b = ~b;
        return _value[Math.Min(b, _value.Length - 1)];
    }

    /// <param name="scores">each row's score.</param>
    /// <param name="clicks">each row's outcome (0 or 1).</param>
    /// <param name="examined">each row's examination probability at the position it was logged at.</param>
    /// <param name="weights">each row's weight (1/p).</param>
    /// <param name="maxBins">the most score bins.</param>
    /// <param name="minRowsPerBin">the fewest rows a bin holds (fewer bins for small logs).</param>
    /// <param name="sorted">the rows are already in ascending score order.</param>
    public static Calibration Fit(double[] scores, double[] clicks, double[] examined, double[] weights, int maxBins = 20, int minRowsPerBin = 100, bool sorted = false)
    {
        var order = sorted ? Enumerable.Range(0, scores.Length).ToArray() : Enumerable.Range(0, scores.Length).OrderBy(e => scores[e]).ToArray();
        int bins = Math.Clamp(scores.Length / minRowsPerBin, 1, maxBins);
        var blocks = new List<(double Upper, double Clicks, double Exposure)>();
        for (int b = 0; b < bins; b++)
        {
            int from = (int)((long)b * order.Length / bins), to = (int)((long)(b + 1) * order.Length / bins);
            double c = 0, x = 0;
            for (int j = from; j < to; j++) { int e = order[j]; c += weights[e] * clicks[e]; x += weights[e] * examined[e]; }
            blocks.Add((scores[order[to - 1]], c, x));
        }
        // Pool-adjacent violators: merge a bin into its predecessor while its rate is lower.
        var merged = new List<(double Upper, double Clicks, double Exposure)>();
        foreach (var blk in blocks)
        {
            merged.Add(blk);
            while (merged.Count > 1 && Rate(merged[^1]) < Rate(merged[^2]))
            {
                var (last, prev) = (merged[^1], merged[^2]);
                merged.RemoveRange(merged.Count - 2, 2);
                merged.Add((last.Upper, prev.Clicks + last.Clicks, prev.Exposure + last.Exposure));
            }
        }
        return new Calibration(merged.Select(m => m.Upper).ToArray(), merged.Select(m => Math.Min(1, Rate(m))).ToArray());
    }

    private static double Rate((double Upper, double Clicks, double Exposure) b) => b.Exposure > 0 ? b.Clicks / b.Exposure : 0;
}
