using System.Runtime.CompilerServices;

namespace BatchRecs.Core.Index;

/// <summary>
/// One worker's scratch for blocked scans: a candidate buffer per user of the current block and a pinned
/// zero vector that pads partial user tiles. Owned by one thread; a block's users are scanned against panel ranges, then drained.
/// </summary>
internal sealed unsafe class ScanWorkspace
{
    private readonly float[] _zero;
    private readonly CandidateBuffer[] _tileBuffers = new CandidateBuffer[TileScanner.TileUsers];

    /// <param name="n">list length kept per user.</param>
    /// <param name="blockUsers">users per block (buffers).</param>
    /// <param name="dim">largest vector dimension scanned.</param>
    public ScanWorkspace(int n, int blockUsers, int dim)
    {
        Buffers = new CandidateBuffer[blockUsers];
        for (int i = 0; i < blockUsers; i++) Buffers[i] = new CandidateBuffer(n);
        _zero = GC.AllocateArray<float>(dim, pinned: true);
    }

    public CandidateBuffer[] Buffers { get; }

    /// <summary>What the business rules removed from the lists of the users these buffers drained (see <see cref="CandidateBuffer.RuleRemoved"/>).</summary>
    public long RuleRemoved => Buffers.Sum(b => b.RuleRemoved);

    /// <summary>
    /// Scans panels [p0, p1) for the users whose vectors are rows <paramref name="rows"/> of
    /// <paramref name="queries"/> (rows × panels.Dim), offering to <see cref="Buffers"/>[<paramref name="bufferIds"/>[j]].
    /// </summary>
    public void Scan(float[] queries, ReadOnlySpan<int> rows, ReadOnlySpan<int> bufferIds,
        PackedPanels panels, int p0, int p1, ItemExclusions exclusions)
    {
        if (p1 <= p0) return;
        int dim = panels.Dim;
        float** tile = stackalloc float*[TileScanner.TileUsers];
        float* zero = (float*)Unsafe.AsPointer(ref _zero[0]);
        fixed (float* q = queries)
        {
            for (int j0 = 0; j0 < rows.Length; j0 += TileScanner.TileUsers)
            {
                int m = Math.Min(TileScanner.TileUsers, rows.Length - j0);
                for (int j = 0; j < TileScanner.TileUsers; j++)
                {
                    tile[j] = j < m ? q + (long)rows[j0 + j] * dim : zero;
                    if (j < m) _tileBuffers[j] = Buffers[bufferIds[j0 + j]];
                }
                TileScanner.Scan(tile, m, panels, p0, p1, _tileBuffers.AsSpan(0, m), exclusions);
            }
        }
    }
}
