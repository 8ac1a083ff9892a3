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
}
