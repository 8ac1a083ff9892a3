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
        public readonly int[] ListUsers = new int[SearchBlock * depth];
        public readonly int[] ListRows = new int[SearchBlock * depth];
        public long Lists, Candidates, Centroids;
        public int Extended;
    }

    private IvfSearchStats SearchCore(float[] userFactors, IvfSearchOptions options, int[]? userSubset, int users, TopNResult result)
    {
        int n = options.N, k = K, nlist = Nlist, nprobe = Math.Min(options.Nprobe, nlist);
        // Over-fetch: rank a few more lists than nprobe, and let a user whose nprobe lists are too small to hold
        // N eligible items (list sizes minus the user's seen and banned items) take further ranked lists.
        int depth = Math.Min(nlist, 2 * nprobe + 8);
        var exclusions = new ItemExclusions(options.Exclude, options.Banned);
        int blocks = (users + SearchBlock - 1) / SearchBlock;
        long lists = 0, candidates = 0, centroids = 0;
        int extended = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxThreads };
        Parallel.For(0, blocks, parallel, () => new Workspace(k, n, depth, nlist), (b, _, ws) =>
        {
            int u0 = b * SearchBlock, m = Math.Min(SearchBlock, users - u0);
            // 1. Coarse: the nprobe best centroids per user, scored as [q, 1]ᵀ[c, −‖c̃‖²/2].
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
            }

            // 2. Group the block's users by probed list (counting sort; users ascending within a list).
            Array.Clear(ws.ListStart);
            for (int j = 0; j < m; j++)
                for (int p = 0; p < ws.ProbeCount[j]; p++) ws.ListStart[ws.Probes[j * depth + p] + 1]++;
            for (int l = 0; l < nlist; l++) ws.ListStart[l + 1] += ws.ListStart[l];
            var fill = ws.ListStart.AsSpan(0, nlist).ToArray();
            for (int j = 0; j < m; j++)
            {
                for (int p = 0; p < ws.ProbeCount[j]; p++)
                {
                    int at = fill[ws.Probes[j * depth + p]]++;
                    ws.ListUsers[at] = j;
                    ws.ListRows[at] = ws.Rows[j];
                }
            }

            // 3. Scan each probed list once for all of its users.
            for (int l = 0; l < nlist; l++)
            {
                int s = ws.ListStart[l], e = ws.ListStart[l + 1];
                if (s == e) continue;
                ws.Main.Scan(userFactors, ws.ListRows.AsSpan(s, e - s), ws.ListUsers.AsSpan(s, e - s),
                    _lists.Panels, _lists.PanelStart[l], _lists.PanelStart[l + 1], exclusions);
                ws.Lists += e - s;
                ws.Candidates += (long)(e - s) * _lists.Sizes[l];
            }

            // 4. Users whose probed lists held fewer than N eligible items scan further lists, nearest first.
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

    private void Extend(Workspace ws, int j, float[] userFactors, ItemExclusions exclusions, int n, int scanned)
    {
        int k = K, nlist = Nlist;
        // Rank all lists with the same scores the kernel computed (ScoreKey.Dot), so the first `scanned` are the
        // lists already scanned and are skipped.
        var q = ws.Queries.AsSpan(j * (k + 1), k + 1);
        var keys = new ulong[nlist];
        for (int l = 0; l < nlist; l++) keys[l] = ScoreKey.Encode(ScoreKey.Dot(q, _centroidRows.AsSpan(l * (k + 1), k + 1)), l);
        Array.Sort(keys);
        ws.Extended++;
        ws.Centroids += nlist;
        ReadOnlySpan<int> row = [ws.Rows[j]];
        ReadOnlySpan<int> id = [j];
        var buffer = ws.Main.Buffers[j];
        for (int r = scanned; r < nlist && buffer.Count < n; r++)
        {
            int l = ScoreKey.Item(keys[nlist - 1 - r]);
            ws.Main.Scan(userFactors, row, id, _lists.Panels, _lists.PanelStart[l], _lists.PanelStart[l + 1], exclusions);
            ws.Lists++;
            ws.Candidates += _lists.Sizes[l];
        }
    }
}
