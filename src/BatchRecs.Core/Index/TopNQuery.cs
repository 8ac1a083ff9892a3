using BatchRecs.Core.Data;

namespace BatchRecs.Core.Index;

/// <summary>Options of a top-N query.</summary>
/// <param name="N">list length per user.</param>
/// <param name="Exclude">user × item CSR of items each user must not get (their history), or null. Row u belongs to
/// user u (not to the u-th entry of a user subset); columns ascending.</param>
/// <param name="Banned">items nobody gets, or null.</param>
/// <param name="MaxThreads">threads to use (−1 = all cores).</param>
/// <param name="RuleExclude">user × item CSR of items a business rule keeps from each user (row u = user u), or null.
/// Like <paramref name="Banned"/>, what it removes is counted in <see cref="TopNResult.RuleRemoved"/>.</param>
public sealed record TopNQuery(int N, CsrMatrix? Exclude = null, IReadOnlySet<int>? Banned = null, int MaxThreads = -1, CsrMatrix? RuleExclude = null);
