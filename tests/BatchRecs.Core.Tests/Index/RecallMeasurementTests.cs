using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

public class RecallMeasurementTests
{
    private static TopNResult Lists(int n, params int[][] rows)
    {
        var r = new TopNResult(rows.Length, n);
        for (int u = 0; u < rows.Length; u++)
        {
            rows[u].CopyTo(r.Items, u * n);
            r.Counts[u] = rows[u].Length;
        }
        return r;
    }

    [Fact]
    public void Recall_mean_and_p5_match_a_hand_computed_case()
    {
        // 20 users: user 0 recovers 1 of 4 (0.25), user 1 has an empty exact list (not counted), the rest 4 of 4.
        var exact = new int[20][];
        var approx = new int[20][];
        for (int u = 0; u < 20; u++) { exact[u] = [1, 2, 3, 4]; approx[u] = [4, 3, 2, 1]; }
        approx[0] = [1, 9, 8, 7];
        exact[1] = [];
        var r = RecallMeasurement.Compare(Lists(4, exact), Lists(4, approx));
        Assert.Equal(19, r.Users);
        Assert.Equal((0.25 + 18) / 19, r.Mean, 12);
        Assert.Equal(0.25, r.P5); // nearest rank: ceil(0.05·19) = 1st lowest
        Assert.Equal(0.25, r.Min);
    }

    [Fact]
    public void Samples_are_seeded_distinct_and_in_range()
    {
        var a = RecallMeasurement.SampleUsers(10_000, 1000, 5);
        Assert.Equal(a, RecallMeasurement.SampleUsers(10_000, 1000, 5));
        Assert.NotEqual(a, RecallMeasurement.SampleUsers(10_000, 1000, 6));
        Assert.Equal(1000, a.Distinct().Count());
        Assert.All(a, u => Assert.InRange(u, 0, 9999));
        Assert.Equal(Enumerable.Range(0, 50), RecallMeasurement.SampleUsers(50, 1000, 5));
    }
}
