using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Execution;

/// <summary>
/// Top-N retrieval for every user, split into user blocks that an executor may run anywhere: each block is scored
/// against the same item factors (exactly, or through an IVF index that every runner builds identically from the same
/// seed), excluding each user's items in <see cref="Exclude"/>.
/// </summary>
/// <param name="UserFactors">users × k, row-major (shared, read-only).</param>
/// <param name="ItemFactors">items × k, row-major (shared, read-only).</param>
/// <param name="Ivf">the index to build and search, or null for exact scoring.</param>
/// <param name="K">the factor dimension k.</param>
/// <param name="N">list length per user.</param>
/// <param name="Exclude">users × items CSR of each user's items never to recommend (those already seen).</param>
/// <param name="UserBlocks">contiguous user ranges; each is one task an executor runs.</param>
/// <param name="Nprobe">IVF lists probed per user (ignored for exact scoring).</param>
/// <param name="Banned">items nobody gets (business rules), or null.</param>
/// <param name="RuleExclude">users × items CSR of items a business rule keeps from each user, or null.</param>
public sealed record ScoringStep(float[] UserFactors, float[] ItemFactors, int K, int N, CsrMatrix Exclude, RowBlock[] UserBlocks,
    IvfBuildOptions? Ivf = null, int Nprobe = 0, IReadOnlySet<int>? Banned = null, CsrMatrix? RuleExclude = null)
{
    /// <summary>The exact query of this step on <paramref name="threads"/> threads.</summary>
    public TopNQuery Query(int threads) => new(N, Exclude, Banned, threads, RuleExclude);

    /// <summary>The IVF search of this step on <paramref name="threads"/> threads.</summary>
    public IvfSearchOptions IvfQuery(int threads) => new(N, Nprobe, Exclude, Banned, threads, RuleExclude);

    public int Users => UserFactors.Length / K;

    /// <summary>The block task: the lists of the block's users (row j = user block.Start + j).</summary>
    public TopNResult ScoreBlock(RowBlock block, IvfIndex? index = null)
    {
        var users = Enumerable.Range(block.Start, block.Length).ToArray();
        if (Ivf is null) return ExactTopN.Search(UserFactors, ItemFactors, K, Query(1), users);
        index ??= IvfIndex.Build(ItemFactors, K, Ivf);
        return index.Search(UserFactors, IvfQuery(1), users).Result;
    }
}
