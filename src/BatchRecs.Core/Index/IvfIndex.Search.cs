namespace BatchRecs.Core.Index;

public sealed partial class IvfIndex
{
    private const int SearchBlock = 512;

    /// <summary>
    /// Top-N for every user (or <paramref name="userSubset"/>) through the index. Each user gets min(N, eligible
    /// items) distinct items best-first: when the nprobe lists hold fewer than N eligible items, further lists are
    /// scanned in centroid order. Results do not depend on the thread count.
    /// </summary>
    /// <param name="userFactors">users × k, row-major.</param>
    /// <param name="userSubset">users to search (null = all, in order); the result's row j is user userSubset[j].</param>
    /// <param name="options">N, nprobe, exclusions and threads.</param>
    public (TopNResult Result, IvfSearchStats Stats) Search(float[] userFactors, IvfSearchOptions options, int[]? userSubset = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nprobe < 1) throw new ArgumentOutOfRangeException(nameof(options), $"nprobe must be ≥ 1 (got {options.Nprobe}).");
        int users = ExactTopN.ValidateUsers(userFactors, K, options.N, userSubset);
        var result = new TopNResult(users, options.N);
        if (users == 0 || options.N == 0) return (result, new IvfSearchStats(users, 0, 0, 0, 0));
        return (result, SearchCore(userFactors, options, userSubset, users, result));
    }

    /// <summary>Per-worker state of a search: buffers for a block of users and the block's list schedule.</summary>
    private sealed class Workspace(int k, int n, int depth, int nlist)
    {
        public readonly ScanWorkspace Coarse = new(depth, SearchBlock, k + 1);
        public readonly ScanWorkspace Main = new(n, SearchBlock, k);
        public readonly float[] Queries = new float[SearchBlock * (k + 1)];
        public readonly int[] Rows = new int[SearchBlock];
        public readonly int[] Local = new int[SearchBlock];
        public readonly int[] Probes = new int[SearchBlock * depth];
        public readonly int[] ProbeCount = new int[SearchBlock];
        public readonly float[] ProbeScores = new float[depth];
        public readonly int[] ListStart = new int[nlist + 1];
        public readonly int[] Fill = new int[nlist];
        public readonly int[] Short = new int[SearchBlock];
        public readonly bool[] Covered = new bool[SearchBlock];
        private ScanWorkspace? _deep;

        /// <summary>Coarse buffers of the deeper ranking for users whose first lists were too small (made on first use).</summary>
        public ScanWorkspace DeepCoarse(int depth2) => _deep ??= new ScanWorkspace(depth2, SearchBlock, k + 1);
        public int[] PairList = new int[SearchBlock * depth];
        public int[] PairUser = new int[SearchBlock * depth];
        public int[] ListUsers = new int[SearchBlock * depth];
        public int[] ListRows = new int[SearchBlock * depth];

        public void AddPair(int at, int list, int user)
        {
            if (at == PairList.Length)
            {
                Array.Resize(ref PairList, 2 * at);
                Array.Resize(ref PairUser, 2 * at);
            }
            PairList[at] = list;
            PairUser[at] = user;
        }

        public void EnsureListCapacity(int count)
        {
            if (ListUsers.Length >= count) return;
            ListUsers = new int[PairList.Length];
            ListRows = new int[PairList.Length];
        }
        public long Lists, Candidates, Centroids;
        public int Extended;
    }

    private IvfSearchStats SearchCore(float[] userFactors, IvfSearchOptions options, int[]? userSubset, int users, TopNResult result)
    {
        int n = options.N, k = K, nlist = Nlist, nprobe = Math.Min(options.Nprobe, nlist);
        // Over-fetch: rank a few more lists than nprobe, and let a user whose nprobe lists are too small to hold
        // N eligible items (list sizes minus the user's seen and banned items) take further ranked lists.
        int depth = Math.Min(nlist, 2 * nprobe + 8), depth2 = Math.Min(nlist, Math.Max(4 * depth, 64));
        var exclusions = new ItemExclusions(options.Exclude, options.Banned);
        int blocks = (users + SearchBlock - 1) / SearchBlock;
        long lists = 0, candidates = 0, centroids = 0;
        int extended = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxThreads };
        Parallel.For(0, blocks, parallel, () => new Workspace(k, n, depth, nlist), (b, _, ws) =>
        {
            int u0 = b * SearchBlock, m = Math.Min(SearchBlock, users - u0);
            // 1. Coarse: the best lists per user, scored as [q, 1]ᵀ[c, 0] = qᵀc; at least nprobe of them, more while
            //    their sizes cannot cover N plus the user's excluded items (over-fetch).
            for (int j = 0; j < m; j++)
            {
                int u = userSubset?[u0 + j] ?? u0 + j;
                ws.Rows[j] = u;
                ws.Local[j] = j;
                userFactors.AsSpan(u * k, k).CopyTo(ws.Queries.AsSpan(j * (k + 1), k));
                ws.Queries[j * (k + 1) + k] = 1f;
                ws.Coarse.Buffers[j].Reset(j);
                ws.Main.Buffers[j].Reset(u, exclusions);
            }
            var local = ws.Local.AsSpan(0, m);
            ws.Coarse.Scan(ws.Queries, local, local, _centroids, 0, _centroids.Panels, ItemExclusions.None);
            ws.Centroids += (long)m * nlist;
            for (int j = 0; j < m; j++)
            {
                var probes = ws.Probes.AsSpan(j * depth, depth);
                ws.Coarse.Buffers[j].Drain(probes, ws.ProbeScores);
                long need = (long)n + exclusions.ExcludedBound(ws.Rows[j]);
                long have = 0;
                int c = 0;
                while (c < depth && (c < nprobe || have < need)) have += _lists.Sizes[probes[c++]];
                ws.ProbeCount[j] = c;
                ws.Covered[j] = have >= need || c == nlist;
            }

            // 2. Scan each probed list once for all of the block's users that probe it.
            int pairs = 0;
            for (int j = 0; j < m; j++)
                for (int p = 0; p < ws.ProbeCount[j]; p++) ws.AddPair(pairs++, ws.Probes[j * depth + p], j);
            ScanPairs(ws, pairs, userFactors, exclusions);

            // 3. Users whose first lists cannot be shown to hold N eligible items (their sizes do not cover N plus the
            // user's history and bans) take further lists in rank order, scanned list by list for all of them together.
            int shortCount = 0;
            for (int j = 0; j < m; j++)
                if (!ws.Covered[j]) ws.Short[shortCount++] = j;
            pairs = 0;
            if (shortCount > 0)
            {
                // a deeper coarse ranking for just these users, through the same kernel
                var deep = ws.DeepCoarse(depth2);
                var shortUsers = ws.Short.AsSpan(0, shortCount);
                foreach (int j in shortUsers) deep.Buffers[j].Reset(j);
                deep.Scan(ws.Queries, shortUsers, shortUsers, _centroids, 0, _centroids.Panels, ItemExclusions.None);
                ws.Centroids += (long)shortCount * nlist;
                var ranked = new int[depth2];
                foreach (int j in shortUsers)
                {
                    deep.Buffers[j].Drain(ranked, new float[depth2]);
                    // Same rule as the first pass, continued down the deeper ranking, so the lists scanned for a user
                    // are always the shortest ranked prefix that is at least nprobe long and can cover N: recall
                    // then never falls as nprobe grows, which the auto-tune relies on.
                    long need = n + (long)exclusions.ExcludedBound(ws.Rows[j]), have = 0;
                    int r = ws.ProbeCount[j];
                    for (int p = 0; p < r; p++) have += _lists.Sizes[ranked[p]];
                    while (r < depth2 && have < need)
                    {
                        int l = ranked[r++];
                        have += _lists.Sizes[l];
                        ws.AddPair(pairs++, l, j);
                    }
                    ws.ProbeCount[j] = r;
                    ws.Extended++;
                }
            }
            if (pairs > 0) ScanPairs(ws, pairs, userFactors, exclusions);

            // 4. Should a user still lack N (the bound above counts only distinct lists' sizes, so this is rare),
            // continue alone through the remaining lists.
            for (int j = 0; j < m; j++)
            {
                if (ws.Main.Buffers[j].Count >= n || ws.ProbeCount[j] == nlist) continue;
                Extend(ws, j, userFactors, exclusions, n, ws.ProbeCount[j]);
            }

            for (int j = 0; j < m; j++)
            {
                int at = (u0 + j) * n;
                result.Counts[u0 + j] = ws.Main.Buffers[j].Drain(result.Items.AsSpan(at, n), result.Scores.AsSpan(at, n));
            }
            return ws;
        }, ws =>
        {
            Interlocked.Add(ref lists, ws.Lists);
            Interlocked.Add(ref candidates, ws.Candidates);
            Interlocked.Add(ref centroids, ws.Centroids);
            Interlocked.Add(ref extended, ws.Extended);
        });
        return new IvfSearchStats(users, lists, candidates, centroids, extended);
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

    private void Extend(Workspace ws, int j, float[] userFactors, ItemExclusions exclusions, int n, int scanned)
    {
        var ranked = RankAllLists(ws, j);
        ReadOnlySpan<int> row = [ws.Rows[j]];
        ReadOnlySpan<int> id = [j];
        var buffer = ws.Main.Buffers[j];
        for (int r = scanned; r < Nlist && buffer.Count < n; r++)
        {
            int l = ranked[r];
            ws.Main.Scan(userFactors, row, id, _lists.Panels, _lists.PanelStart[l], _lists.PanelStart[l + 1], exclusions);
            ws.Lists++;
            ws.Candidates += _lists.Sizes[l];
        }
        ws.ProbeCount[j] = Nlist;
    }
}
