using BatchRecs.Core.Als;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Tests.Als;

/// <summary>Seeded random inputs for the ALS tests, and an independent dense solver in double precision.</summary>
internal static class TestProblems
{
    /// <summary>A random users × items strength matrix with about <paramref name="density"/> of the pairs present (values 1..5).</summary>
    public static CsrMatrix RandomStrengths(int users, int items, double density, int seed)
    {
        var rng = new Random(seed);
        var r = new List<int>(); var c = new List<int>(); var v = new List<float>();
        for (int u = 0; u < users; u++)
        {
            // Every user and item gets at least one entry, so no row is empty.
            r.Add(u); c.Add(u % items); v.Add(1 + rng.Next(5));
            for (int i = 0; i < items; i++)
                if (rng.NextDouble() < density) { r.Add(u); c.Add(i); v.Add(1 + rng.Next(5)); }
        }
        for (int i = 0; i < items; i++) { r.Add(i % users); c.Add(i); v.Add(1); }
        return CsrMatrix.FromEntries(users, items, r.ToArray(), c.ToArray(), v.ToArray());
    }

    public static float[] RandomVector(int n, Random rng, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>
    /// The exact minimizer of Σ_all j cⱼ(pⱼ − xᵀyⱼ)² + λ‖x‖² for one src row, computed without the
    /// Gram trick: A = Σ over every dst row j of cⱼ·yⱼyⱼᵀ (cⱼ = 1, pⱼ = 0 when unobserved) + λI,
    /// b = Σ cⱼpⱼyⱼ, solved by Gaussian elimination with partial pivoting in double.
    /// </summary>
    public static double[] DenseSolve(float[] dst, int dstRows, int k, ReadOnlySpan<int> cols, ReadOnlySpan<float> conf,
        ReadOnlySpan<float> pref, double lambda)
    {
        var cj = new double[dstRows];
        var pj = new double[dstRows];
        Array.Fill(cj, 1.0);
        for (int e = 0; e < cols.Length; e++) { cj[cols[e]] = conf[e]; pj[cols[e]] = pref.IsEmpty ? 1.0 : pref[e]; }
        var a = new double[k, k + 1];
        for (int j = 0; j < dstRows; j++)
            for (int f = 0; f < k; f++)
            {
                double yf = dst[j * k + f];
                a[f, k] += cj[j] * pj[j] * yf;
                for (int g = 0; g < k; g++) a[f, g] += cj[j] * yf * dst[j * k + g];
            }
        for (int f = 0; f < k; f++) a[f, f] += lambda;
        return Gauss(a, k);
    }

    /// <summary>Solves the augmented k × (k+1) system in place.</summary>
    public static double[] Gauss(double[,] a, int k)
    {
        for (int col = 0; col < k; col++)
        {
            int piv = col;
            for (int r = col + 1; r < k; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[piv, col])) piv = r;
            for (int c = 0; c <= k; c++) (a[col, c], a[piv, c]) = (a[piv, c], a[col, c]);
            for (int r = col + 1; r < k; r++)
            {
                double m = a[r, col] / a[col, col];
                for (int c = col; c <= k; c++) a[r, c] -= m * a[col, c];
            }
        }
        var x = new double[k];
        for (int r = k - 1; r >= 0; r--)
        {
            double s = a[r, k];
            for (int c = r + 1; c < k; c++) s -= a[r, c] * x[c];
            x[r] = s / a[r, r];
        }
        return x;
    }

    /// <summary>The weighted loss Σ over all user × item pairs of c(p − xᵀy)² + λ(‖X‖² + ‖Y‖²), brute force in double.</summary>
    public static double BruteForceLoss(CsrMatrix conf, float[] x, float[] y, int k, double lambda)
    {
        double loss = 0;
        for (int u = 0; u < conf.Rows; u++)
            for (int i = 0; i < conf.Cols; i++)
            {
                double s = 0;
                for (int f = 0; f < k; f++) s += (double)x[u * k + f] * y[i * k + f];
                int at = conf.RowCols(u).BinarySearch(i);
                double c = at >= 0 ? conf.RowValues(u)[at] : 1, p = at >= 0 ? 1 : 0;
                loss += c * (p - s) * (p - s);
            }
        foreach (float v in x) loss += lambda * v * v;
        foreach (float v in y) loss += lambda * v * v;
        return loss;
    }

    public static AlsSettings Settings(int k, AlsSolver solver, int iterations = 10, int cgSteps = 3, float reg = 0.1f, float alpha = 2f) =>
        new(Factors: k, Regularization: reg, Alpha: alpha, Iterations: iterations, Solver: solver, CgSteps: cgSteps, Seed: 7);
}
