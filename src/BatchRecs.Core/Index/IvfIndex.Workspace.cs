namespace BatchRecs.Core.Index;

public sealed partial class IvfIndex
{
    /// <summary>
    /// One worker's state for a block of up to 512 search rows: the users' queries, their assigned lists, the coarse
    /// and main candidate buffers and the block's list schedule. Owned by one thread, reused block after block.
    /// </summary>
    /// <param name="k">factors per query.</param>
    /// <param name="n">results per user (N).</param>
    /// <param name="depth">lists ranked for every user.</param>
    /// <param name="depth2">lists ranked for users whose first lists are too small.</param>
    /// <param name="nlist">lists in the index.</param>
    private sealed class Workspace(int k, int n, int depth, int depth2, int nlist)
    {
        private ScanWorkspace? _coarse, _deep, _main;
        private int[] _probes = [];
        private int _stride;
        private readonly int[] _marks = new int[nlist];

        public int Depth => depth;
        public int Depth2 => depth2;

        /// <summary>Coarse buffers: the best <see cref="Depth"/> lists per user.</summary>
        public ScanWorkspace Coarse => _coarse ??= new ScanWorkspace(depth, BlockUsers, k + 1);

        /// <summary>Coarse buffers of the deeper ranking (made on first use).</summary>
        public ScanWorkspace DeepCoarse() => _deep ??= new ScanWorkspace(depth2, BlockUsers, k + 1);

        /// <summary>The users' best N items.</summary>
        public ScanWorkspace Main => _main ??= new ScanWorkspace(n, BlockUsers, k);

        /// <summary>What the business rules removed from the lists this workspace drained.</summary>
        public long RuleRemoved => _main?.RuleRemoved ?? 0;

        /// <summary>Rows [q, 1] (BlockUsers × (k + 1)): against the probe rows [c, 0] the kernel computes qᵀc.</summary>
        public readonly float[] Queries = new float[BlockUsers * (k + 1)];
        public readonly int[] Rows = new int[BlockUsers];
        public readonly int[] Local = new int[BlockUsers];
        public readonly int[] ProbeCount = new int[BlockUsers];
        public readonly float[] ProbeScores = new float[depth2];
        public readonly int[] Short = new int[BlockUsers];
        public readonly int[] ListStart = new int[nlist + 1];
        public readonly int[] Fill = new int[nlist];
        public int[] PairList = new int[BlockUsers * depth];
        public int[] PairUser = new int[BlockUsers * depth];
        public int[] ListUsers = new int[BlockUsers * depth];
        public int[] ListRows = new int[BlockUsers * depth];
        public int MarkStamp;
        public long Lists, Candidates, Centroids;
        public int Extended;

        /// <summary>Block rows 0..m−1 are users[u0..] (null: u0..); copies their queries.</summary>
        public void LoadUsers(float[] userFactors, int[]? users, int u0, int m)
        {
            for (int j = 0; j < m; j++)
            {
                int u = users?[u0 + j] ?? u0 + j;
                Rows[j] = u;
                Local[j] = j;
                userFactors.AsSpan(u * k, k).CopyTo(Queries.AsSpan(j * (k + 1), k));
                Queries[j * (k + 1) + k] = 1f;
            }
        }

        /// <summary>Room for up to <paramref name="stride"/> lists for each of m users.</summary>
        public void SetProbeStride(int stride, int m)
        {
            _stride = stride;
            if (_probes.Length < stride * m) _probes = new int[stride * BlockUsers];
        }

        /// <summary>The first <paramref name="length"/> list slots of block user j.</summary>
        public Span<int> ProbeRow(int j, int length) => _probes.AsSpan(j * _stride, length);

        /// <summary>The lists assigned to block user j.</summary>
        public ReadOnlySpan<int> ProbesOf(int j) => _probes.AsSpan(j * _stride, ProbeCount[j]);

        /// <summary>Takes the lists of rows u0..u0+m−1 from an assignment.</summary>
        public void LoadProbes(ProbeAssignment probes, int u0, int m)
        {
            int stride = 1;
            for (int j = 0; j < m; j++) stride = Math.Max(stride, probes.ListsOf(u0 + j).Length);
            SetProbeStride(stride, m);
            for (int j = 0; j < m; j++)
            {
                var lists = probes.ListsOf(u0 + j);
                lists.CopyTo(ProbeRow(j, lists.Length));
                ProbeCount[j] = lists.Length;
            }
        }

        /// <summary>Marks block user j's lists with a new <see cref="MarkStamp"/> and returns the marks (indexed by list).</summary>
        public int[] MarkAssigned(int j)
        {
            MarkStamp++;
            foreach (int l in ProbesOf(j)) _marks[l] = MarkStamp;
            return _marks;
        }

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
    }
}
