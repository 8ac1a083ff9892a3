using BatchRecs.Lake.Storage;
using System.Runtime.InteropServices;
using BatchRecs.Core.Data;

namespace BatchRecs.Lake.Scratch;

/// <summary>
/// The scratch-file layout block tasks exchange through the shared lake: a 8-byte magic, then arrays, each as an
/// int64 element count followed by the raw little-endian elements (so a file can be memory-mapped or read with one
/// call per array). Files are written to a temporary name and renamed, so a reader sees all or nothing; in a lake on
/// object storage (<c>az://</c> paths) they are objects, which appear whole when their upload completes, and readers
/// seek in them by ranged reads (<see cref="ScratchArea"/> has the rest: exists, size, delete).
/// </summary>
/// <remarks>
/// Only files that must outlive a crash of the host that wrote them (fit checkpoints: a restarted coordinator resumes from
/// them) are flushed to disk before the rename. A half-step's exchange files live for one step and are read by processes
/// that see the file system's page cache (the same host, or an NFS client after close-to-open): an fsync per file cost
/// 30–90 ms a half-step for nothing, and a reader refuses a short file (every array carries its length).
/// </remarks>
public static class BinaryArrays
{
    private static readonly byte[] Magic = "BRSCR001"u8.ToArray();

    /// <param name="path">the file to write (replaced whole).</param>
    /// <param name="body">writes the arrays.</param>
    /// <param name="durable">flush to disk before the rename (checkpoints); exchange files need not.</param>
    public static void Write(string path, Action<BinaryWriter> body, bool durable = false)
    {
        // Through a local file either way: a body may seek, and a CSR of 80M pairs held in a memory stream took 0.6–1.3 GB.
        // On a disk the file is written beside its name and renamed; in object storage it is uploaded from a temporary file.
        var (store, name) = Storage.LakeLocation.Object(path);
        store.WriteThroughFile(name, fs =>
        {
            using var w = new BinaryWriter(fs, System.Text.Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            body(w);
        }, durable);
    }

    /// <param name="path">the scratch file.</param>
    /// <param name="body">reads it.</param>
    /// <param name="randomAccess">the body reads at scattered offsets (<see cref="Storage.IObjectStore.OpenRandomAccessAsync"/>).</param>
    public static T Read<T>(string path, Func<BinaryReader, T> body, bool randomAccess = false)
    {
        using var r = OpenRead(path, randomAccess);
        return body(r);
    }

    /// <summary>A reader of a scratch file, past its checked header (disposing it closes the file).</summary>
    /// <param name="path">the scratch file.</param>
    /// <param name="randomAccess">reads will be at scattered offsets: no read-ahead buffer.</param>
    public static BinaryReader OpenRead(string path, bool randomAccess = false)
    {
        var (store, name) = Storage.LakeLocation.Object(path);
        var stream = (randomAccess ? store.OpenRandomAccessAsync(name) : store.OpenReadAsync(name)).GetAwaiter().GetResult();
        var r = new BinaryReader(stream);
        var magic = r.ReadBytes(Magic.Length);
        if (magic.AsSpan().SequenceEqual(Magic)) return r;
        r.Dispose();
        throw new InvalidDataException($"{path}: not a BatchRecs scratch file.");
    }

    public static void WriteArray<T>(this BinaryWriter w, ReadOnlySpan<T> values) where T : unmanaged
    {
        w.Write((long)values.Length);
        w.Write(MemoryMarshal.AsBytes(values));
    }

    public static T[] ReadArray<T>(this BinaryReader r) where T : unmanaged
    {
        long n = r.ReadInt64();
        var a = new T[n];
        int read = r.BaseStream.ReadAtLeast(MemoryMarshal.AsBytes(a.AsSpan()), checked((int)(n * Marshal.SizeOf<T>())), throwOnEndOfStream: true);
        if (read != n * Marshal.SizeOf<T>()) throw new EndOfStreamException();
        return a;
    }

    /// <summary>
    /// Reads an array written by <see cref="WriteArray{T}"/> straight into <paramref name="destination"/>, which must have
    /// its length; false (nothing read) when the lengths differ. No array is allocated: the coordinator gathers a whole
    /// factor matrix per half-step this way.
    /// </summary>
    /// <param name="r">the reader, at the array.</param>
    /// <param name="destination">where the values go.</param>
    public static bool ReadArrayInto<T>(this BinaryReader r, Span<T> destination) where T : unmanaged
    {
        long n = r.ReadInt64();
        if (n != destination.Length) return false;
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(destination));
        return true;
    }

    /// <summary>A CSR matrix with optional per-entry preferences.</summary>
    public static void WriteCsr(string path, CsrMatrix m, float[]? pref) => Write(path, w =>
    {
        w.Write(m.Rows); w.Write(m.Cols);
        w.WriteArray<int>(m.RowPtr); w.WriteArray<int>(m.ColIdx); w.WriteArray<float>(m.Values);
        w.WriteArray<float>(pref ?? []);
    });

    /// <summary>
    /// Writes the transpose of <paramref name="m"/> (and of its preferences) in <see cref="WriteCsr"/>'s layout, byte for
    /// byte what <c>WriteCsr(path, m.Transpose(), …)</c> writes, without building it: the transposed rows are filled a
    /// slice of at most <see cref="TransposeSliceEntries"/> entries at a time (a cursor per source row walks its sorted
    /// columns once in all) and each slice's columns, values and preferences are written at their offsets. Returns the
    /// transposed row pointers.
    /// </summary>
    /// <param name="path">the file to write (replaced whole).</param>
    /// <param name="m">the matrix whose transpose is written.</param>
    /// <param name="pref">values aligned with <paramref name="m"/>'s entries, transposed alongside, or null.</param>
    /// <param name="sliceEntries">entries a slice holds at most (tests use small ones).</param>
    public static int[] WriteTransposedCsr(string path, CsrMatrix m, float[]? pref, int sliceEntries = TransposeSliceEntries)
    {
        var rowPtr = new int[m.Cols + 1];
        foreach (int c in m.ColIdx) rowPtr[c + 1]++;
        for (int i = 0; i < m.Cols; i++) rowPtr[i + 1] += rowPtr[i];
        long nnz = m.NonZeros;
        Write(path, w =>
        {
            w.Write(m.Cols); w.Write(m.Rows);
            w.WriteArray<int>(rowPtr);
            var s = w.BaseStream;
            long colsAt = s.Position + 8, valuesAt = colsAt + 4 * nnz + 8, prefAt = valuesAt + 4 * nnz + 8;
            w.Write(nnz);
            s.Position = valuesAt - 8; w.Write(nnz);
            s.Position = prefAt - 8; w.Write(pref is null ? 0L : nnz);
            var cursor = m.RowPtr.AsSpan(0, m.Rows).ToArray();
            int maxSlice = (int)Math.Min(nnz, sliceEntries);
            var cols = new int[maxSlice]; var values = new float[maxSlice]; var prefs = pref is null ? null : new float[maxSlice];
            var next = new int[m.Cols];
            for (int a = 0; a < m.Cols;)
            {
                // Transposed rows [a, b) hold at most a slice's entries (or one row, however long).
                int b = a + 1;
                while (b < m.Cols && rowPtr[b + 1] - rowPtr[a] <= maxSlice) b++;
                int first = rowPtr[a], count = rowPtr[b] - first;
                if (count > cols.Length) { cols = new int[count]; values = new float[count]; if (prefs is not null) prefs = new float[count]; }
                for (int i = a; i < b; i++) next[i] = rowPtr[i] - first;
                for (int r = 0; r < m.Rows; r++)
                {
                    int p = cursor[r], end = m.RowPtr[r + 1];
                    for (; p < end && m.ColIdx[p] < b; p++)
                    {
                        int q = next[m.ColIdx[p]]++;
                        cols[q] = r; values[q] = m.Values[p];
                        if (prefs is not null) prefs[q] = pref![p];
                    }
                    cursor[r] = p;
                }
                s.Position = colsAt + 4L * first; s.Write(MemoryMarshal.AsBytes(cols.AsSpan(0, count)));
                s.Position = valuesAt + 4L * first; s.Write(MemoryMarshal.AsBytes(values.AsSpan(0, count)));
                if (prefs is not null) { s.Position = prefAt + 4L * first; s.Write(MemoryMarshal.AsBytes(prefs.AsSpan(0, count))); }
                a = b;
            }
            s.Position = prefAt + (pref is null ? 0 : 4 * nnz);
        });
        return rowPtr;
    }

    /// <summary>Entries of a transposed slice <see cref="WriteTransposedCsr"/> holds at once (8 MiB of columns, 8 of values).</summary>
    public const int TransposeSliceEntries = 1 << 21;

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="end"/>) of a CSR file (<see cref="WriteCsr"/>'s or
    /// <see cref="WriteTransposedCsr"/>'s layout), read by range, as a matrix of just those rows (row j = the file's row
    /// start + j; the file's columns), and their preferences. What a block task holds of a side it solves or scores: its
    /// own rows, not the side.
    /// </summary>
    public static (CsrMatrix Matrix, float[]? Pref) ReadCsrRows(string path, int start, int end) => Read(path, r =>
    {
        int rows = r.ReadInt32(), cols = r.ReadInt32();
        if (r.ReadInt64() != rows + 1L || start < 0 || end > rows || start > end)
            throw new InvalidDataException($"{path}: rows [{start}, {end}) of a {rows}-row CSR file.");
        var s = r.BaseStream;
        long ptrAt = s.Position;
        s.Position = ptrAt + 4L * start;
        var local = new int[end - start + 1];
        s.ReadExactly(MemoryMarshal.AsBytes(local.AsSpan()));
        s.Position = ptrAt + 4L * (rows + 1);
        long nnz = r.ReadInt64(), colsAt = s.Position, valuesAt = colsAt + 4 * nnz + 8;
        s.Position = valuesAt + 4 * nnz;
        bool hasPref = r.ReadInt64() > 0;
        long prefAt = s.Position;
        int lo = local[0], n = local[^1] - lo;
        if (lo < 0 || n < 0 || lo + (long)n > nnz) throw new InvalidDataException($"{path}: row pointers past its {nnz} entries.");
        float[] Floats(long at)
        {
            var a = new float[n];
            s.Position = at + 4L * lo;
            s.ReadExactly(MemoryMarshal.AsBytes(a.AsSpan()));
            return a;
        }
        var colIdx = new int[n];
        s.Position = colsAt + 4L * lo;
        s.ReadExactly(MemoryMarshal.AsBytes(colIdx.AsSpan()));
        var values = Floats(valuesAt);
        var pref = hasPref ? Floats(prefAt) : null;
        for (int j = 0; j < local.Length; j++) local[j] -= lo;
        return (new CsrMatrix(end - start, cols, local, colIdx, values), pref);
    }, randomAccess: true);

    /// <summary>A CSR file's shape and row pointers (<see cref="CsrMatrix.RowsOnly"/>): its entries stay in the file.</summary>
    public static CsrMatrix ReadCsrRowsOnly(string path) => Read(path, r =>
    {
        int rows = r.ReadInt32(), cols = r.ReadInt32();
        return CsrMatrix.RowsOnly(rows, cols, r.ReadArray<int>());
    }, randomAccess: true);

    public static (CsrMatrix Matrix, float[]? Pref) ReadCsr(string path) => Read(path, r =>
    {
        int rows = r.ReadInt32(), cols = r.ReadInt32();
        var m = new CsrMatrix(rows, cols, r.ReadArray<int>(), r.ReadArray<int>(), r.ReadArray<float>());
        var pref = r.ReadArray<float>();
        return (m, pref.Length == 0 ? null : pref);
    });
}

/// <summary>The file operations of the scratch area beyond <see cref="BinaryArrays"/>, on a local folder or on object storage.</summary>
public static class ScratchArea
{
    public static bool Exists(string path) => Find(path) is not null;

    /// <summary>The names (last path segment) of the files directly in <paramref name="dir"/>: one listing for many checks.</summary>
    public static HashSet<string> Files(string dir)
    {
        var (store, prefix) = Storage.LakeLocation.Open(dir);
        return store.ListLevelAsync(prefix).GetAwaiter().GetResult().Objects.Select(o => o.Name[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
    }

    public static long Length(string path) => (Find(path) ?? throw new FileNotFoundException($"{path} does not exist.", path)).Length;

    private static Storage.StoredObject? Find(string path)
    {
        var (store, name) = Storage.LakeLocation.Object(path);
        return store.FindAsync(name).GetAwaiter().GetResult();
    }

    /// <summary>Deletes the folder and everything under it, best-effort: a file still open on a local disk is left, and the
    /// next run's scratch is a fresh folder.</summary>
    public static void DeleteTree(string dir)
    {
        var (store, prefix) = Storage.LakeLocation.Open(dir);
        try { store.DeleteFolderAsync(prefix).GetAwaiter().GetResult(); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
