using BatchRecs.Core.Data;
using BatchRecs.Tests;

namespace BatchRecs.Core.Tests.Data;

public class CsrMatrixTests
{
    [Fact]
    public void FromEntries_sorts_rows_and_sums_duplicates()
    {
        var m = CsrMatrix.FromEntries(3, 4, [2, 0, 0, 1, 0], [1, 3, 0, 2, 3], [1f, 1f, 2f, 5f, 0.5f]);
        Assert.Equal(new[] { 0, 2, 3, 4 }, m.RowPtr);
        Assert.Equal(new[] { 0, 3, 2, 1 }, m.ColIdx);
        Assert.Equal(new[] { 2f, 1.5f, 5f, 1f }, m.Values);
        Assert.True(m.Contains(0, 3));
        Assert.False(m.Contains(1, 3));
    }

    [Fact]
    public void Transpose_twice_is_identity_and_matches_dense()
    {
        var rng = new Random(3);
        int rows = 37, cols = 23, n = 300;
        var r = new int[n]; var c = new int[n]; var v = new float[n];
        for (int e = 0; e < n; e++) { r[e] = rng.Next(rows); c[e] = rng.Next(cols); v[e] = rng.Next(1, 9); }
        var m = CsrMatrix.FromEntries(rows, cols, r, c, v);
        var dense = new float[rows, cols];
        for (int e = 0; e < n; e++) dense[r[e], c[e]] += v[e];
        var t = m.Transpose();
        for (int i = 0; i < cols; i++)
            for (int p = t.RowPtr[i]; p < t.RowPtr[i + 1]; p++)
                Assert.Equal(dense[t.ColIdx[p], i], t.Values[p]);
        Assert.Equal(m.NonZeros, t.NonZeros);
        var tt = t.Transpose();
        Assert.Equal(m.RowPtr, tt.RowPtr);
        Assert.Equal(m.ColIdx, tt.ColIdx);
        Assert.Equal(m.Values, tt.Values);
    }

    [Fact]
    public void A_rows_only_matrix_has_the_shape_and_row_lengths_and_no_entries_to_read()
    {
        var m = CsrMatrix.FromEntries(3, 4, [2, 0, 0, 1], [1, 3, 0, 2], [1f, 1f, 2f, 5f]);
        var rows = CsrMatrix.RowsOnly(m.Rows, m.Cols, m.RowPtr);
        Assert.True(m.HasEntries);
        Assert.False(rows.HasEntries);
        Assert.Equal(m.NonZeros, rows.NonZeros);
        Assert.Equal(Enumerable.Range(0, 3).Select(m.RowLength), Enumerable.Range(0, 3).Select(rows.RowLength));
        Assert.Equal(4L * 4, rows.Bytes);
        Assert.ThrowsAny<ArgumentException>(() => rows.RowCols(0).ToArray());
        Assert.Throws<ArgumentException>(() => CsrMatrix.RowsOnly(3, 4, [0, 1]));
    }

    [Fact]
    public void TransposeValues_aligns_other_values_with_the_transposes_entries()
    {
        var m = CsrMatrix.FromEntries(3, 4, [2, 0, 0, 1], [1, 3, 0, 2], [1f, 1f, 2f, 5f]);
        var other = new[] { 10f, 20f, 30f, 40f };
        var t = new CsrMatrix(3, 4, m.RowPtr, m.ColIdx, other).Transpose();
        Assert.Equal(t.Values, m.TransposeValues(other));
    }

    [Fact]
    public void Entries_outside_the_shape_are_rejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CsrMatrix.FromEntries(2, 2, [0, 2], [0, 0], [1f, 1f]));
        Assert.Contains("entry 1", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public void Blocks_cover_every_row_once_in_order(int blocks)
    {
        var rng = new Random(blocks);
        int rows = 50;
        var r = Enumerable.Range(0, 400).Select(_ => rng.Next(rows)).ToArray();
        var c = Enumerable.Range(0, 400).Select(_ => rng.Next(10)).ToArray();
        var m = CsrMatrix.FromEntries(rows, 10, r, c, Enumerable.Repeat(1f, 400).ToArray());
        var parts = BlockPartitioner.Partition(m, blocks, 4);
        Assert.Equal(Math.Min(blocks, rows), parts.Length);
        Assert.Equal(0, parts[0].Start);
        Assert.Equal(rows, parts[^1].End);
        for (int b = 0; b < parts.Length; b++)
        {
            Assert.Equal(b, parts[b].Index);
            Assert.True(parts[b].Length > 0);
            if (b > 0) Assert.Equal(parts[b - 1].End, parts[b].Start);
        }
    }

    [Fact]
    public void A_split_put_back_together_is_the_matrix_it_was_split_from()
    {
        var rng = new Random(12);
        var r = Enumerable.Range(0, 3000).Select(_ => rng.Next(60)).ToArray();
        var c = Enumerable.Range(0, 3000).Select(_ => rng.Next(45)).ToArray();
        var whole = CsrMatrix.FromEntries(60, 45, r, c, Enumerable.Range(0, 3000).Select(e => (float)e).ToArray());
        var mask = Enumerable.Range(0, whole.NonZeros).Select(_ => rng.Next(4) == 0).ToArray();
        var union = whole.WhereEntries(e => !mask[e]).Union(whole.WhereEntries(e => mask[e]));
        Assert.Equal(whole.RowPtr, union.RowPtr);
        Assert.Equal(whole.ColIdx, union.ColIdx);
        Assert.Equal(whole.Values, union.Values);
        Assert.Throws<ArgumentException>(() => whole.Union(whole.WhereEntries(e => e == 7)));
        Assert.Throws<ArgumentException>(() => whole.Union(new CsrMatrix(61, 45, new int[62], [], [])));
    }

    [Fact]
    public void A_union_is_stored_where_its_stores_say_and_nothing_else_derived_is_stored()
    {
        var a = CsrMatrix.FromEntries(3, 4, [0, 1, 2], [0, 1, 2], [1, 2, 3]);
        var b = CsrMatrix.FromEntries(3, 4, [0, 2], [3, 0], [4, 5]);
        var (sa, sb) = (a.StoredIn(new MemoryStore(a, 1)), b.StoredIn(new MemoryStore(b, 2)));
        Assert.Same(a.ColIdx, sa.ColIdx);
        Assert.Equal(3, ((MemoryStore)sa.Union(sb).Store!).Parts);
        Assert.Equal(a.Union(b).ColIdx, sa.Union(sb).ColIdx);
        Assert.Null(sa.Union(b).Store);
        Assert.Null(sa.Union(b.StoredIn(new MemoryStore(b, 1))).Store); // the store cannot read that union
        Assert.Null(sa.Transpose().Store);
        Assert.Null(sa.MapValues(v => v).Store);
        Assert.Null(a.Store);

        // Rows only: the union's row lengths, stored where the union is; without such a store it cannot be formed.
        var (ra, rb) = (MemoryStore.RowsOnly(a, 1), MemoryStore.RowsOnly(b, 2));
        var union = ra.Union(rb);
        Assert.False(union.HasEntries);
        Assert.Equal(a.Union(b).RowPtr, union.RowPtr);
        Assert.Equal(a.Union(b).ColIdx, union.WithEntries().ColIdx);
        Assert.Throws<InvalidOperationException>(() => ra.Union(MemoryStore.RowsOnly(b, 1)));
        Assert.Throws<InvalidOperationException>(() => CsrMatrix.RowsOnly(3, 4, a.RowPtr).WithEntries());
    }

    [Fact]
    public void A_matrix_of_rows_only_reads_back_its_entries_a_sample_a_chunk_or_all_at_a_time_and_hashes_them_as_cut_anyhow()
    {
        var rng = new Random(4);
        int rows = 300, cols = 40, n = 2000;
        var whole = CsrMatrix.FromEntries(rows, cols, Enumerable.Range(0, n).Select(_ => rng.Next(rows)).ToArray(),
            Enumerable.Range(0, n).Select(_ => rng.Next(cols)).ToArray(), Enumerable.Range(0, n).Select(e => (float)rng.NextDouble()).ToArray());
        var stored = MemoryStore.RowsOnly(whole);
        var store = (MemoryStore)stored.Store!;

        var all = stored.WithEntries();
        Assert.Equal(whole.RowPtr, all.RowPtr);
        Assert.Equal(whole.ColIdx, all.ColIdx);
        Assert.Equal(whole.Values, all.Values);
        Assert.Same(whole, whole.WithEntries());

        long before = store.RowsRead;
        int[] sample = [7, 3, 299, 3, 150];
        var some = stored.RowsOf(sample);
        Assert.Equal(4, store.RowsRead - before); // the distinct rows asked for, nothing else
        for (int u = 0; u < rows; u++)
            Assert.Equal(sample.Contains(u) ? whole.RowCols(u).ToArray() : [], some.RowCols(u).ToArray());
        Assert.Same(whole, whole.RowsOf(sample));

        var chunks = new List<(int Start, CsrMatrix Rows)>();
        stored.ForEachRowChunk((start, rows) => chunks.Add((start, rows)), 64);
        Assert.Equal([0, 64, 128, 192, 256], chunks.Select(c => c.Start));
        Assert.Equal(whole.ColIdx, chunks.SelectMany(c => c.Rows.ColIdx));
        Assert.Equal(whole.RowPtr.Skip(1).Select(p => p), chunks.SelectMany(c => c.Rows.RowPtr.Skip(1).Select(p => p + whole.RowPtr[c.Start])));
        var once = new List<(int, CsrMatrix)>();
        whole.ForEachRowChunk((start, rows) => once.Add((start, rows)), 64);
        Assert.Equal([(0, whole)], once);

        // The entry hash: the same for the whole and for its rows cut anyhow, summed; any changed value, column or row changes it.
        ulong hash = whole.EntryHash();
        Assert.Equal(hash, chunks.Aggregate(0UL, (h, c) => h + c.Rows.EntryHash(c.Start)));
        Assert.Equal(hash, store.ContentHash);
        var changed = whole.MapValues(v => v);
        changed.Values[5] += 1;
        Assert.NotEqual(hash, changed.EntryHash());
        Assert.NotEqual(hash, whole.EntryHash(firstRow: 1));
    }
}
