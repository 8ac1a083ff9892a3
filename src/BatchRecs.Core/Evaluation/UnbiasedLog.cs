using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Evaluation;

/// <summary>
/// An unbiased validation log (<c>unbiased_input</c>): logged (user, item) pairs — items shown at random, or by an
/// exploration policy that logged the probability it showed them with — each with a label. A model is judged on it the
/// way a randomized test set is (<see cref="RandomizedTestMetrics"/>): each user's logged items are ordered by the model,
/// and the positives near the top count, weighted by 1/propensity (SNIPS) when the propensities differ.
/// </summary>
/// <remarks>
/// Why the logged items and not the top-N of the whole catalogue: a user has a handful of logged items, of which one or
/// two are positive, so "is a positive among the top 10 of 10,000" is almost always no, for every model, and ranks
/// models by noise. Ordering the logged items uses every positive and negative the log holds; with items shown at random
/// it estimates how the model orders what users like against what they do not (Saito et al. 2020, §5).
/// </remarks>
public sealed class UnbiasedLog
{
    private UnbiasedLog(CsrMatrix labels, float[] propensity)
    {
        Labels = labels;
        Propensity = propensity;
        for (int e = 0; e < labels.NonZeros; e++) if (labels.Values[e] > 0) Positives++;
    }

    /// <summary>users × items: one entry per logged pair, 1 for a positive label, 0 for a negative one.</summary>
    public CsrMatrix Labels { get; }

    /// <summary>The probability each logged pair was shown with, aligned with <see cref="Labels"/>' entries, in (0, 1].</summary>
    public float[] Propensity { get; }

    public int Pairs => Labels.NonZeros;

    public int Positives { get; }

    /// <summary>
    /// The log from its rows (dense indices). A pair logged more than once counts once: positive if any of its rows is,
    /// with the smallest of its propensities (the pair stands for the most unshown pairs any of its rows stands for).
    /// </summary>
    public static UnbiasedLog FromRows(int users, int items, ReadOnlySpan<int> user, ReadOnlySpan<int> item, ReadOnlySpan<bool> positive, ReadOnlySpan<float> propensity)
    {
        int n = user.Length;
        if (item.Length != n || positive.Length != n || propensity.Length != n) throw new ArgumentException("the log's columns differ in length.");
        var keys = new long[n];
        var rows = new int[n];
        for (int r = 0; r < n; r++)
        {
            if ((uint)user[r] >= (uint)users || (uint)item[r] >= (uint)items) throw new ArgumentOutOfRangeException(nameof(user), $"row {r} ({user[r]}, {item[r]}) is outside {users}×{items}.");
            if (!(propensity[r] > 0 && propensity[r] <= 1)) throw new ArgumentOutOfRangeException(nameof(propensity), $"row {r}: propensity {propensity[r]} is not in (0, 1].");
            keys[r] = (long)user[r] * items + item[r];
            rows[r] = r;
        }
        Array.Sort(keys, rows);
        var (u, i, label, p) = (new List<int>(n), new List<int>(n), new List<float>(n), new List<float>(n));
        for (int j = 0; j < n; j++)
        {
            int r = rows[j];
            if (j > 0 && keys[j] == keys[j - 1])
            {
                if (positive[r]) label[^1] = 1;
                p[^1] = Math.Min(p[^1], propensity[r]);
                continue;
            }
            u.Add(user[r]); i.Add(item[r]); label.Add(positive[r] ? 1 : 0); p.Add(propensity[r]);
        }
        // The entries are sorted by (user, item) and unique, so the CSR keeps their order and the propensities stay aligned.
        return new UnbiasedLog(CsrMatrix.FromEntries(users, items, u.ToArray(), i.ToArray(), label.ToArray()), p.ToArray());
    }

    /// <summary>The log of the users <paramref name="keep"/> accepts (a tuning rung's user sample).</summary>
    public UnbiasedLog Restrict(Func<int, bool> keep)
    {
        var (u, i, label, p) = (new List<int>(), new List<int>(), new List<float>(), new List<float>());
        for (int row = 0; row < Labels.Rows; row++)
        {
            if (!keep(row)) continue;
            for (int e = Labels.RowPtr[row]; e < Labels.RowPtr[row + 1]; e++)
            {
                u.Add(row); i.Add(Labels.ColIdx[e]); label.Add(Labels.Values[e]); p.Add(Propensity[e]);
            }
        }
        return new UnbiasedLog(CsrMatrix.FromEntries(Labels.Rows, Labels.Cols, u.ToArray(), i.ToArray(), label.ToArray()), p.ToArray());
    }

    /// <summary>
    /// Each user's logged items, best first by <paramref name="score"/> (ties by item id), as lists: items in the user's
    /// <paramref name="history"/> are left out, as a published list leaves them out, and so count as ranked last.
    /// </summary>
    /// <param name="history">users × items the model was trained on (rows past its end: no history).</param>
    /// <param name="score">the score the published ranking orders a (user, item) by.</param>
    public TopNResult Rank(CsrMatrix history, Func<int, int, double> score)
    {
        int depth = 1;
        for (int u = 0; u < Labels.Rows; u++) depth = Math.Max(depth, Labels.RowLength(u));
        var lists = new TopNResult(Labels.Rows, depth);
        var keys = new double[depth];
        var order = new int[depth];
        for (int u = 0; u < Labels.Rows; u++)
        {
            var items = Labels.RowCols(u);
            var seen = u < history.Rows ? history.RowCols(u) : [];
            int m = 0;
            foreach (int i in items)
            {
                if (seen.BinarySearch(i) >= 0) continue;
                order[m] = i;
                keys[m++] = -score(u, i); // ascending keys = best first
            }
            Array.Sort(keys, order, 0, m);
            SortTiesById(keys, order, m);
            for (int j = 0; j < m; j++)
            {
                lists.Items[(long)u * depth + j] = order[j];
                lists.Scores[(long)u * depth + j] = (float)-keys[j];
            }
            lists.Counts[u] = m;
        }
        return lists;
    }

    /// <summary>Array.Sort is not stable: within runs of equal keys, put the items back in id order.</summary>
    private static void SortTiesById(double[] keys, int[] items, int m)
    {
        for (int a = 0; a < m;)
        {
            int b = a + 1;
            while (b < m && keys[b] == keys[a]) b++;
            if (b - a > 1) Array.Sort(items, a, b - a);
            a = b;
        }
    }

    /// <summary>SNIPS DCG@K and Recall@K of the positives in a ranking of the logged items (<see cref="Rank"/>).</summary>
    public RandomizedTestReport Evaluate(TopNResult ranking, int k) =>
        RandomizedTestMetrics.Evaluate(ranking, Labels, k, positiveAt: 0.5f, propensity: Propensity);

    /// <summary>The plain dot-product score of a model's factors (what exact top-N orders by).</summary>
    public static Func<int, int, double> DotScore(float[] userFactors, float[] itemFactors, int k) =>
        (u, i) => ScoreKey.Dot(userFactors.AsSpan(u * k, k), itemFactors.AsSpan(i * k, k));
}
