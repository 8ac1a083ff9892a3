namespace BatchRecs.Core.Als;

/// <summary>
/// Solves a row with very few entries exactly, through the Woodbury identity: with M = (G + λI)⁻¹ computed once per
/// block, U = [y₁ … yₙ], D = diag(cᵢ − 1) and β = c ⊙ p, the normal equation (G + λI + U·D·Uᵀ)·x = U·β has the solution
/// x = Z·(β − D·t), Z = M·U, where t solves the n × n system (I + W·D)·t = W·β, W = Uᵀ·Z.
/// Costs n mat-vecs with M (n·k²) instead of the CG's 1 + steps mat-vecs with G or Cholesky's k³/3 per row.
/// </summary>
/// <remarks>
/// Long-tail items and new users have one to three entries; on catalogs with more items than users they are most of
/// the item half-step (for n = 1 this is Sherman–Morrison: x = c·p·My / (1 + (c − 1)·yᵀMy)). The result is the exact
/// minimizer, what <see cref="CholeskySolver"/> computes, and a better one than a few CG steps.
/// </remarks>
internal static class SparseRowSolver
{
    /// <summary>The longest row solved this way: beyond it the n mat-vecs cost more than the CG's.</summary>
    public const int MaxEntries = 3;

    /// <summary>Scratch floats <see cref="Solve"/> needs: Z, n × k.</summary>
    public static int ScratchLength(int k) => MaxEntries * k;

    /// <summary>M = (G + λI)⁻¹ as a full k×k row-major matrix, or null when G + λI is not positive definite.</summary>
    public static float[]? Inverse(ReadOnlySpan<float> gram, float lambda, int k)
    {
        // Cholesky in double: A = L·Lᵀ, then M = L⁻ᵀ·L⁻¹ column by column.
        var l = new double[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = gram[i * k + j] + (i == j ? lambda : 0.0);
                for (int p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
                if (i == j)
                {
                    if (!(s > 0)) return null;
                    l[i * k + i] = Math.Sqrt(s);
                }
                else l[i * k + j] = s / l[j * k + j];
            }
        var m = new float[k * k];
        var col = new double[k];
        for (int c = 0; c < k; c++)
        {
            // Solve L·u = e_c, then Lᵀ·col = u.
            Array.Clear(col);
            for (int i = c; i < k; i++)
            {
                double s = i == c ? 1.0 : 0.0;
                for (int p = c; p < i; p++) s -= l[i * k + p] * col[p];
                col[i] = s / l[i * k + i];
            }
            for (int i = k - 1; i >= 0; i--)
            {
                double s = col[i];
                for (int p = i + 1; p < k; p++) s -= l[p * k + i] * col[p];
                col[i] = s / l[i * k + i];
            }
            for (int i = 0; i < k; i++) m[i * k + c] = (float)col[i];
        }
        // Exactly symmetric, so the mat-vec (which reads rows) and the algebra agree.
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++) m[j * k + i] = m[i * k + j] = (m[i * k + j] + m[j * k + i]) * 0.5f;
        return m;
    }

    /// <param name="x">out: the solution (length k).</param>
    /// <param name="inverse">M = (G + λI)⁻¹ for this row's λ (see <see cref="Inverse"/>).</param>
    /// <param name="dst">the other side's factors, rows × k row-major; cols must be valid rows.</param>
    /// <param name="cols">the row's entries, at most <see cref="MaxEntries"/>.</param>
    /// <param name="scratch">at least <see cref="ScratchLength"/> floats, owned by the calling thread.</param>
    /// <param name="conf">cᵢ for each entry.</param>
    /// <param name="pref">pᵢ for each entry, or empty for all ones.</param>
    public static void Solve(Span<float> x, ReadOnlySpan<float> inverse, ReadOnlySpan<float> dst,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, Span<float> scratch)
    {
        int k = x.Length, n = cols.Length;
        if (n == 0 || n > MaxEntries) throw new ArgumentOutOfRangeException(nameof(cols), $"a sparse row has 1..{MaxEntries} entries (got {n}).");
        var z = scratch[..(n * k)];
        for (int i = 0; i < n; i++) FactorMath.SymMatVec(inverse, dst.Slice(cols[i] * k, k), z.Slice(i * k, k), k);
        // The n × n system in double: (I + W·D)·t = W·β, with W = Uᵀ·Z symmetric.
        Span<double> w = stackalloc double[MaxEntries * MaxEntries];
        Span<double> beta = stackalloc double[MaxEntries];
        Span<double> d = stackalloc double[MaxEntries];
        for (int i = 0; i < n; i++)
        {
            beta[i] = conf[i] * (pref.IsEmpty ? 1f : pref[i]);
            d[i] = conf[i] - 1.0;
            for (int j = 0; j < n; j++) w[i * n + j] = FactorMath.Dot(dst.Slice(cols[i] * k, k), z.Slice(j * k, k));
        }
        Span<double> a = stackalloc double[MaxEntries * MaxEntries];
        Span<double> t = stackalloc double[MaxEntries];
        for (int i = 0; i < n; i++)
        {
            double v = 0;
            for (int j = 0; j < n; j++)
            {
                a[i * n + j] = (i == j ? 1.0 : 0.0) + w[i * n + j] * d[j];
                v += w[i * n + j] * beta[j];
            }
            t[i] = v;
        }
        SolveSmall(a, t, n);
        x.Clear();
        for (int i = 0; i < n; i++) FactorMath.Axpy((float)(beta[i] - d[i] * t[i]), z.Slice(i * k, k), x);
    }

    /// <summary>Gaussian elimination with partial pivoting on an n × n system (n ≤ <see cref="MaxEntries"/>), in place.</summary>
    private static void SolveSmall(Span<double> a, Span<double> b, int n)
    {
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r * n + c]) > Math.Abs(a[pivot * n + c])) pivot = r;
            if (pivot != c)
            {
                for (int j = 0; j < n; j++) (a[c * n + j], a[pivot * n + j]) = (a[pivot * n + j], a[c * n + j]);
                (b[c], b[pivot]) = (b[pivot], b[c]);
            }
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r * n + c] / a[c * n + c];
                for (int j = c; j < n; j++) a[r * n + j] -= f * a[c * n + j];
                b[r] -= f * b[c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double s = b[r];
            for (int j = r + 1; j < n; j++) s -= a[r * n + j] * b[j];
            b[r] = s / a[r * n + r];
        }
    }
}
