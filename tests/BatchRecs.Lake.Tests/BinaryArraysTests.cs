using BatchRecs.Core.Data;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Lake.Tests;

public class BinaryArraysTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(3, true)]
    [InlineData(7, false)]
    [InlineData(BinaryArrays.TransposeSliceEntries, true)]
    public void The_streamed_transpose_writes_the_in_memory_transposes_file_byte_for_byte(int sliceEntries, bool withPref)
    {
        using var dir = new TempDirectory();
        var rng = new Random(sliceEntries);
        int rows = 41, cols = 17, n = 260;
        var r = new int[n]; var c = new int[n]; var v = new float[n];
        for (int e = 0; e < n; e++) { r[e] = rng.Next(rows - 3); c[e] = e < 20 ? 4 : rng.Next(cols - 2); v[e] = (float)rng.NextDouble(); }
        var m = CsrMatrix.FromEntries(rows, cols, r, c, v); // empty last rows and columns; column 4 longer than small slices
        var pref = withPref ? Enumerable.Range(0, m.NonZeros).Select(e => e * 0.5f).ToArray() : null;
        string expected = Path.Combine(dir.Path, "expected.bin"), streamed = Path.Combine(dir.Path, "streamed.bin");
        var t = m.Transpose();
        BinaryArrays.WriteCsr(expected, t, pref is null ? null : m.TransposeValues(pref));
        var rowPtr = BinaryArrays.WriteTransposedCsr(streamed, m, pref, sliceEntries);
        Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(streamed));
        Assert.Equal(t.RowPtr, rowPtr);
        var (back, backPref) = BinaryArrays.ReadCsr(streamed);
        Assert.Equal(t.ColIdx, back.ColIdx);
        Assert.Equal(withPref, backPref is not null);
    }

    [Fact]
    public void The_streamed_transpose_of_an_empty_matrix_is_an_empty_matrix()
    {
        using var dir = new TempDirectory();
        var m = new CsrMatrix(3, 2, [0, 0, 0, 0], [], []);
        string expected = Path.Combine(dir.Path, "expected.bin"), streamed = Path.Combine(dir.Path, "streamed.bin");
        BinaryArrays.WriteCsr(expected, m.Transpose(), null);
        BinaryArrays.WriteTransposedCsr(streamed, m, null);
        Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(streamed));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_range_of_rows_read_from_a_csr_file_holds_those_rows_and_no_other(bool withPref)
    {
        using var dir = new TempDirectory();
        var rng = new Random(3);
        int rows = 50, cols = 23, n = 400;
        var r = new int[n]; var c = new int[n]; var v = new float[n];
        for (int e = 0; e < n; e++) { r[e] = rng.Next(rows - 4) + 2; c[e] = rng.Next(cols); v[e] = (float)rng.NextDouble(); }
        var m = CsrMatrix.FromEntries(rows, cols, r, c, v); // rows 0, 1 and the last two empty
        var pref = withPref ? Enumerable.Range(0, m.NonZeros).Select(e => e * 0.25f).ToArray() : null;
        string path = Path.Combine(dir.Path, "csr.bin");
        BinaryArrays.WriteCsr(path, m, pref);
        foreach (var (start, end) in new[] { (0, rows), (0, 1), (3, 17), (17, 17), (40, rows), (0, 0) })
        {
            var (block, blockPref) = BinaryArrays.ReadCsrRows(path, start, end);
            Assert.Equal((end - start, cols), (block.Rows, block.Cols));
            Assert.Equal(m.RowPtr[end] - m.RowPtr[start], block.NonZeros);
            for (int row = start; row < end; row++)
            {
                Assert.Equal(m.RowCols(row).ToArray(), block.RowCols(row - start).ToArray());
                Assert.Equal(m.RowValues(row).ToArray(), block.RowValues(row - start).ToArray());
                if (withPref) Assert.Equal(pref!.AsSpan(m.RowPtr[row], m.RowLength(row)).ToArray(), blockPref!.AsSpan(block.RowPtr[row - start], block.RowLength(row - start)).ToArray());
            }
            Assert.Equal(withPref, blockPref is not null);
            // Placed back at its rows, the block is those rows of the file's matrix and nothing else.
            var placed = block.PlacedAt(start, rows);
            for (int row = 0; row < rows; row++)
                Assert.Equal(row >= start && row < end ? m.RowCols(row).ToArray() : [], placed.RowCols(row).ToArray());
        }
        Assert.Throws<InvalidDataException>(() => BinaryArrays.ReadCsrRows(path, 10, rows + 1));
        // The streamed transpose's file is read by range as well.
        string transposed = Path.Combine(dir.Path, "transposed.bin");
        BinaryArrays.WriteTransposedCsr(transposed, m, pref, sliceEntries: 7);
        var t = m.Transpose();
        var (part, _) = BinaryArrays.ReadCsrRows(transposed, 5, 11);
        for (int i = 5; i < 11; i++) Assert.Equal(t.RowCols(i).ToArray(), part.RowCols(i - 5).ToArray());
    }
}
