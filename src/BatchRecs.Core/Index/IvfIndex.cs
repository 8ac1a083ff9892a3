namespace BatchRecs.Core.Index;

/// <summary>
/// An inverted-file (IVF) index over item factors for maximum-inner-product top-N. It coordinates three parts:
/// a coarse quantizer (k-means centroids of the MIPS-augmented items, <see cref="MipsTransform"/>), the inverted
/// lists (<see cref="InvertedLists"/>, items stored contiguously per centroid) and a list scanner that serves a
/// whole block of users at once (<see cref="Search"/>). With nprobe = nlist it returns exactly what
/// <see cref="ExactTopN.Search"/> returns.
/// </summary>
/// <remarks>
/// Build: augment items to ṽ = [v, sqrt(M² − ‖v‖²)] (norm M for all), cluster ṽ into nlist lists with seeded
/// k-means, store each list's original vectors contiguously. Search: a user's lists are the nprobe centroids
/// nearest to q̃ = [q, 0], i.e. the largest qᵀc − ‖c̃‖²/2; their items are scored exactly. Immutable after
/// <see cref="Build"/>; one index may serve concurrent searches.
/// </remarks>
public sealed partial class IvfIndex
{
    private IvfIndex(int items, int k, float maxNorm, float[] centroidRows, InvertedLists lists)
    {
        Items = items;
        K = k;
        MaxNorm = maxNorm;
        _centroidRows = centroidRows;
        _centroids = PackedPanels.Pack(centroidRows, k + 1, PackedPanels.IdentitySlots(lists.Count));
        _lists = lists;
    }

    /// <summary>Probe scoring rows [c₀..c_{k−1}, −‖c̃‖²/2] (nlist × (k + 1)); queries are [q, 1].</summary>
    private readonly float[] _centroidRows;
    private readonly PackedPanels _centroids;
    private readonly InvertedLists _lists;

    public int Items { get; }
    public int K { get; }
    public int Nlist => _lists.Count;

    /// <summary>The largest item norm M of the MIPS transform.</summary>
    public float MaxNorm { get; }

    /// <summary>Items per list.</summary>
    public IReadOnlyList<int> ListSizes => _lists.Sizes;

    /// <summary>≈ 4·sqrt(items), at least 1 and at most the item count.</summary>
    public static int DefaultNlist(int items) => items <= 0 ? 1 : Math.Clamp((int)Math.Round(4 * Math.Sqrt(items)), 1, items);

    /// <param name="itemFactors">items × k, row-major; copied (the index keeps no reference).</param>
    public static IvfIndex Build(float[] itemFactors, int k, IvfBuildOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(itemFactors);
        options ??= new IvfBuildOptions();
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k (factors) must be positive (got {k}).");
        if (itemFactors.Length % k != 0) throw new ArgumentException($"item factors have {itemFactors.Length} values, not a multiple of k = {k}.", nameof(itemFactors));
        int items = itemFactors.Length / k;
        if (items == 0) throw new ArgumentException("cannot build an index over an empty catalogue.", nameof(itemFactors));
        int nlist = options.Nlist == 0 ? DefaultNlist(items) : options.Nlist;
        if (nlist < 1 || nlist > items) throw new ArgumentOutOfRangeException(nameof(options), $"nlist must be between 1 and the item count {items} (got {options.Nlist}).");
        if (options.Iterations < 0) throw new ArgumentOutOfRangeException(nameof(options), $"k-means iterations must be ≥ 0 (got {options.Iterations}).");
        if (options.TrainPointsPerList < 1) throw new ArgumentOutOfRangeException(nameof(options), $"training points per list must be ≥ 1 (got {options.TrainPointsPerList}).");

        int ranges = Math.Clamp(options.NormRanges, 1, nlist);
        var (assignment, centres, maxNorm) = PartitionByNormRanges(itemFactors, items, k, nlist, ranges, options);
        var lists = InvertedLists.Build(itemFactors, k, assignment, nlist);
        // Probe rows [c, 0]: against a query row [q, 1] the kernel computes qᵀc, the inner product with the
        // list's centre in the original space (comparable across norm ranges).
        var probeRows = MipsTransform.AppendColumn(centres, nlist, k, _ => 0f);
        return new IvfIndex(items, k, maxNorm, probeRows, lists);
    }

    /// <summary>
    /// Splits the items into <paramref name="ranges"/> ranges of equal count by norm, gives each range a share of
    /// the lists proportional to its size, and clusters each range separately after the MIPS transform with the
    /// range's own largest norm (norm-ranged partitions, after Yan et al. 2018, "Norm-Ranging LSH for MIPS").
    /// With one global M, the few large-norm items of ALS factors make the extra coordinate dominate for all the
    /// others, which then collapse into a handful of huge lists; per range, norms are alike and clustering follows
    /// direction. Returns each item's list, each list's centre in the original space (nlist × k) and the largest norm.
    /// </summary>
    private static (int[] Assignment, float[] Centres, float MaxNorm) PartitionByNormRanges(float[] itemFactors, int items, int k,
        int nlist, int ranges, IvfBuildOptions options)
    {
        var negNorm = new float[items];
        for (int i = 0; i < items; i++) negNorm[i] = -ScoreKey.Dot(itemFactors.AsSpan(i * k, k), itemFactors.AsSpan(i * k, k));
        var byNorm = Enumerable.Range(0, items).ToArray();
        Array.Sort(negNorm.ToArray(), byNorm); // largest norm first; ties keep a deterministic order (introsort is deterministic)
        var assignment = new int[items];
        var centres = new float[(long)nlist * k];
        float maxNorm = MathF.Sqrt(-negNorm.Min());
        int listBase = 0;
        for (int r = 0; r < ranges; r++)
        {
            int i0 = (int)((long)items * r / ranges), i1 = (int)((long)items * (r + 1) / ranges);
            int lists = (int)((long)nlist * (r + 1) / ranges) - (int)((long)nlist * r / ranges);
            int n = i1 - i0;
            lists = Math.Min(lists, n);
            var rows = new float[(long)n * k];
            for (int j = 0; j < n; j++) itemFactors.AsSpan(byNorm[i0 + j] * k, k).CopyTo(rows.AsSpan(j * k, k));
            var aug = MipsTransform.AugmentItems(rows, n, k, out _);
            var c = KMeans.Fit(aug, n, k + 1, lists, options.Iterations, options.TrainPointsPerList, options.Seed + (ulong)r, options.MaxThreads);
            var a = KMeans.Assign(aug, n, k + 1, c, lists, options.MaxThreads);
            for (int j = 0; j < n; j++) assignment[byNorm[i0 + j]] = listBase + a[j];
            for (int l = 0; l < lists; l++) c.AsSpan(l * (k + 1), k).CopyTo(centres.AsSpan((listBase + l) * k, k));
            listBase += lists;
        }
        if (listBase != nlist) throw new InvalidOperationException($"norm ranges produced {listBase} lists, expected {nlist}.");
        return (assignment, centres, maxNorm);
    }
}
