namespace BatchRecs.Core.Als;

/// <summary>
/// Solves one row's normal equation approximately with a few conjugate-gradient steps, warm-started
/// from the row's previous factors (Takács, Pilászy &amp; Tikk 2011; as <c>implicit</c>'s <c>least_squares_cg</c>).
/// </summary>
/// <remarks>
/// The system is (YᵀY + λI + Yᵀ(Cᵤ − I)Y)·x = YᵀCᵤpᵤ. Only the row's n entries differ from the shared
/// Gram matrix G = YᵀY, so A·v = (G + λI)·v + Σᵢ (cᵢ − 1)(yᵢ·v)·yᵢ costs O(k² + n·k) and A is never formed.
/// Each product is one <see cref="FactorMath.SymMatVec"/> and one sweep of
/// <see cref="FactorMath.AccumulateEntries"/> that loads every yᵢ once. The plain scalar version is
/// <see cref="ReferenceSolver.ConjugateGradient"/>.
/// </remarks>
internal static class ConjugateGradientSolver
{
    /// <summary>Scratch floats <see cref="Solve"/> needs for a given k.</summary>
    public static int ScratchLength(int k) => 3 * k;

    /// <param name="x">in: warm start; out: the solution (length k).</param>
    /// <param name="gram">G = YᵀY, k×k row-major (shared, read-only).</param>
    /// <param name="dst">the other side's factors, rows × k row-major (shared, read-only); cols must be valid rows.</param>
    /// <param name="cols">the row's entries (indices into <paramref name="dst"/>).</param>
    /// <param name="conf">cᵢ for each entry.</param>
    /// <param name="pref">pᵢ for each entry, or empty for all ones.</param>
    /// <param name="scratch">at least <see cref="ScratchLength"/> floats, owned by the calling thread.</param>
    /// <param name="lambda">λ of this row.</param>
    /// <param name="steps">CG steps to take from the warm start.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Solve(Span<float> x, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, int steps, Span<float> scratch)
    {
        int k = x.Length;
        var r = scratch[..k];
        var p = scratch.Slice(k, k);
        var ap = scratch.Slice(2 * k, k);

        // r = b − A·x = −(G + λI)·x + Σᵢ (cᵢ·pᵢ − (cᵢ − 1)(yᵢ·x))·yᵢ
        FactorMath.SymMatVec(gram, x, r, k, lambda);
        for (int f = 0; f < k; f++) r[f] = -r[f];
        FactorMath.AccumulateEntries(r, x, dst, k, cols, conf, pref, residual: true);
        r.CopyTo(p);
        float rsOld = FactorMath.Dot(r, r);
        for (int s = 0; s < steps; s++)
        {
            if (rsOld < 1e-20f) break;
            // ap = A·p
            FactorMath.SymMatVec(gram, p, ap, k, lambda);
            FactorMath.AccumulateEntries(ap, p, dst, k, cols, conf, pref, residual: false);
            float pAp = FactorMath.Dot(p, ap);
            if (!(pAp > 0)) break;
            float a = rsOld / pAp;
            FactorMath.Axpy(a, p, x);
            FactorMath.Axpy(-a, ap, r);
            float rsNew = FactorMath.Dot(r, r);
            FactorMath.Xpby(r, rsNew / rsOld, p);
            rsOld = rsNew;
        }
    }
}
