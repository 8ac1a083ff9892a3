namespace BatchRecs.Core.Als;

/// <summary>
/// Solves one row's normal equation exactly: forms A = G + λI + Σᵢ (cᵢ − 1)·yᵢyᵢᵀ and b = Σᵢ cᵢpᵢ·yᵢ,
/// then factors A = LLᵀ (Hu, Koren & Volinsky 2008, eq. 4 with the YᵀY + Yᵀ(Cᵤ − I)Y speed-up).
/// Costs O(n·k² + k³) per row.
/// </summary>
internal static class CholeskySolver
{
    /// <param name="x">out: the solution (length k).</param>
    /// <param name="scratch">at least k·k + k floats, owned by the calling thread.</param>
    public static void Solve(Span<float> x, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, Span<float> scratch)
    {
        int k = x.Length;
        var a = scratch[..(k * k)];
        var b = scratch.Slice(k * k, k);
        gram.CopyTo(a);
        for (int f = 0; f < k; f++) a[f * k + f] += lambda;
        b.Clear();
        for (int e = 0; e < cols.Length; e++)
        {
            var y = dst.Slice(cols[e] * k, k);
            float c = conf[e];
            float w = c - 1f;
            // Lower triangle is enough for the factorization.
            if (w != 0f)
                for (int i = 0; i < k; i++)
                    FactorMath.Axpy(w * y[i], y[..(i + 1)], a.Slice(i * k, i + 1));
            FactorMath.Axpy(c * (pref.IsEmpty ? 1f : pref[e]), y, b);
        }
        Factor(a, k);
        SolveFactored(a, b, x, k);
    }

    /// <summary>In-place Cholesky A = LLᵀ of a symmetric positive definite k×k matrix (lower triangle used).</summary>
    public static void Factor(Span<float> a, int k)
    {
        for (int j = 0; j < k; j++)
        {
            var rowJ = a.Slice(j * k, j);
            float d = a[j * k + j] - FactorMath.Dot(rowJ, rowJ);
            if (!(d > 0)) throw new ArithmeticException(
                "the normal equation is not positive definite (NaN or degenerate factors); try increasing regularization.");
            float ljj = MathF.Sqrt(d);
            a[j * k + j] = ljj;
            float inv = 1f / ljj;
            for (int i = j + 1; i < k; i++)
            {
                float s = a[i * k + j] - FactorMath.Dot(a.Slice(i * k, j), rowJ);
                a[i * k + j] = s * inv;
            }
        }
    }

    /// <summary>Solves LLᵀx = b given the factor L in the lower triangle of <paramref name="l"/>.</summary>
    public static void SolveFactored(ReadOnlySpan<float> l, ReadOnlySpan<float> b, Span<float> x, int k)
    {
        for (int i = 0; i < k; i++)
            x[i] = (b[i] - FactorMath.Dot(l.Slice(i * k, i), x[..i])) / l[i * k + i];
        for (int i = k - 1; i >= 0; i--)
        {
            float s = x[i];
            for (int j = i + 1; j < k; j++) s -= l[j * k + i] * x[j];
            x[i] = s / l[i * k + i];
        }
    }
}
