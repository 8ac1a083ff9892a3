namespace BatchRecs.Core.Index;

/// <summary>User and item factors (row-major, rows × k) for tests and benchmarks of the top-N paths.</summary>
/// <param name="Users">users × k.</param>
/// <param name="Items">items × k.</param>
/// <param name="K">the factor dimension k.</param>
public sealed record FactorSet(float[] Users, float[] Items, int K)
{
    public int UserCount => Users.Length / K;
    public int ItemCount => Items.Length / K;
}

/// <summary>
/// Synthetic factors shaped like ALS output, where a naive inner-product index fails: items and users share
/// cluster structure (C centres; a vector is its centre plus Gaussian noise), and item norms vary widely
/// (a log-normal scale per item, σ = 0.5 by default, so the largest norms are several times the median, as
/// popular items have in real ALS factors). Deterministic for a given seed.
/// </summary>
public static class SyntheticFactors
{
    /// <param name="clusters">number of shared centres (0 = ≈ sqrt(items) / 2, at least 4).</param>
    /// <param name="noise">noise standard deviation relative to the centres' (1).</param>
    /// <param name="normSigma">σ of the log-normal item scale.</param>
    /// <param name="users">user rows to generate.</param>
    /// <param name="items">item rows to generate.</param>
    /// <param name="k">the factor dimension.</param>
    /// <param name="seed">seed of every draw.</param>
    public static FactorSet Generate(int users, int items, int k, ulong seed = 42, int clusters = 0, double noise = 1.0, double normSigma = 0.5)
    {
        if (users < 0 || items < 0 || k <= 0) throw new ArgumentException("users and items must be ≥ 0 and k positive.");
        if (clusters <= 0) clusters = Math.Max(4, (int)Math.Sqrt(Math.Max(items, 1)) / 2);
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var centres = new float[clusters * k];
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)Gaussian(rng);
        var u = Rows(users, k, clusters, centres, noise, 0.3, rng);
        var v = Rows(items, k, clusters, centres, noise, normSigma, rng);
        return new FactorSet(u, v, k);
    }

    private static float[] Rows(int n, int k, int clusters, float[] centres, double noise, double sigma, Random rng)
    {
        var x = new float[(long)n * k];
        double unit = 1.0 / Math.Sqrt(k * (1 + noise * noise));
        for (int r = 0; r < n; r++)
        {
            int c = rng.Next(clusters);
            double scale = Math.Exp(sigma * Gaussian(rng)) * unit;
            for (int d = 0; d < k; d++)
                x[(long)r * k + d] = (float)((centres[c * k + d] + noise * Gaussian(rng)) * scale);
        }
        return x;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
