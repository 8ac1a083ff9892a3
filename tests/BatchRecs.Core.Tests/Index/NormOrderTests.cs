using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

public class NormOrderTests
{
    [Fact]
    public void Rows_come_largest_norm_first_and_ties_by_index()
    {
        // squared norms 1, 4, 1, 9, 4 (rows of dimension 2)
        float[] rows = [1, 0, 0, 2, 0, -1, 3, 0, 2, 0];
        Assert.Equal([3, 1, 4, 0, 2], NormOrder.Descending(rows, 5, 2));
        Assert.Empty(NormOrder.Descending([], 0, 2));
    }

    [Fact]
    public void The_order_matches_a_plain_sort_on_random_rows()
    {
        var x = SeededData.Matrix(500, 7, seed: 3, integers: true); // small integers: many equal norms
        var expected = Enumerable.Range(0, 500)
            .OrderByDescending(i => ScoreKey.Dot(x.AsSpan(i * 7, 7), x.AsSpan(i * 7, 7))).ThenBy(i => i).ToArray();
        Assert.Equal(expected, NormOrder.Descending(x, 500, 7));
    }
}
