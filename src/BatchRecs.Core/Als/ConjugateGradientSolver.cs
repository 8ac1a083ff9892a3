namespace BatchRecs.Core.Als;

/// <summary>
/// Solves one row's normal equation approximately with a few conjugate-gradient steps, warm-started
/// from the row's previous factors (Takács, Pilászy & Tikk 2011; as <c>implicit</c>'s <c>least_squares_cg</c>).
/// </summary>
/// <remarks>
/// The system is (YᵀY + λI + Yᵀ(Cᵤ − I)Y)·x = YᵀCᵤpᵤ. Only the row's n entries differ from the shared
/// Gram matrix G = YᵀY, so A·v = (G + λI)·v + Σᵢ (cᵢ − 1)(yᵢ·v)·yᵢ costs O(k² + n·k) and A is never formed.
/// </remarks>
internal static class ConjugateGradientSolver
{
    /// <param name="x">in: warm start; out: the solution (length k).</param>
    /// <param name="gram">G = YᵀY, k×k row-major (shared, read-only).</param>
    /// <param name="dst">the other side's factors, rows × k row-major (shared, read-only).</param>
    /// <param name="cols">the row's entries (indices into <paramref name="dst"/>).</param>
    /// <param name="conf">cᵢ for each entry.</param>
    /// <param name="pref">pᵢ for each entry, or empty for all ones.</param>
    /// <param name="scratch">at least 3·k floats, owned by the calling thread.</param>
    public static void Solve(Span<float> x, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, int steps, Span<float> scratch)
    {
        int k = x.Length;
        var r = scratch[..k];
        var p = scratch.Slice(k, k);
        var ap = scratch.Slice(2 * k, k);

        // r = b − A·x = −(G + λI)·x + Σᵢ (cᵢ·pᵢ − (cᵢ − 1)(yᵢ·x))·yᵢ
        FactorMath.SymMatVec(gram, x, r, k);
        for (int f = 0; f < k; f++) r[f] = -r[f] - lambda * x[f];
        for (int e = 0; e < cols.Length; e++)
        {
            var y = dst.Slice(cols[e] * k, k);
            float c = conf[e];
            float pe = pref.IsEmpty ? 1f : pref[e];
            FactorMath.Axpy(c * pe - (c - 1f) * FactorMath.Dot(y, x), y, r);
        }
        r.CopyTo(p);
        float rsOld = FactorMath.Dot(r, r);
        for (int s = 0; s < steps; s++)
        {
            if (rsOld < 1e-20f) break;
            // ap = A·p
            FactorMath.SymMatVec(gram, p, ap, k);
            FactorMath.Axpy(lambda, p, ap);
            for (int e = 0; e < cols.Length; e++)
            {
                var y = dst.Slice(cols[e] * k, k);
                FactorMath.Axpy((conf[e] - 1f) * FactorMath.Dot(y, p), y, ap);
            }
            float pAp = FactorMath.Dot(p, ap);
            if (!(pAp > 0)) break;
            float a = rsOld / pAp;
            FactorMath.Axpy(a, p, x);
            FactorMath.Axpy(-a, ap, r);
            float rsNew = FactorMath.Dot(r, r);
            float beta = rsNew / rsOld;
            for (int f = 0; f < k; f++) p[f] = r[f] + beta * p[f];
            rsOld = rsNew;
        }
    }
}
