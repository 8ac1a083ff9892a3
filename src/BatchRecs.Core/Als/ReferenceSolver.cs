namespace BatchRecs.Core.Als;

/// <summary>
/// The slow, readable per-row solvers the fast ones are checked against (as <c>implicit</c> keeps
/// <c>least_squares</c> beside its Cython kernel). Same objective, same algorithm, scalar loops on a
/// dense A that is formed explicitly:
/// A = YᵀY + λI + Σᵢ (cᵢ − 1)·yᵢyᵢᵀ,  b = Σᵢ cᵢpᵢ·yᵢ  (Hu, Koren &amp; Volinsky 2008, eq. 4).
/// </summary>
internal static class ReferenceSolver
{
    /// <summary>The dense normal equation of one row: A (k×k) and b (k).</summary>
    public static (float[] A, float[] B) NormalEquation(ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst, int k,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref)
    {
        var a = gram[..(k * k)].ToArray();
        var b = new float[k];
        for (int f = 0; f < k; f++) a[f * k + f] += lambda;
        for (int e = 0; e < cols.Length; e++)
        {
            var y = dst.Slice(cols[e] * k, k);
            float c = conf[e], p = pref.IsEmpty ? 1f : pref[e];
            for (int i = 0; i < k; i++)
            {
                b[i] += c * p * y[i];
                for (int j = 0; j < k; j++) a[i * k + j] += (c - 1f) * y[i] * y[j];
            }
        }
        return (a, b);
    }

    /// <summary>Exact solve: x = A⁻¹b by Cholesky.</summary>
    public static void Cholesky(Span<float> x, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref)
    {
        int k = x.Length;
        var (a, b) = NormalEquation(gram, lambda, dst, k, cols, conf, pref);
        if (!ReferenceKernels.CholeskyUpper(a, k)) throw new ArithmeticException("not positive definite.");
        ReferenceKernels.CholeskySolveUpper(a, b, x, k);
    }

    /// <summary>Textbook CG on the dense A, warm-started from x, stopping as the fast solver does.</summary>
    public static void ConjugateGradient(Span<float> x, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, int steps)
    {
        int k = x.Length;
        var (a, b) = NormalEquation(gram, lambda, dst, k, cols, conf, pref);
        var r = new float[k];
        var ap = new float[k];
        ReferenceKernels.SymMatVec(a, x, ap, k);
        for (int i = 0; i < k; i++) r[i] = b[i] - ap[i];
        var p = (float[])r.Clone();
        float rsOld = ReferenceKernels.Dot(r, r);
        for (int s = 0; s < steps; s++)
        {
            if (rsOld < 1e-20f) break;
            ReferenceKernels.SymMatVec(a, p, ap, k);
            float pAp = ReferenceKernels.Dot(p, ap);
            if (!(pAp > 0)) break;
            float alpha = rsOld / pAp;
            for (int i = 0; i < k; i++) { x[i] += alpha * p[i]; r[i] -= alpha * ap[i]; }
            float rsNew = ReferenceKernels.Dot(r, r);
            for (int i = 0; i < k; i++) p[i] = r[i] + rsNew / rsOld * p[i];
            rsOld = rsNew;
        }
    }
}
