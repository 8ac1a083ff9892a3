using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>How an <see cref="IvfIndex"/> is built.</summary>
/// <param name="Nlist">number of inverted lists (coarse centroids); 0 = <see cref="IvfIndex.DefaultNlist"/> (≈ 4·sqrt(items)).</param>
/// <param name="Iterations">Lloyd iterations after k-means++ seeding.</param>
/// <param name="TrainPointsPerList">k-means trains on at most this many items per list (a seeded sample).</param>
/// <param name="Seed">seed of the sampling and the k-means++ choices; the same seed gives the same index.</param>
/// <param name="NormRanges">items are split by norm into this many equal-count ranges, each clustered on its own
/// (1, the default = one MIPS transform over all items; on ALS factors more ranges needed more lists for the same recall).</param>
/// <param name="MaxThreads">threads (−1 = all cores); the index does not depend on it.</param>
public sealed record IvfBuildOptions(int Nlist = 0, int Iterations = 10, int TrainPointsPerList = 64, ulong Seed = 42, int NormRanges = 1, int MaxThreads = -1);

/// <summary>One search over an <see cref="IvfIndex"/>.</summary>
/// <param name="N">list length per user.</param>
/// <param name="Nprobe">lists scanned per user (clamped to the index's list count); more lists are scanned for a
/// user whose probed lists hold fewer than N eligible items.</param>
/// <param name="Exclude">user × item CSR of items each user must not get (row u = user u), or null.</param>
/// <param name="Banned">items nobody gets, or null.</param>
/// <param name="MaxThreads">threads (−1 = all cores); results do not depend on it.</param>
/// <param name="RuleExclude">user × item CSR of items a business rule keeps from each user, or null (see <see cref="TopNQuery"/>).</param>
public sealed record IvfSearchOptions(int N, int Nprobe, CsrMatrix? Exclude = null, IReadOnlySet<int>? Banned = null, int MaxThreads = -1, CsrMatrix? RuleExclude = null)
{
    /// <summary>The same query for exact search.</summary>
    public TopNQuery ToExactQuery() => new(N, Exclude, Banned, MaxThreads, RuleExclude);
}

/// <summary>What a search did, gathered rather than guessed.</summary>
/// <param name="Users">users searched.</param>
/// <param name="ListsScanned">(user, list) pairs scanned, including extra lists for users that needed more candidates.</param>
/// <param name="CandidatesScored">(user, item) inner products computed in the lists (padding not counted).</param>
/// <param name="CentroidsScored">(user, centroid) inner products computed to choose the lists.</param>
/// <param name="UsersExtended">users for whom lists beyond nprobe were scanned to reach N eligible items.</param>
public sealed record IvfSearchStats(int Users, long ListsScanned, long CandidatesScored, long CentroidsScored, int UsersExtended)
{
    /// <summary>Average fraction of the catalogue scored per user.</summary>
    public double FractionScored(int items) => Users == 0 || items == 0 ? 0 : (double)CandidatesScored / Users / items;
}
