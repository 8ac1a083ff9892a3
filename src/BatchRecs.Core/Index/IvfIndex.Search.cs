namespace BatchRecs.Core.Index;

public sealed partial class IvfIndex
{
    private const int BlockUsers = 512;

    /// <summary>
    /// Top-N for every user (or <paramref name="userSubset"/>) through the index. Each user gets min(N, eligible
    /// items) distinct items best-first: when the nprobe lists hold fewer than N eligible items, further lists are
    /// scanned in centroid order. Results do not depend on the thread count.
    /// </summary>
    /// <remarks>
    /// The two steps of <see cref="AssignProbes"/> and <see cref="SearchPreassigned"/> (as FAISS's <c>IndexIVF::search</c>),
    /// run block by block (512 users) so that no assignment for the whole user set is ever held.
    /// </remarks>
    /// <param name="userFactors">users × k, row-major.</param>
    /// <param name="userSubset">users to search (null = all, in order); the result's row j is user userSubset[j].</param>
    /// <param name="options">N, nprobe, exclusions and threads.</param>
    public (TopNResult Result, IvfSearchStats Stats) Search(float[] userFactors, IvfSearchOptions options, int[]? userSubset = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckNprobe(options);
        int users = ExactTopN.ValidateUsers(userFactors, K, options.N, userSubset);
        var result = new TopNResult(users, options.N);
        if (users == 0 || options.N == 0) return (result, new IvfSearchStats(users, 0, 0, 0, 0));
        var exclusions = new ItemExclusions(options.Exclude, options.Banned, options.RuleExclude);
        var totals = ForEachBlock(users, options, (ws, u0, m) =>
        {
            ws.LoadUsers(userFactors, userSubset, u0, m);
            AssignBlock(ws, m, options, exclusions);
            SearchBlock(ws, m, userFactors, options.N, exclusions, result, u0);
        });
        result.AddRuleRemoved(totals.RuleRemoved);
        return (result, new IvfSearchStats(users, totals.Lists, totals.Candidates, totals.Centroids, totals.Extended));
    }

    /// <summary>
    /// The first half of <see cref="Search"/>: for each user, the lists to scan, ranked by qᵀc (the inner product with
    /// the list's centre). At least nprobe of them, and more while their sizes cannot cover N plus the user's excluded
    /// items (the over-fetch), so the lists are always the shortest ranked prefix that is at least nprobe long and can
    /// cover N: recall never falls as nprobe grows, which <see cref="AutoTuneNprobe"/> relies on.
    /// </summary>
    /// <param name="userFactors">users × k, row-major.</param>
    /// <param name="options">N, nprobe and the exclusions (whose sizes the over-fetch counts); threads.</param>
    /// <param name="userSubset">the users to assign (indices into <paramref name="userFactors"/>), or null for all.</param>
    public ProbeAssignment AssignProbes(float[] userFactors, IvfSearchOptions options, int[]? userSubset = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckNprobe(options);
        int users = ExactTopN.ValidateUsers(userFactors, K, options.N, userSubset);
        var rows = new int[users][];
        var exclusions = new ItemExclusions(options.Exclude, options.Banned, options.RuleExclude);
        var totals = ForEachBlock(users, options, (ws, u0, m) =>
        {
            ws.LoadUsers(userFactors, userSubset, u0, m);
            AssignBlock(ws, m, options, exclusions);
            for (int j = 0; j < m; j++) rows[u0 + j] = ws.ProbesOf(j).ToArray();
        });
        return ProbeAssignment.FromRows(userSubset ?? Enumerable.Range(0, users).ToArray(), rows, totals.Centroids, totals.Extended);
    }

    /// <summary>
    /// The second half of <see cref="Search"/>: scans each user's assigned lists (each list once per block of users
    /// that probe it) and keeps the best N. A user whose lists hold fewer than N eligible items continues alone
    /// through the remaining lists in centroid order, so every user still gets min(N, eligible items).
    /// </summary>
    /// <param name="userFactors">users × k, row-major.</param>
    /// <param name="options">N, the exclusions and threads; nprobe is not used (the assignment decides the lists).</param>
    /// <param name="probes">row j searches for user probes.Users[j]; lists must be distinct per user and below <see cref="Nlist"/>.</param>
    public (TopNResult Result, IvfSearchStats Stats) SearchPreassigned(float[] userFactors, IvfSearchOptions options, ProbeAssignment probes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(probes);
        int users = ExactTopN.ValidateUsers(userFactors, K, options.N, probes.Users);
        CheckLists(probes);
        var result = new TopNResult(users, options.N);
        if (users == 0 || options.N == 0) return (result, new IvfSearchStats(users, 0, 0, probes.CentroidsScored, probes.UsersExtended));
        var exclusions = new ItemExclusions(options.Exclude, options.Banned, options.RuleExclude);
        var totals = ForEachBlock(users, options, (ws, u0, m) =>
        {
            ws.LoadUsers(userFactors, probes.Users, u0, m);
            ws.LoadProbes(probes, u0, m);
            SearchBlock(ws, m, userFactors, options.N, exclusions, result, u0);
        });
        result.AddRuleRemoved(totals.RuleRemoved);
        return (result, new IvfSearchStats(users, totals.Lists, totals.Candidates, probes.CentroidsScored + totals.Centroids, probes.UsersExtended));
    }

    private static void CheckNprobe(IvfSearchOptions options)
    {
        if (options.Nprobe < 1) throw new ArgumentOutOfRangeException(nameof(options), $"nprobe must be ≥ 1 (got {options.Nprobe}).");
    }

    private void CheckLists(ProbeAssignment probes)
    {
        var seen = new int[Nlist];
        for (int j = 0; j < probes.Count; j++)
            foreach (int l in probes.ListsOf(j))
            {
                if ((uint)l >= (uint)Nlist) throw new ArgumentException($"row {j} (user {probes.Users[j]}) probes list {l}, outside 0..{Nlist - 1}.", nameof(probes));
                if (seen[l] == j + 1) throw new ArgumentException($"row {j} (user {probes.Users[j]}) probes list {l} twice.", nameof(probes));
                seen[l] = j + 1;
            }
    }

    /// <summary>What the blocks did, summed over workers.</summary>
    private sealed class Totals
    {
        public long Lists, Candidates, Centroids, RuleRemoved;
        public int Extended;
    }

    /// <summary>Runs <paramref name="block"/>(workspace, first row, rows) over blocks of 512 search rows, on the options' threads.</summary>
    private Totals ForEachBlock(int users, IvfSearchOptions options, Action<Workspace, int, int> block)
    {
        int nlist = Nlist, nprobe = Math.Min(options.Nprobe, nlist);
        // Over-fetch: rank a few more lists than nprobe, and, for users whose lists are too small, many more.
        int depth = Math.Min(nlist, 2 * nprobe + 8), depth2 = Math.Min(nlist, Math.Max(4 * depth, 64));
        var totals = new Totals();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxThreads };
        int blocks = (users + BlockUsers - 1) / BlockUsers;
        Parallel.For(0, blocks, parallel, () => new Workspace(K, options.N, depth, depth2, nlist), (b, _, ws) =>
        {
            int u0 = b * BlockUsers;
            block(ws, u0, Math.Min(BlockUsers, users - u0));
            return ws;
        }, ws =>
        {
            Interlocked.Add(ref totals.Lists, ws.Lists);
            Interlocked.Add(ref totals.Candidates, ws.Candidates);
            Interlocked.Add(ref totals.Centroids, ws.Centroids);
            Interlocked.Add(ref totals.Extended, ws.Extended);
            Interlocked.Add(ref totals.RuleRemoved, ws.RuleRemoved);
        });
        return totals;
    }

    /// <summary>
    /// Assigns lists to the block's m users (<see cref="Workspace.LoadUsers"/> done): the best <c>depth</c> lists by
    /// qᵀc, scored by the top-N kernel as [q, 1]ᵀ[c, 0]; for users whose first nprobe cannot cover N plus their
    /// excluded items, a deeper ranking (<c>depth2</c>) through the same kernel, continued down by the same rule.
    /// </summary>
    private void AssignBlock(Workspace ws, int m, IvfSearchOptions options, ItemExclusions exclusions)
    {
        int n = options.N, nlist = Nlist, nprobe = Math.Min(options.Nprobe, nlist), depth = ws.Depth, depth2 = ws.Depth2;
        var local = ws.Local.AsSpan(0, m);
        for (int j = 0; j < m; j++) ws.Coarse.Buffers[j].Reset(j);
        ws.Coarse.Scan(ws.Queries, local, local, _centroids, 0, _centroids.Panels, ItemExclusions.None);
        ws.Centroids += (long)m * nlist;
        ws.SetProbeStride(depth2, m);
        int shortCount = 0;
        for (int j = 0; j < m; j++)
        {
            var ranked = ws.ProbeRow(j, depth);
            ws.Coarse.Buffers[j].Drain(ranked, ws.ProbeScores);
            long need = n + (long)exclusions.ExcludedBound(ws.Rows[j]), have = 0;
            int c = 0;
            while (c < depth && (c < nprobe || have < need)) have += _lists.Sizes[ranked[c++]];
            ws.ProbeCount[j] = c;
            if (have < need && c < nlist) ws.Short[shortCount++] = j;
        }
        if (shortCount == 0) return;

        var deep = ws.DeepCoarse();
        var shortUsers = ws.Short.AsSpan(0, shortCount);
        foreach (int j in shortUsers) deep.Buffers[j].Reset(j);
        deep.Scan(ws.Queries, shortUsers, shortUsers, _centroids, 0, _centroids.Panels, ItemExclusions.None);
        ws.Centroids += (long)shortCount * nlist;
        foreach (int j in shortUsers)
        {
            // The deeper ranking starts with the lists already chosen (same scores, same tie order).
            var ranked = ws.ProbeRow(j, depth2);
            deep.Buffers[j].Drain(ranked, ws.ProbeScores);
            long need = n + (long)exclusions.ExcludedBound(ws.Rows[j]), have = 0;
            int r = ws.ProbeCount[j];
            for (int p = 0; p < r; p++) have += _lists.Sizes[ranked[p]];
            while (r < depth2 && have < need) have += _lists.Sizes[ranked[r++]];
            ws.ProbeCount[j] = r;
            ws.Extended++;
        }
    }

    /// <summary>
    /// Searches the block's m users (users and lists loaded) and drains their lists into <paramref name="result"/>
    /// rows row0.. : every assigned list scanned once for all the users that probe it, then, should a user still lack
    /// N (rare: only when even the deeper ranking could not cover N plus the user's exclusions, or an assignment from
    /// elsewhere gave too few lists), the remaining lists alone.
    /// </summary>
    private void SearchBlock(Workspace ws, int m, float[] userFactors, int n, ItemExclusions exclusions, TopNResult result, int row0)
    {
        int nlist = Nlist;
        for (int j = 0; j < m; j++) ws.Main.Buffers[j].Reset(ws.Rows[j], exclusions);
        int pairs = 0;
        for (int j = 0; j < m; j++)
            foreach (int l in ws.ProbesOf(j)) ws.AddPair(pairs++, l, j);
        ScanPairs(ws, pairs, userFactors, exclusions);
        for (int j = 0; j < m; j++)
            if (ws.Main.Buffers[j].Count < n && ws.ProbeCount[j] < nlist) Extend(ws, j, userFactors, exclusions, n);
        for (int j = 0; j < m; j++)
        {
            int at = (row0 + j) * n;
            result.Counts[row0 + j] = ws.Main.Buffers[j].Drain(result.Items.AsSpan(at, n), result.Scores.AsSpan(at, n));
        }
    }

    /// <summary>All lists ranked for block user j by the same scores the kernel computed (<see cref="ScoreKey.Dot"/>),
    /// so the first nprobe are exactly the lists the coarse scan chose.</summary>
    private int[] RankAllLists(Workspace ws, int j)
    {
        int k = K, nlist = Nlist;
        var q = ws.Queries.AsSpan(j * (k + 1), k + 1);
        var keys = new ulong[nlist];
        for (int l = 0; l < nlist; l++) keys[l] = ScoreKey.Encode(ScoreKey.Dot(q, _centroidRows.AsSpan(l * (k + 1), k + 1)), l);
        Array.Sort(keys);
        var ranked = new int[nlist];
        for (int r = 0; r < nlist; r++) ranked[r] = ScoreKey.Item(keys[nlist - 1 - r]);
        ws.Centroids += nlist;
        return ranked;
    }

    /// <summary>Scans the (list, block user) pairs 0..count−1 recorded with <see cref="Workspace.AddPair"/>, each list once.</summary>
    private void ScanPairs(Workspace ws, int count, float[] userFactors, ItemExclusions exclusions)
    {
        if (count == 0) return;
        int nlist = Nlist;
        // Counting sort by list; users stay ascending within a list.
        Array.Clear(ws.ListStart);
        for (int e = 0; e < count; e++) ws.ListStart[ws.PairList[e] + 1]++;
        for (int l = 0; l < nlist; l++) ws.ListStart[l + 1] += ws.ListStart[l];
        ws.ListStart.AsSpan(0, nlist).CopyTo(ws.Fill);
        ws.EnsureListCapacity(count);
        for (int e = 0; e < count; e++)
        {
            int at = ws.Fill[ws.PairList[e]]++;
            ws.ListUsers[at] = ws.PairUser[e];
            ws.ListRows[at] = ws.Rows[ws.PairUser[e]];
        }
        for (int l = 0; l < nlist; l++)
        {
            int s = ws.ListStart[l], e = ws.ListStart[l + 1];
            if (s == e) continue;
            ws.Main.Scan(userFactors, ws.ListRows.AsSpan(s, e - s), ws.ListUsers.AsSpan(s, e - s),
                _lists.Panels, _lists.PanelStart[l], _lists.PanelStart[l + 1], exclusions);
            ws.Lists += e - s;
            ws.Candidates += (long)(e - s) * _lists.Sizes[l];
        }
    }

    /// <summary>Block user j alone, through the lists it was not assigned, in centroid order, until it holds N.</summary>
    private void Extend(Workspace ws, int j, float[] userFactors, ItemExclusions exclusions, int n)
    {
        var ranked = RankAllLists(ws, j);
        var assigned = ws.MarkAssigned(j);
        ReadOnlySpan<int> row = [ws.Rows[j]];
        ReadOnlySpan<int> id = [j];
        var buffer = ws.Main.Buffers[j];
        for (int r = 0; r < ranked.Length && buffer.Count < n; r++)
        {
            int l = ranked[r];
            if (assigned[l] == ws.MarkStamp) continue;
            ws.Main.Scan(userFactors, row, id, _lists.Panels, _lists.PanelStart[l], _lists.PanelStart[l + 1], exclusions);
            ws.Lists++;
            ws.Candidates += _lists.Sizes[l];
        }
    }
}
