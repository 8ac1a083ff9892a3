namespace BatchRecs.Core.Data;

/// <summary>
/// A sparse matrix in compressed sparse row form. Row r's entries are
/// <c>Cols[RowPtr[r]..RowPtr[r+1]]</c> with values <c>Values[...]</c>, columns ascending.
/// </summary>
/// <remarks>
/// Example, 3 users × 4 items with 4 interactions:
/// <code>
///        i0  i1  i2  i3
///   u0 [  2   .   .   1 ]     RowPtr = [0, 2, 3, 4]
///   u1 [  .   .   5   . ]     Cols   = [0, 3, 2, 1]
///   u2 [  .   1   .   . ]     Values = [2, 1, 5, 1]
/// </code>
/// The transpose (item × user) has the same form, so one ALS half-step routine, written in
/// src/dst terms, serves both sides. Immutable after construction; shared between threads.
/// </remarks>
public sealed class CsrMatrix
{
    public CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIdx, float[] values)
    {
        if (rowPtr.Length != rows + 1) throw new ArgumentException($"rowPtr length {rowPtr.Length} != rows + 1 ({rows + 1}).");
        if (colIdx.Length != values.Length || rowPtr[rows] != colIdx.Length)
            throw new ArgumentException("colIdx/values length must equal rowPtr[rows].");
        Rows = rows;
        Cols = cols;
        RowPtr = rowPtr;
        ColIdx = colIdx;
        Values = values;
    }

    private CsrMatrix(int rows, int cols, int[] rowPtr)
    {
        if (rowPtr.Length != rows + 1) throw new ArgumentException($"rowPtr length {rowPtr.Length} != rows + 1 ({rows + 1}).");
        (Rows, Cols, RowPtr, ColIdx, Values) = (rows, cols, rowPtr, [], []);
    }

    /// <summary>
    /// A matrix's shape and row pointers without its entries (<see cref="HasEntries"/> is false): what a coordinator keeps
    /// of a matrix whose entries an executor holds where its block tasks run (<see cref="Execution.IExecutor.Transpose"/>).
    /// Row lengths, <see cref="NonZeros"/> and blocking work on it; reading an entry throws.
    /// </summary>
    public static CsrMatrix RowsOnly(int rows, int cols, int[] rowPtr) => new(rows, cols, rowPtr);

    /// <summary>
    /// Where the entries are also kept outside this process, by the executor that laid this matrix out, or null. Set by
    /// <see cref="StoredIn"/>; carried by <see cref="Union"/> when both matrices are stored; any other derived matrix is
    /// not stored.
    /// </summary>
    public EntryStore? Store { get; private init; }

    /// <summary>This matrix (sharing its arrays) tagged as stored in <paramref name="store"/>.</summary>
    public CsrMatrix StoredIn(EntryStore store) => HasEntries
        ? new CsrMatrix(Rows, Cols, RowPtr, ColIdx, Values) { Store = store }
        : new CsrMatrix(Rows, Cols, RowPtr) { Store = store };

    /// <summary>
    /// This matrix with its entries in this process: itself, or (rows only) the whole matrix read back from its store —
    /// for a feature that needs every entry on one host.
    /// </summary>
    public CsrMatrix WithEntries() => HasEntries ? this : StoreOrThrow().ReadRows(0, Rows, Cols).StoredIn(Store!);

    /// <summary>
    /// A matrix of this shape holding the entries of <paramref name="rows"/> (others empty): itself when it has its entries,
    /// else those rows read from its store. For lookups of a few rows' entries (a sample's exclusions); row lengths stay
    /// this matrix's to ask.
    /// </summary>
    public CsrMatrix RowsOf(IEnumerable<int> rows) =>
        HasEntries ? this : StoreOrThrow().ReadRowsOf(rows.Distinct().Order().ToArray(), Rows, Cols);

    /// <summary>
    /// Hands every row, in order, to <paramref name="body"/> in chunks of at most <paramref name="rowsPerChunk"/> rows (row j
    /// of a chunk is row start + j): this matrix whole in one chunk when it has its entries, else read from its store a chunk
    /// at a time, so a pass over every entry holds one chunk.
    /// </summary>
    /// <remarks>A chunk's arrays are large objects, which only a full collection frees, and a process with memory to spare
    /// seldom runs one: a pass over 64M entries read 0.5 GB of chunks that nothing collected (a 100M-interaction
    /// coordinator reached 2.7 GB once, with other read garbage), so a pass collects after every
    /// <see cref="CollectAfterBytes"/> it read.</remarks>
    public void ForEachRowChunk(Action<int, CsrMatrix> body, int rowsPerChunk = DefaultChunkRows)
    {
        if (HasEntries)
        {
            body(0, this);
            return;
        }
        var store = StoreOrThrow();
        long read = 0;
        for (int start = 0; start < Rows; start += rowsPerChunk)
        {
            var chunk = store.ReadRows(start, Math.Min(Rows, start + rowsPerChunk), Cols);
            body(start, chunk);
            read += chunk.Bytes;
            chunk = null;
            if (read < CollectAfterBytes) continue;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            read = 0;
        }
    }

    /// <summary>Rows a chunk of <see cref="ForEachRowChunk"/> holds by default (≈ 5M entries at 80 a row: 40 MB).</summary>
    public const int DefaultChunkRows = 1 << 16;

    /// <summary>Bytes of chunks read from a store after which <see cref="ForEachRowChunk"/> collects them.</summary>
    public const long CollectAfterBytes = 256L << 20;

    /// <summary>
    /// A fingerprint of the entries: the wrapping sum of a hash of each (row, column, value), so it does not depend on how
    /// the rows are cut (a store sums its shards' hashes, rows numbered from <paramref name="firstRow"/>), and the union of
    /// matrices with no entry in common hashes to the sum of theirs.
    /// </summary>
    public ulong EntryHash(int firstRow = 0)
    {
        ulong sum = 0;
        for (int r = 0; r < Rows; r++)
            for (int e = RowPtr[r]; e < RowPtr[r + 1]; e++)
                sum += SplitMix64.Mix(((ulong)(uint)(firstRow + r) << 32 | (uint)ColIdx[e]) ^ SplitMix64.Mix(BitConverter.SingleToUInt32Bits(Values[e])));
        return sum;
    }

    private EntryStore StoreOrThrow() => Store ?? throw new InvalidOperationException("this matrix holds its rows only and is stored nowhere: its entries cannot be read.");

    public int Rows { get; }
    public int Cols { get; }
    public int[] RowPtr { get; }
    public int[] ColIdx { get; }
    public float[] Values { get; }
    public int NonZeros => RowPtr[Rows];

    /// <summary>False for a <see cref="RowsOnly"/> matrix, whose entries are held elsewhere.</summary>
    public bool HasEntries => ColIdx.Length == NonZeros;

    /// <summary>Bytes the row pointers, columns and values take: 4 a row plus 8 an entry.</summary>
    public long Bytes => 4L * RowPtr.Length + 4L * ColIdx.Length + 4L * Values.Length;

    public int RowLength(int row) => RowPtr[row + 1] - RowPtr[row];

    /// <summary>Every row's length (works on rows only).</summary>
    public int[] RowLengths()
    {
        var lengths = new int[Rows];
        for (int r = 0; r < Rows; r++) lengths[r] = RowLength(r);
        return lengths;
    }
    public ReadOnlySpan<int> RowCols(int row) => ColIdx.AsSpan(RowPtr[row], RowPtr[row + 1] - RowPtr[row]);
    public ReadOnlySpan<float> RowValues(int row) => Values.AsSpan(RowPtr[row], RowPtr[row + 1] - RowPtr[row]);

    /// <summary>True when (row, col) is stored. O(log row length).</summary>
    public bool Contains(int row, int col) => RowCols(row).BinarySearch(col) >= 0;

    /// <summary>Builds a CSR from coordinate entries; duplicate (row, col) pairs are summed.</summary>
    public static CsrMatrix FromEntries(int rows, int cols, ReadOnlySpan<int> r, ReadOnlySpan<int> c, ReadOnlySpan<float> v)
    {
        if (r.Length != c.Length || r.Length != v.Length) throw new ArgumentException("entry arrays differ in length.");
        // Counting sort by row, then sort each row by column and merge duplicates.
        var counts = new int[rows + 1];
        for (int e = 0; e < r.Length; e++)
        {
            if ((uint)r[e] >= (uint)rows || (uint)c[e] >= (uint)cols)
                throw new ArgumentOutOfRangeException(nameof(r), $"entry {e} ({r[e]}, {c[e]}) is outside {rows}×{cols}.");
            counts[r[e] + 1]++;
        }
        for (int i = 0; i < rows; i++) counts[i + 1] += counts[i];
        var next = counts.AsSpan(0, rows).ToArray();
        var colTmp = new int[r.Length];
        var valTmp = new float[r.Length];
        for (int e = 0; e < r.Length; e++)
        {
            int p = next[r[e]]++;
            colTmp[p] = c[e];
            valTmp[p] = v[e];
        }
        var rowPtr = new int[rows + 1];
        int w = 0;
        for (int i = 0; i < rows; i++)
        {
            int s = counts[i], t = counts[i + 1];
            Array.Sort(colTmp, valTmp, s, t - s);
            rowPtr[i] = w;
            for (int p = s; p < t; p++)
            {
                if (w > rowPtr[i] && colTmp[w - 1] == colTmp[p]) valTmp[w - 1] += valTmp[p];
                else { colTmp[w] = colTmp[p]; valTmp[w] = valTmp[p]; w++; }
            }
        }
        rowPtr[rows] = w;
        return new CsrMatrix(rows, cols, rowPtr, colTmp.AsSpan(0, w).ToArray(), valTmp.AsSpan(0, w).ToArray());
    }

    /// <summary>The transpose, also in CSR form (i.e. this matrix's CSC).</summary>
    public CsrMatrix Transpose()
    {
        var ptr = new int[Cols + 1];
        foreach (int c in ColIdx) ptr[c + 1]++;
        for (int i = 0; i < Cols; i++) ptr[i + 1] += ptr[i];
        var next = ptr.AsSpan(0, Cols).ToArray();
        var idx = new int[NonZeros];
        var val = new float[NonZeros];
        for (int r = 0; r < Rows; r++)
        {
            for (int p = RowPtr[r]; p < RowPtr[r + 1]; p++)
            {
                int q = next[ColIdx[p]]++;
                idx[q] = r;
                val[q] = Values[p];
            }
        }
        return new CsrMatrix(Cols, Rows, ptr, idx, val);
    }

    /// <summary>The transpose of the matrix with this one's shape and entries and <paramref name="values"/> as its values: the transposed order of values aligned with this one's entries.</summary>
    public float[] TransposeValues(float[] values) => new CsrMatrix(Rows, Cols, RowPtr, ColIdx, values).Transpose().Values;

    /// <summary>The same shape with only the entries (by their index into <see cref="ColIdx"/>) <paramref name="keep"/> accepts.</summary>
    public CsrMatrix WhereEntries(Func<int, bool> keep)
    {
        var rowPtr = new int[Rows + 1];
        var cols = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < Rows; r++)
        {
            for (int e = RowPtr[r]; e < RowPtr[r + 1]; e++)
                if (keep(e)) { cols.Add(ColIdx[e]); values.Add(Values[e]); }
            rowPtr[r + 1] = cols.Count;
        }
        return new CsrMatrix(Rows, Cols, rowPtr, cols.ToArray(), values.ToArray());
    }

    /// <summary>
    /// The entries of this matrix and of <paramref name="other"/> (the same shape, no entry in both), each row's in column
    /// order when both rows are: e.g. a hold-out split's training and held-out parts put back together. Stored where
    /// their stores say their union is (<see cref="EntryStore.Union"/>).
    /// </summary>
    public CsrMatrix Union(CsrMatrix other)
    {
        var store = Store is { } a && other.Store is { } b ? a.Union(b) : null;
        if (!HasEntries || !other.HasEntries)
        {
            // Rows only: the union's row lengths; its entries are wherever the stores say.
            if (store is null) throw new InvalidOperationException("the union of a matrix holding its rows only needs both stored where their union can be read.");
            if (other.Rows != Rows || other.Cols != Cols) throw new ArgumentException("the matrices differ in shape.", nameof(other));
            var ptr = new int[Rows + 1];
            for (int r = 0; r < Rows; r++) ptr[r + 1] = checked(ptr[r] + RowLength(r) + other.RowLength(r));
            return new CsrMatrix(Rows, Cols, ptr) { Store = store };
        }
        var cols = new int[checked(NonZeros + other.NonZeros)];
        var values = new float[cols.Length];
        var rowPtr = WalkUnion(other, (w, mine, e) => (cols[w], values[w]) = mine ? (ColIdx[e], Values[e]) : (other.ColIdx[e], other.Values[e]));
        return new CsrMatrix(Rows, Cols, rowPtr, cols, values) { Store = store };
    }

    /// <summary>Per-entry data of this matrix and of <paramref name="other"/> laid out as <see cref="Union"/> lays out their entries.</summary>
    /// <param name="other">the other matrix, as for <see cref="Union"/>.</param>
    /// <param name="mine">one value per entry of this matrix.</param>
    /// <param name="theirs">one value per entry of <paramref name="other"/>.</param>
    public T[] UnionAligned<T>(CsrMatrix other, T[] mine, T[] theirs)
    {
        if (mine.Length != NonZeros || theirs.Length != other.NonZeros) throw new ArgumentException("one value per entry of each matrix is needed.");
        var merged = new T[checked(NonZeros + other.NonZeros)];
        WalkUnion(other, (w, fromMine, e) => merged[w] = fromMine ? mine[e] : theirs[e]);
        return merged;
    }

    /// <summary>Walks the union's entries in order, handing each output position its source entry; returns the union's row pointers.</summary>
    private int[] WalkUnion(CsrMatrix other, Action<int, bool, int> take)
    {
        if (other.Rows != Rows || other.Cols != Cols) throw new ArgumentException("the matrices differ in shape.", nameof(other));
        var rowPtr = new int[Rows + 1];
        int w = 0;
        for (int r = 0; r < Rows; r++)
        {
            int a = RowPtr[r], aEnd = RowPtr[r + 1], b = other.RowPtr[r], bEnd = other.RowPtr[r + 1];
            while (a < aEnd || b < bEnd)
            {
                bool fromA = b == bEnd || (a < aEnd && ColIdx[a] < other.ColIdx[b]);
                if (!fromA && a < aEnd && ColIdx[a] == other.ColIdx[b]) throw new ArgumentException($"entry ({r}, {ColIdx[a]}) is in both matrices.", nameof(other));
                take(w++, fromA, fromA ? a++ : b++);
            }
            rowPtr[r + 1] = w;
        }
        return rowPtr;
    }

    /// <summary>
    /// This matrix's rows placed at row <paramref name="start"/> of a matrix of <paramref name="rows"/> rows whose other rows
    /// are empty, sharing its entries: a block's rows (e.g. a scoring task's exclusions) where code indexes rows globally.
    /// </summary>
    public CsrMatrix PlacedAt(int start, int rows)
    {
        if (start < 0 || start + Rows > rows) throw new ArgumentOutOfRangeException(nameof(start), $"{Rows} rows from row {start} do not fit in {rows}.");
        var rowPtr = new int[rows + 1];
        RowPtr.CopyTo(rowPtr, start);
        rowPtr.AsSpan(start + Rows + 1).Fill(NonZeros);
        return new CsrMatrix(rows, Cols, rowPtr, ColIdx, Values);
    }

    /// <summary>A matrix with the same pattern and values mapped by <paramref name="f"/>.</summary>
    public CsrMatrix MapValues(Func<float, float> f)
    {
        var v = new float[Values.Length];
        for (int i = 0; i < v.Length; i++) v[i] = f(Values[i]);
        return new CsrMatrix(Rows, Cols, RowPtr, ColIdx, v);
    }
}
