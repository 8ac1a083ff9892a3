using BatchRecs.Core.Data;

namespace BatchRecs.Tests;

/// <summary>Seeded random factors and histories for the top-N tests of every project.</summary>
public static class SeededData
{
    /// <summary>rows × k values uniform in [−1, 1), or small integers in [−2, 2] when <paramref name="integers"/> (many exact ties).</summary>
    public static float[] Matrix(int rows, int k, int seed, bool integers = false)
    {
        var rng = new Random(seed);
        var x = new float[rows * k];
        for (int i = 0; i < x.Length; i++)
            x[i] = integers ? rng.Next(-2, 3) : (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>A random user × item history with about <paramref name="perUser"/> items per user.</summary>
    public static CsrMatrix History(int users, int items, int perUser, int seed)
    {
        var rng = new Random(seed);
        var r = new List<int>(); var c = new List<int>();
        for (int u = 0; u < users; u++)
        {
            int m = rng.Next(0, 2 * perUser + 1);
            for (int e = 0; e < m; e++) { r.Add(u); c.Add(rng.Next(items)); }
        }
        return CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), Enumerable.Repeat(1f, r.Count).ToArray());
    }
}
