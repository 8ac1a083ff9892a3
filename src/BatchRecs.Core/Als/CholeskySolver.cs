namespace BatchRecs.Core.Als;

/// <summary>
/// Solves one row's normal equation exactly: forms A = G + λI + Σᵢ (cᵢ − 1)·yᵢyᵢᵀ and b = Σᵢ cᵢpᵢ·yᵢ,
/// then factors A = UᵀU (Hu, Koren &amp; Volinsky 2008, eq. 4 with the YᵀY + Yᵀ(Cᵤ − I)Y speed-up).
/// Costs O(n·k² + k³) per row.
/// </summary>
/// <remarks>
/// The rank-n update is done as a small matrix product: the row's dst rows are gathered a panel at a
/// time into Y (n × k) and Z = diag(c − 1)·Y, and <see cref="FactorMath.RankUpdateUpper"/> adds ZᵀY to
/// the upper triangle. The plain scalar version is <see cref="ReferenceSolver.Cholesky"/>.
/// </remarks>
internal static class CholeskySolver
{
    /// <summary>dst rows gathered per rank-update panel (bounds the scratch whatever the row's length).</summary>
    internal const int Panel = 64;

    /// <summary>Scratch floats <see cref="Solve"/> needs for a given k: A, b, and the Y and Z panels.</summary>
    public static int ScratchLength(int k) => k * k + k + 2 * Panel * k;

    /// <param name="x">out: the solution (length k).</param>
    /// <param name="dst">the other side's factors, rows × k row-major (shared, read-only); cols must be valid rows.</param>
    /// <param name="scratch">at least <see cref="ScratchLength"/> floats, owned by the calling thread.</param>
    /// <param name="gram">G = YᵀY, k×k row-major (shared, read-only).</param>
    /// <param name="lambda">λ of this row.</param>
    /// <param name="cols">the row's entries (indices into <paramref name="dst"/>).</param>
    /// <param name="conf">cᵢ for each entry.</param>
    /// <param name="pref">pᵢ for each entry, or empty for all ones.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Solve(Span<float> x, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, Span<float> scratch)
    {
        int k = x.Length;
        var a = scratch[..(k * k)];
        var b = scratch.Slice(k * k, k);
        var yPanel = scratch.Slice(k * k + k, Panel * k);
        var zPanel = scratch.Slice(k * k + k + Panel * k, Panel * k);
        gram[..(k * k)].CopyTo(a);
        for (int f = 0; f < k; f++) a[f * k + f] += lambda;
        b.Clear();
        for (int e0 = 0; e0 < cols.Length; e0 += Panel)
        {
            int n = Math.Min(Panel, cols.Length - e0);
            for (int e = 0; e < n; e++)
            {
                var y = dst.Slice(cols[e0 + e] * k, k);
                float c = conf[e0 + e];
                y.CopyTo(yPanel.Slice(e * k, k));
                var z = zPanel.Slice(e * k, k);
                z.Clear();
                FactorMath.Axpy(c - 1f, y, z);
                FactorMath.Axpy(c * (pref.IsEmpty ? 1f : pref[e0 + e]), y, b);
            }
            FactorMath.RankUpdateUpper(a, k, zPanel, yPanel, n);
        }
        if (!FactorMath.CholeskyUpper(a, k))
            throw new ArithmeticException("the normal equation is not positive definite (NaN or degenerate factors); try increasing regularization.");
        FactorMath.CholeskySolveUpper(a, b, x, k);
    }
}
