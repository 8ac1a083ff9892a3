using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>
/// "Similar items": for every item, the <c>n</c> other items whose factors have the largest cosine similarity with its
/// own. It is the top-N search of <see cref="ExactTopN"/> (or an <see cref="IvfIndex"/>) with the normalized items as both
/// the queries and the catalogue, and the identity as the exclusion CSR, so an item is never its own neighbour.
/// </summary>
/// <remarks>
/// Cosine(a, b) = aᵀb / (‖a‖‖b‖) is the inner product of the unit vectors â = a/‖a‖, b̂ = b/‖b‖, so normalizing once
/// turns the maximum-cosine search into the maximum-inner-product search the index machinery already does (ties to the
/// lower item index, <see cref="ScoreKey"/>). An item whose factors are all zero has no direction: it is given the zero
/// vector, so all its cosines are 0. Example, 3 items, k = 2:
/// <code>
///   y0 = (3, 4)  → ŷ0 = (0.6, 0.8)        cos(0,1) = 0.6   cos(0,2) = 0
///   y1 = (1, 0)  → ŷ1 = (1, 0)            row 0: [1 (0.6), 2 (0)]
///   y2 = (0, 0)  → ŷ2 = (0, 0)            row 2: [0 (0), 1 (0)]   (ties: lower index first)
/// </code>
/// Banned items are excluded as neighbours (the query's <c>Banned</c> set) and are not searched as queries: their rows
/// are empty (<c>Counts = 0</c>).
/// </remarks>
public static class SimilarItems
{
    /// <summary>Top-<paramref name="n"/> most similar other items for every item; row i of the result is item i.</summary>
    /// <param name="itemFactors">items × k, row-major; not modified.</param>
    /// <param name="k">the factor dimension.</param>
    /// <param name="n">neighbours per item (fewer when fewer eligible items exist).</param>
    /// <param name="banned">items that are nobody's neighbour and get no list of their own, or null.</param>
    /// <param name="ivf">search an IVF index built with these options over the normalized items; null: exact search.</param>
    /// <param name="nprobe">lists scanned per item with <paramref name="ivf"/>; 0 = auto-tuned to <paramref name="targetRecall"/>
    /// (<see cref="IvfIndex.AutoTuneNprobe"/> on a seeded sample of the items).</param>
    /// <param name="targetRecall">the mean recall@n an auto-tuned nprobe reaches on its sample.</param>
    /// <param name="maxThreads">threads (−1 = all cores); results do not depend on it.</param>
    public static TopNResult Compute(float[] itemFactors, int k, int n, IReadOnlySet<int>? banned = null,
        IvfBuildOptions? ivf = null, int nprobe = 0, double targetRecall = 0.95, int maxThreads = -1)
    {
        ArgumentNullException.ThrowIfNull(itemFactors);
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k (factors) must be positive (got {k}).");
        if (itemFactors.Length % k != 0) throw new ArgumentException($"item factors have {itemFactors.Length} values, not a multiple of k = {k}.", nameof(itemFactors));
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), $"the number of similar items must be ≥ 0 (got {n}).");
        if (nprobe < 0) throw new ArgumentOutOfRangeException(nameof(nprobe), $"nprobe must be ≥ 0, 0 = auto-tuned (got {nprobe}).");
        int items = itemFactors.Length / k;
        if (items == 0 || n == 0) return new TopNResult(items, n);
        return ComputeCore(Normalize(itemFactors, k), k, items, n, banned, ivf, nprobe, targetRecall, maxThreads);
    }

    /// <summary>
    /// Each row scaled to unit length (the norm accumulated in double); a zero row stays zero. Returns a new array.
    /// </summary>
    /// <param name="factors">rows × k, row-major.</param>
    /// <param name="k">the row length.</param>
    internal static float[] Normalize(float[] factors, int k)
    {
        var unit = new float[factors.Length];
        for (int r = 0; r < factors.Length / k; r++)
        {
            var row = factors.AsSpan(r * k, k);
            double sq = 0;
            foreach (float v in row) sq += (double)v * v;
            if (sq == 0) continue;
            float inv = (float)(1 / Math.Sqrt(sq));
            var dst = unit.AsSpan(r * k, k);
            for (int d = 0; d < k; d++) dst[d] = row[d] * inv;
        }
        return unit;
    }

    /// <summary>The n × n identity as a CSR: row i excludes column i (an item is not its own neighbour).</summary>
    internal static CsrMatrix Identity(int items)
    {
        var ptr = new int[items + 1];
        var cols = new int[items];
        for (int i = 0; i < items; i++) { ptr[i + 1] = i + 1; cols[i] = i; }
        var ones = new float[items];
        Array.Fill(ones, 1f);
        return new CsrMatrix(items, items, ptr, cols, ones);
    }

    /// <summary>Arguments checked; <paramref name="unit"/> is the normalized items, searched for every non-banned item.</summary>
    private static TopNResult ComputeCore(float[] unit, int k, int items, int n, IReadOnlySet<int>? banned,
        IvfBuildOptions? ivf, int nprobe, double targetRecall, int maxThreads)
    {
        var self = Identity(items);
        int[]? queries = banned is { Count: > 0 } ? Enumerable.Range(0, items).Where(i => !banned.Contains(i)).ToArray() : null;
        if (queries is { Length: 0 }) return new TopNResult(items, n);
        TopNResult lists;
        if (ivf is null)
        {
            lists = ExactTopN.Search(unit, unit, k, new TopNQuery(n, self, banned, maxThreads), queries);
        }
        else
        {
            var index = IvfIndex.Build(unit, k, ivf);
            var options = new IvfSearchOptions(n, Math.Max(1, nprobe), self, banned, maxThreads);
            if (nprobe == 0)
                options = options with
                {
                    Nprobe = index.AutoTuneNprobe(unit, unit, options, targetRecall, seed: ivf.Seed + 1, candidateUsers: queries).Nprobe,
                };
            lists = index.Search(unit, options, queries).Result;
        }
        return queries is null ? lists : lists.Scatter(queries, items);
    }
}
