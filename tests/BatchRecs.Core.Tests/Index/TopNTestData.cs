using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

/// <summary>A brute-force oracle and list checks for the top-N tests (their seeded data: <see cref="SeededData"/>).</summary>
internal static class TopNTestData
{
    /// <summary>The oracle: score every item, drop excluded ones, sort by score descending then item ascending, take N.</summary>
    public static (int[] Items, float[] Scores) Naive(float[] users, float[] items, int k, int u, int n, CsrMatrix? seen, IReadOnlySet<int>? banned)
    {
        int m = items.Length / k;
        var all = new List<(float Score, int Item)>();
        for (int i = 0; i < m; i++)
        {
            if (seen is not null && seen.Contains(u, i)) continue;
            if (banned is not null && banned.Contains(i)) continue;
            all.Add((ScoreKey.Dot(users.AsSpan(u * k, k), items.AsSpan(i * k, k)), i));
        }
        var top = all.OrderByDescending(p => p.Score).ThenBy(p => p.Item).Take(n).ToArray();
        return (top.Select(p => p.Item).ToArray(), top.Select(p => p.Score).ToArray());
    }

    public static void AssertSameLists(TopNResult expected, TopNResult actual)
    {
        Assert.Equal(expected.Users, actual.Users);
        for (int u = 0; u < expected.Users; u++)
        {
            Assert.Equal(expected.ItemsOf(u).ToArray(), actual.ItemsOf(u).ToArray());
            Assert.Equal(expected.ScoresOf(u).ToArray(), actual.ScoresOf(u).ToArray());
        }
    }

    /// <summary>Ranks are dense: row u has Counts[u] distinct valid items, then only padding.</summary>
    public static void AssertWellFormed(TopNResult r, int items)
    {
        for (int u = 0; u < r.Users; u++)
        {
            var row = r.ItemsOf(u).ToArray();
            Assert.All(row, i => Assert.InRange(i, 0, items - 1));
            Assert.Equal(row.Length, row.Distinct().Count());
            var scores = r.ScoresOf(u).ToArray();
            for (int j = 1; j < scores.Length; j++) Assert.True(scores[j - 1] >= scores[j], $"user {u}: scores not descending at rank {j + 1}");
            for (int j = r.Counts[u]; j < r.N; j++) Assert.Equal(-1, r.Items[u * r.N + j]);
        }
    }
}
