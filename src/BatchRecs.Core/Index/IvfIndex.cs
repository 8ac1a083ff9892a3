namespace BatchRecs.Core.Index;

/// <summary>
/// An inverted-file (IVF) index over item factors for maximum-inner-product top-N. It coordinates three parts:
/// a coarse quantizer (k-means centroids of the MIPS-augmented items, <see cref="MipsTransform"/>), the inverted
/// lists (<see cref="InvertedLists"/>, items stored contiguously per centroid) and a list scanner that serves a
/// whole block of users at once. <see cref="Search"/> is, as in FAISS, <see cref="AssignProbes"/> (which lists each
/// user scans) then <see cref="SearchPreassigned"/> (scan them). With nprobe = nlist it returns exactly what
/// <see cref="ExactTopN.Search"/> returns.
/// </summary>
/// <remarks>
/// Build: split items into norm ranges (default one), augment each range's items to ṽ = [v, sqrt(M_r² − ‖v‖²)]
/// (the same norm M_r for all), cluster ṽ with seeded k-means, renumber lists by descending centre norm, and
/// store each list's original vectors contiguously. Search: a user's lists are those whose centre c (original
/// space) has the largest qᵀc, plus further ranked lists while the chosen ones are too small to hold N eligible
/// items; their items are scored exactly with the kernel of <see cref="ExactTopN"/>. (Probing by the augmented
/// distance, largest qᵀc − ‖c̃‖²/2, was tried first: on ALS factors it needed more lists for the same recall.)
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
    /// <param name="k">the factor dimension.</param>
    /// <param name="options">nlist, seed, norm ranges and threads (null: the defaults).</param>
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
        RenumberByCentreNorm(assignment, centres, nlist, k);
        var lists = InvertedLists.Build(itemFactors, k, assignment, nlist);
        // Probe rows [c, 0]: against a query row [q, 1] the kernel computes qᵀc, the inner product with the
        // list's centre in the original space (comparable across norm ranges).
        var probeRows = MipsTransform.AppendColumn(centres, nlist, k, _ => 0f);
        return new IvfIndex(items, k, maxNorm, probeRows, lists);
    }

    /// <summary>
    /// Renumbers lists by descending centre norm (ties by old number). A search block scans its lists in number
    /// order, so every user meets the lists of large-norm items, which hold most top-N items, first: thresholds
    /// rise early and later lists offer few candidates. The centroid scan benefits in the same way.
    /// </summary>
    private static void RenumberByCentreNorm(int[] assignment, float[] centres, int nlist, int k)
    {
        var order = NormOrder.Descending(centres, nlist, k);
        var newId = new int[nlist];
        for (int r = 0; r < nlist; r++) newId[order[r]] = r;
        for (int i = 0; i < assignment.Length; i++) assignment[i] = newId[assignment[i]];
        var old = (float[])centres.Clone();
        for (int l = 0; l < nlist; l++) old.AsSpan(l * k, k).CopyTo(centres.AsSpan(newId[l] * k, k));
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
        var byNorm = NormOrder.Descending(itemFactors, items, k);
        var largest = itemFactors.AsSpan(byNorm[0] * k, k);
        float maxNorm = MathF.Sqrt(ScoreKey.Dot(largest, largest));
        var assignment = new int[items];
        var centres = new float[(long)nlist * k];
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
        if (listBase != nlist) throw new ArgumentException($"{ranges} norm ranges could not hold {nlist} lists over {items} items; use fewer norm ranges or a smaller nlist.", nameof(options));
        return (assignment, centres, maxNorm);
    }
}
