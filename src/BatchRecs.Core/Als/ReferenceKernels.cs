namespace BatchRecs.Core.Als;

/// <summary>
/// The plain scalar version of every kernel in <see cref="FactorMath{TW}"/>: one loop per formula, no SIMD,
/// no unchecked access. Slow; kept beside the fast kernels so tests can check that the two agree on every vector width.
/// </summary>
internal static class ReferenceKernels
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float s = 0f;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>y += a·x.</summary>
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] += a * x[i];
    }

    /// <summary>p = r + β·p.</summary>
    public static void Xpby(ReadOnlySpan<float> r, float beta, Span<float> p)
    {
        for (int i = 0; i < r.Length; i++) p[i] = r[i] + beta * p[i];
    }

    /// <summary>x *= a.</summary>
    public static void Scale(float a, Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] *= a;
    }

    /// <summary>dst = (M + λI)·v.</summary>
    public static void SymMatVec(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> dst, int k, float lambda = 0f)
    {
        for (int i = 0; i < k; i++)
        {
            float s = lambda * v[i];
            for (int j = 0; j < k; j++) s += m[i * k + j] * v[j];
            dst[i] = s;
        }
    }

    /// <summary>residual: acc += Σ (c·p − (c − 1)(y·v))·y; otherwise acc += Σ (c − 1)(y·v)·y.</summary>
    public static void AccumulateEntries(Span<float> acc, ReadOnlySpan<float> v, ReadOnlySpan<float> dst, int k,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, bool residual)
    {
        for (int e = 0; e < cols.Length; e++)
        {
            var y = dst.Slice(cols[e] * k, k);
            float c = conf[e], p = pref.IsEmpty ? 1f : pref[e];
            float d = Dot(y, v);
            float coef = residual ? c * p - (c - 1f) * d : (c - 1f) * d;
            Axpy(coef, y, acc);
        }
    }

    /// <summary>A[i, j] += Σₑ Z[e, i]·Y[e, j] for j ≥ i.</summary>
    public static void RankUpdateUpper(Span<float> a, int k, ReadOnlySpan<float> z, ReadOnlySpan<float> y, int n)
    {
        for (int i = 0; i < k; i++)
            for (int j = i; j < k; j++)
            {
                float s = 0f;
                for (int e = 0; e < n; e++) s += z[e * k + i] * y[e * k + j];
                a[i * k + j] += s;
            }
    }

    /// <summary>A = UᵀU on the upper triangle (classic column-by-column formulation); false if not positive definite.</summary>
    public static bool CholeskyUpper(Span<float> a, int k)
    {
        for (int j = 0; j < k; j++)
        {
            float d = a[j * k + j];
            for (int i = 0; i < j; i++) d -= a[i * k + j] * a[i * k + j];
            if (!(d > 0f) || !float.IsFinite(d)) return false;
            float u = MathF.Sqrt(d);
            a[j * k + j] = u;
            for (int c = j + 1; c < k; c++)
            {
                float s = a[j * k + c];
                for (int i = 0; i < j; i++) s -= a[i * k + j] * a[i * k + c];
                a[j * k + c] = s / u;
            }
        }
        return true;
    }

    /// <summary>Solves UᵀU·x = b (b is overwritten with the intermediate Uᵀz = b solution).</summary>
    public static void CholeskySolveUpper(ReadOnlySpan<float> u, Span<float> b, Span<float> x, int k)
    {
        for (int i = 0; i < k; i++)
        {
            float s = b[i];
            for (int j = 0; j < i; j++) s -= u[j * k + i] * b[j];
            b[i] = s / u[i * k + i];
        }
        for (int i = k - 1; i >= 0; i--)
        {
            float s = b[i];
            for (int j = i + 1; j < k; j++) s -= u[i * k + j] * x[j];
            x[i] = s / u[i * k + i];
        }
    }
}
