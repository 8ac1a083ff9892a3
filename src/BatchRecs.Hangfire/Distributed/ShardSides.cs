using System.Text.Json;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// Pairs as the shard tasks of a distributed pairs stage left them in the scratch area (<see cref="ReadTaskFiles"/>): each
/// shard's training and held-out rows, both ways. <paramref name="Starts"/> are the shards' user ranges (shard s holds
/// users Starts[s] ≤ u &lt; Starts[s + 1]); <paramref name="Train"/> and <paramref name="HeldOut"/> say which parts a
/// matrix stored here is made of (both: the union the refit fits and scoring excludes). Any process that sees the
/// scratch area reads it: block tasks their blocks' rows, the coordinator samples, chunks and column counts.
/// </summary>
/// <param name="Dir">the shards' folder.</param>
/// <param name="Starts">each shard's first user, then the user count.</param>
/// <param name="Train">the matrix holds the training rows.</param>
/// <param name="HeldOut">the matrix holds the held-out rows.</param>
/// <param name="TrainHash">the training rows' <see cref="CsrMatrix.EntryHash"/>, summed over the shards.</param>
/// <param name="HeldHash">the held-out rows' (0 without a hold-out).</param>
public sealed record ShardStore(string Dir, int[] Starts, bool Train, bool HeldOut, ulong TrainHash, ulong HeldHash) : EntryStore
{
    public override EntryStore? Union(EntryStore other) =>
        other is ShardStore s && s.Dir == Dir && s.Starts.AsSpan().SequenceEqual(Starts) && !(Train && s.Train) && !(HeldOut && s.HeldOut)
            ? this with { Train = Train || s.Train, HeldOut = HeldOut || s.HeldOut }
            : null;

    public int Shards => Starts.Length - 1;

    public override CsrMatrix ReadRows(int start, int end, int cols) => ShardSides.Strengths(this, Side.Users, start, end, cols);

    /// <summary>The rows asked for, a run of consecutive rows at a time (a seeded sample's rows are mostly runs of one).</summary>
    public override CsrMatrix ReadRowsOf(int[] rows, int rowCount, int cols)
    {
        var runs = new List<(int Start, CsrMatrix Rows)>();
        for (int i = 0; i < rows.Length;)
        {
            int a = rows[i++], b = a + 1;
            while (i < rows.Length && rows[i] == b) { b++; i++; }
            runs.Add((a, ReadRows(a, b, cols)));
        }
        var rowPtr = new int[rowCount + 1];
        foreach (var (a, m) in runs)
            for (int j = 0; j < m.Rows; j++) rowPtr[a + j + 1] = m.RowLength(j);
        for (int r = 0; r < rowCount; r++) rowPtr[r + 1] += rowPtr[r];
        var colIdx = new int[rowPtr[rowCount]];
        var values = new float[colIdx.Length];
        foreach (var (a, m) in runs)
        {
            m.ColIdx.CopyTo(colIdx, rowPtr[a]);
            m.Values.CopyTo(values, rowPtr[a]);
        }
        return new CsrMatrix(rowCount, cols, rowPtr, colIdx, values);
    }

    public override int[] ColumnCounts(int cols)
    {
        var ptr = ShardSides.ItemRowPointers(this, cols);
        var counts = new int[cols];
        for (int i = 0; i < cols; i++) counts[i] = ptr[i + 1] - ptr[i];
        return counts;
    }

    public override ulong ContentHash => (Train ? TrainHash : 0) + (HeldOut ? HeldHash : 0);
}

/// <summary>
/// A fit's sides read where the shard tasks stored the pairs: a side file (<c>side-ID.bin</c>, written by the coordinator
/// once per problem, small: the store, the side, the fit's <see cref="EntryWeights"/> and the side's row pointers) names
/// what a block task reads; the task reads its block's rows of the strengths from the shards' files by range and weighs
/// them itself. A user block reads the rows of the shards its users are in; an item block reads its items' rows of every
/// shard's transposed file and lays them side by side in shard order, which is user order: both give exactly the rows
/// of the matrix the coordinator would have built and transposed, so the factors stay bit-identical.
/// </summary>
public static class ShardSides
{
    private sealed record Header(ShardStore Store, Side Side, AlsSettings? Settings, bool RelMf);

    /// <summary>Whether a path a block task is handed is a side file (else a CSR file, <see cref="BinaryArrays.WriteCsr"/>).</summary>
    public static bool IsSide(string path) => Path.GetFileName(path).StartsWith(FilePrefix, StringComparison.Ordinal);

    public const string FilePrefix = "side-";

    /// <summary>
    /// Writes a side file: <paramref name="side"/> of the matrix stored in <paramref name="store"/>, whose rows (this side's
    /// row pointers) are <paramref name="rows"/>, weighed by <paramref name="weights"/> (null: the strengths as they are, e.g.
    /// a scoring step's exclusions, which need only the pattern).
    /// </summary>
    public static void Write(string path, ShardStore store, Side side, EntryWeights? weights, CsrMatrix rows)
    {
        if (!IsSide(path)) throw new ArgumentException($"a side file's name begins with '{FilePrefix}' ({path}).", nameof(path));
        BinaryArrays.Write(path, w =>
        {
            w.Write(JsonSerializer.Serialize(new Header(store, side, weights?.Settings, weights?.HasPreferences ?? false)));
            w.WriteArray<float>(weights?.Propensity ?? []);
            w.Write(rows.Rows); w.Write(rows.Cols);
            w.WriteArray<int>(rows.RowPtr);
        });
    }

    private static (Header Header, EntryWeights? Weights) ReadHeader(BinaryReader r, string path)
    {
        var header = JsonSerializer.Deserialize<Header>(r.ReadString()) ?? throw new InvalidDataException($"{path}: no side header.");
        var theta = r.ReadArray<float>();
        return (header, header.Settings is null ? null : new EntryWeights(header.Settings, header.RelMf ? theta : null));
    }

    /// <summary>The side's shape and row pointers (<see cref="CsrMatrix.RowsOnly"/>).</summary>
    public static CsrMatrix ReadRowsOnly(string path) => BinaryArrays.Read(path, r =>
    {
        ReadHeader(r, path);
        int rows = r.ReadInt32(), cols = r.ReadInt32();
        return CsrMatrix.RowsOnly(rows, cols, r.ReadArray<int>());
    });

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="end"/>) of the side (row j = row start + j), weighed as the side file
    /// says, with their preferences under Rel-MF: what <see cref="BinaryArrays.ReadCsrRows"/> gives of a written side.
    /// </summary>
    public static (CsrMatrix Matrix, float[]? Pref) ReadRows(string path, int start, int end)
    {
        var (header, weights, cols) = BinaryArrays.Read(path, r =>
        {
            var (h, w) = ReadHeader(r, path);
            r.ReadInt32();
            return (h, w, r.ReadInt32());
        });
        var strengths = Strengths(header.Store, header.Side, start, end, cols);
        // The strengths were read for this: weighed where they are, with no second array of values.
        return weights is null ? (strengths, null) : weights.Weigh(strengths, header.Side, start, inPlace: true);
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="end"/>) of the strengths stored in <paramref name="store"/>, as users
    /// (from the shards holding them) or as items (from every shard, side by side in user order).
    /// </summary>
    /// <param name="store">where the shards are and which parts the matrix is made of.</param>
    /// <param name="side">users: rows are users, columns items; items: the transpose.</param>
    /// <param name="start">the first row.</param>
    /// <param name="end">past the last row.</param>
    /// <param name="cols">the side's columns (items for the user side, users for the item side).</param>
    public static CsrMatrix Strengths(ShardStore store, Side side, int start, int end, int cols)
    {
        var parts = new List<(CsrMatrix Rows, int Lo)>();
        for (int s = 0; s < store.Shards; s++)
        {
            int lo = store.Starts[s], hi = store.Starts[s + 1];
            if (side == Side.Users)
            {
                if (hi <= start || lo >= end) continue;
                parts.Add((Part(store, s, false, Math.Max(start, lo) - lo, Math.Min(end, hi) - lo), lo));
            }
            else parts.Add((Part(store, s, true, start, end), lo));
        }
        if (side == Side.Users)
            return parts.Count == 1 && parts[0].Rows.Rows == end - start ? parts[0].Rows : Stacked(parts.Select(p => p.Rows).ToList(), end - start, cols);
        return SideBySide(parts, end - start, cols);
    }

    /// <summary>Rows [a, b) of shard s's file (transposed or not) of the store's parts: training, held-out, or their union.</summary>
    private static CsrMatrix Part(ShardStore store, int s, bool transposed, int a, int b)
    {
        CsrMatrix? rows = null;
        if (store.Train) rows = BinaryArrays.ReadCsrRows(ReadTaskFiles.RowsPath(store.Dir, s, false, transposed), a, b).Matrix;
        if (store.HeldOut)
        {
            var held = BinaryArrays.ReadCsrRows(ReadTaskFiles.RowsPath(store.Dir, s, true, transposed), a, b).Matrix;
            rows = rows is null ? held : rows.Union(held);
        }
        return rows ?? throw new InvalidDataException($"{store.Dir}: a stored matrix of neither part.");
    }

    /// <summary>Consecutive rows of consecutive shards, one under another.</summary>
    private static CsrMatrix Stacked(List<CsrMatrix> parts, int rows, int cols)
    {
        if (parts.Sum(p => p.Rows) != rows) throw new InvalidDataException($"the shards hold {parts.Sum(p => p.Rows)} of the {rows} rows asked for.");
        var rowPtr = new int[rows + 1];
        var colIdx = new int[parts.Sum(p => p.NonZeros)];
        var values = new float[colIdx.Length];
        int r = 0, at = 0;
        foreach (var p in parts)
        {
            for (int j = 0; j < p.Rows; j++) rowPtr[r + j + 1] = at + p.RowPtr[j + 1];
            p.ColIdx.CopyTo(colIdx, at);
            p.Values.CopyTo(values, at);
            (r, at) = (r + p.Rows, at + p.NonZeros);
        }
        return new CsrMatrix(rows, cols, rowPtr, colIdx, values);
    }

    /// <summary>The same rows of every shard (its columns local to it: shard user u is user lo + u), each row's in shard order.</summary>
    private static CsrMatrix SideBySide(List<(CsrMatrix Rows, int Lo)> parts, int rows, int cols)
    {
        var rowPtr = new int[rows + 1];
        foreach (var (p, _) in parts)
            for (int j = 0; j < rows; j++) rowPtr[j + 1] += p.RowLength(j);
        for (int j = 0; j < rows; j++) rowPtr[j + 1] += rowPtr[j];
        var colIdx = new int[rowPtr[rows]];
        var values = new float[colIdx.Length];
        var next = rowPtr[..^1];
        foreach (var (p, lo) in parts)
            for (int j = 0; j < rows; j++)
                for (int e = p.RowPtr[j]; e < p.RowPtr[j + 1]; e++, next[j]++)
                    (colIdx[next[j]], values[next[j]]) = (lo + p.ColIdx[e], p.Values[e]);
        return new CsrMatrix(rows, cols, rowPtr, colIdx, values);
    }

    /// <summary>The item side's row pointers of a stored matrix: each shard's transposed row lengths, summed (the coordinator reads no entry).</summary>
    public static int[] ItemRowPointers(ShardStore store, int items)
    {
        var rowPtr = new int[items + 1];
        for (int s = 0; s < store.Shards; s++)
            foreach (bool held in new[] { false, true })
            {
                if (held ? !store.HeldOut : !store.Train) continue;
                var part = BinaryArrays.ReadCsrRowsOnly(ReadTaskFiles.RowsPath(store.Dir, s, held, true));
                if (part.Rows != items) throw new InvalidDataException($"{ReadTaskFiles.RowsPath(store.Dir, s, held, true)}: {part.Rows} items, not {items}.");
                for (int i = 0; i < items; i++) rowPtr[i + 1] += part.RowLength(i);
            }
        for (int i = 0; i < items; i++) rowPtr[i + 1] += rowPtr[i];
        return rowPtr;
    }
}
