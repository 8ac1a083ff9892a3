using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BatchRecs.Core.Als;

/// <summary>
/// The dense kernels of the ALS solvers, for any k: Vector512, then Vector256, then a scalar remainder
/// (the shape of TensorPrimitives' kernels, without its per-call overhead in the innermost loops).
/// For k = 16, 32, 48 or 64 on AVX-512 hardware the two hot kernels (<see cref="SymMatVec"/> and
/// <see cref="AccumulateEntries"/>) use a fixed-k path that keeps whole vectors in registers.
/// <see cref="ReferenceKernels"/> holds the plain scalar version of each kernel; tests check they agree.
/// </summary>
/// <remarks>
/// Every kernel sums in an order fixed by k alone, so a row's result never depends on the thread, the
/// block or the other rows. All matrices are row-major; callers guarantee the shapes (they are checked
/// once at the public edge, in <see cref="BlockSolver"/> and <see cref="GramMatrix"/>), since the
/// kernels read through unchecked references.
/// </remarks>
internal static class FactorMath
{
    private const int W = 16; // floats per Vector512
    private const int PrefetchAhead = 8; // entries ahead in the dst-row gather (measured: 8 cuts item rows' CG cost by ~35%)

    /// <summary>Σ a[i]·b[i] over a.Length (b at least as long).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length < a.Length) throw new ArgumentException("b is shorter than a.");
        return Dot(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ref float a, ref float b, int n)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= W)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - W; i += W)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), acc);
            sum = Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc);
            sum += Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return sum;
    }

    /// <summary>y += a·x over x.Length.</summary>
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("y is shorter than x.");
        Axpy(a, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float a, ref float x, ref float y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= W)
        {
            var av = Vector512.Create(a);
            for (; i <= n - W; i += W)
                Vector512.FusedMultiplyAdd(av, Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 8)
        {
            var av = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(av, Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref y, i) += a * Unsafe.Add(ref x, i);
    }

    /// <summary>p = r + β·p (the CG direction update).</summary>
    public static void Xpby(ReadOnlySpan<float> r, float beta, Span<float> p)
    {
        if (p.Length < r.Length) throw new ArgumentException("p is shorter than r.");
        ref float rr = ref MemoryMarshal.GetReference(r);
        ref float pr = ref MemoryMarshal.GetReference(p);
        int n = r.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= W)
        {
            var bv = Vector512.Create(beta);
            for (; i <= n - W; i += W)
                Vector512.FusedMultiplyAdd(bv, Vector512.LoadUnsafe(ref pr, (nuint)i), Vector512.LoadUnsafe(ref rr, (nuint)i)).StoreUnsafe(ref pr, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pr, i) = Unsafe.Add(ref rr, i) + beta * Unsafe.Add(ref pr, i);
    }

    /// <summary>dst = (M + λI)·v for a k×k row-major symmetric M (computed as Σⱼ vⱼ·M[j,:], no horizontal sums).</summary>
    public static void SymMatVec(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> dst, int k, float lambda = 0f)
    {
        if (m.Length < k * k || v.Length < k || dst.Length < k) throw new ArgumentException("SymMatVec needs m of k×k and v, dst of k.");
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float dr = ref MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated)
        {
            switch (k)
            {
                case 16: SymMatVecFixed<K16>(ref mr, ref vr, ref dr, lambda); return;
                case 32: SymMatVecFixed<K32>(ref mr, ref vr, ref dr, lambda); return;
                case 48: SymMatVecFixed<K48>(ref mr, ref vr, ref dr, lambda); return;
                case 64: SymMatVecFixed<K64>(ref mr, ref vr, ref dr, lambda); return;
            }
        }
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c <= k - W; c += W)
            {
                var a = Vector512.Create(lambda) * Vector512.LoadUnsafe(ref vr, (nuint)c);
                var b = Vector512<float>.Zero;
                int j = 0;
                for (; j + 1 < k; j += 2)
                {
                    a = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vr, j)), Vector512.LoadUnsafe(ref mr, (nuint)(j * k + c)), a);
                    b = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vr, j + 1)), Vector512.LoadUnsafe(ref mr, (nuint)((j + 1) * k + c)), b);
                }
                if (j < k) a = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vr, j)), Vector512.LoadUnsafe(ref mr, (nuint)(j * k + c)), a);
                (a + b).StoreUnsafe(ref dr, (nuint)c);
            }
        }
        // Remaining columns: by symmetry, column c is row c, a contiguous dot.
        for (; c < k; c++) Unsafe.Add(ref dr, c) = Dot(ref Unsafe.Add(ref mr, c * k), ref vr, k) + lambda * Unsafe.Add(ref vr, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SymMatVecFixed<TK>(ref float m, ref float v, ref float dst, float lambda) where TK : struct, IFixedK
    {
        int k = TK.K;
        var lv = Vector512.Create(lambda);
        // Two accumulators per 16 columns (even and odd j) to halve the FMA dependency chains.
        var a0 = lv * Vector512.LoadUnsafe(ref v, 0);
        var a1 = TK.K > 16 ? lv * Vector512.LoadUnsafe(ref v, 16) : default;
        var a2 = TK.K > 32 ? lv * Vector512.LoadUnsafe(ref v, 32) : default;
        var a3 = TK.K > 48 ? lv * Vector512.LoadUnsafe(ref v, 48) : default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int j = 0; j < k; j += 2)
        {
            ref float row = ref Unsafe.Add(ref m, j * k);
            ref float next = ref Unsafe.Add(ref row, k);
            var s = Vector512.Create(Unsafe.Add(ref v, j));
            var t = Vector512.Create(Unsafe.Add(ref v, j + 1));
            a0 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 0), a0);
            b0 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 0), b0);
            if (TK.K > 16)
            {
                a1 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 16), a1);
                b1 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 16), b1);
            }
            if (TK.K > 32)
            {
                a2 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 32), a2);
                b2 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 32), b2);
            }
            if (TK.K > 48)
            {
                a3 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 48), a3);
                b3 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 48), b3);
            }
        }
        (a0 + b0).StoreUnsafe(ref dst, 0);
        if (TK.K > 16) (a1 + b1).StoreUnsafe(ref dst, 16);
        if (TK.K > 32) (a2 + b2).StoreUnsafe(ref dst, 32);
        if (TK.K > 48) (a3 + b3).StoreUnsafe(ref dst, 48);
    }

    /// <summary>
    /// One sweep over a row's entries, each dst row yₑ loaded once:
    /// <c>residual</c>: acc += Σₑ (cₑpₑ − (cₑ − 1)(yₑ·v))·yₑ (the b − Σ(c−1)yyᵀv part of r = b − A·v);
    /// otherwise: acc += Σₑ (cₑ − 1)(yₑ·v)·yₑ (the sparse part of A·v).
    /// </summary>
    /// <param name="dst">the other side's factors, rows × k; every cols[e] must be a valid row (checked by the caller).</param>
    /// <param name="pref">pₑ per entry, or empty for all ones.</param>
    /// <param name="acc">length k, added to (not cleared).</param>
    /// <param name="v">length k: the vector A is applied to (the current iterate).</param>
    /// <param name="k">the factor dimension.</param>
    /// <param name="cols">the row's entries (indices into <paramref name="dst"/>).</param>
    /// <param name="conf">cₑ per entry.</param>
    /// <param name="residual">accumulate the residual part instead of the sparse part of A·v (see the summary).</param>
    public static void AccumulateEntries(Span<float> acc, ReadOnlySpan<float> v, ReadOnlySpan<float> dst, int k,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, bool residual)
    {
        if (acc.Length < k || v.Length < k || conf.Length < cols.Length || (!pref.IsEmpty && pref.Length < cols.Length))
            throw new ArgumentException("AccumulateEntries: acc and v need k floats, conf and pref one value per entry.");
        ref float ar = ref MemoryMarshal.GetReference(acc);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float yr = ref MemoryMarshal.GetReference(dst);
        if (Vector512.IsHardwareAccelerated)
        {
            switch (k)
            {
                case 16: AccumulateFixed<K16>(ref ar, ref vr, ref yr, cols, conf, pref, residual); return;
                case 32: AccumulateFixed<K32>(ref ar, ref vr, ref yr, cols, conf, pref, residual); return;
                case 48: AccumulateFixed<K48>(ref ar, ref vr, ref yr, cols, conf, pref, residual); return;
                case 64: AccumulateFixed<K64>(ref ar, ref vr, ref yr, cols, conf, pref, residual); return;
            }
        }
        for (int e = 0; e < cols.Length; e++)
        {
            ref float y = ref Unsafe.Add(ref yr, (nint)cols[e] * k);
            float c = conf[e];
            float d = Dot(ref y, ref vr, k);
            float coef = residual ? c * (pref.IsEmpty ? 1f : pref[e]) - (c - 1f) * d : (c - 1f) * d;
            Axpy(coef, ref y, ref ar, k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateFixed<TK>(ref float acc, ref float v, ref float dst, ReadOnlySpan<int> cols,
        ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, bool residual) where TK : struct, IFixedK
    {
        // v and acc live in registers for the whole sweep; each yₑ is loaded once and used for both
        // its dot product and its update.
        var v0 = Vector512.LoadUnsafe(ref v, 0);
        var v1 = TK.K > 16 ? Vector512.LoadUnsafe(ref v, 16) : default;
        var v2 = TK.K > 32 ? Vector512.LoadUnsafe(ref v, 32) : default;
        var v3 = TK.K > 48 ? Vector512.LoadUnsafe(ref v, 48) : default;
        var a0 = Vector512.LoadUnsafe(ref acc, 0);
        var a1 = TK.K > 16 ? Vector512.LoadUnsafe(ref acc, 16) : default;
        var a2 = TK.K > 32 ? Vector512.LoadUnsafe(ref acc, 32) : default;
        var a3 = TK.K > 48 ? Vector512.LoadUnsafe(ref acc, 48) : default;
        ref int cr = ref MemoryMarshal.GetReference(cols);
        ref float confr = ref MemoryMarshal.GetReference(conf);
        ref float prefr = ref MemoryMarshal.GetReference(pref);
        bool hasPref = !pref.IsEmpty;
        int n = cols.Length;
        for (int e = 0; e < n; e++)
        {
            // The dst rows are a random gather (memory-bound on the item side): fetch a few entries ahead.
            if (Sse.IsSupported && e + PrefetchAhead < n)
            {
                ref float ahead = ref Unsafe.Add(ref dst, (nint)Unsafe.Add(ref cr, e + PrefetchAhead) * TK.K);
                unsafe
                {
                    byte* pa = (byte*)Unsafe.AsPointer(ref ahead);
                    Sse.Prefetch0(pa);
                    if (TK.K > 16) Sse.Prefetch0(pa + 64);
                    if (TK.K > 32) Sse.Prefetch0(pa + 128);
                    if (TK.K > 48) Sse.Prefetch0(pa + 192);
                }
            }
            ref float y = ref Unsafe.Add(ref dst, (nint)Unsafe.Add(ref cr, e) * TK.K);
            var y0 = Vector512.LoadUnsafe(ref y, 0);
            var y1 = TK.K > 16 ? Vector512.LoadUnsafe(ref y, 16) : default;
            var y2 = TK.K > 32 ? Vector512.LoadUnsafe(ref y, 32) : default;
            var y3 = TK.K > 48 ? Vector512.LoadUnsafe(ref y, 48) : default;
            var s = y0 * v0;
            if (TK.K > 16) s = Vector512.FusedMultiplyAdd(y1, v1, s);
            if (TK.K > 32) s = Vector512.FusedMultiplyAdd(y2, v2, s);
            if (TK.K > 48) s = Vector512.FusedMultiplyAdd(y3, v3, s);
            float d = Vector512.Sum(s);
            float c = Unsafe.Add(ref confr, e);
            float coef = residual ? c * (hasPref ? Unsafe.Add(ref prefr, e) : 1f) - (c - 1f) * d : (c - 1f) * d;
            var cv = Vector512.Create(coef);
            a0 = Vector512.FusedMultiplyAdd(cv, y0, a0);
            if (TK.K > 16) a1 = Vector512.FusedMultiplyAdd(cv, y1, a1);
            if (TK.K > 32) a2 = Vector512.FusedMultiplyAdd(cv, y2, a2);
            if (TK.K > 48) a3 = Vector512.FusedMultiplyAdd(cv, y3, a3);
        }
        a0.StoreUnsafe(ref acc, 0);
        if (TK.K > 16) a1.StoreUnsafe(ref acc, 16);
        if (TK.K > 32) a2.StoreUnsafe(ref acc, 32);
        if (TK.K > 48) a3.StoreUnsafe(ref acc, 48);
    }

    /// <summary>
    /// A += ZᵀY on the upper triangle: A[i, j] += Σₑ Z[e, i]·Y[e, j] for j ≥ i, where Z and Y are n × k
    /// (row stride k). With Z = diag(w)·Y this is the rank-n update Σₑ wₑ·yₑyₑᵀ; with Z = Y it is a Gram
    /// matrix. Entries below the diagonal inside a diagonal 16×16 tile may also be written: callers
    /// never read the strict lower triangle.
    /// </summary>
    /// <remarks>A register-blocked micro-kernel: 4 rows of A × up to 64 columns (16 accumulators) over all n,
    /// so each loaded Y vector feeds 4 FMAs and each broadcast Z value up to 4.</remarks>
    public static void RankUpdateUpper(Span<float> a, int k, ReadOnlySpan<float> z, ReadOnlySpan<float> y, int n)
    {
        if (a.Length < k * k || z.Length < n * k || y.Length < n * k) throw new ArgumentException("RankUpdateUpper needs A of k×k and Z, Y of n×k.");
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int kv = Vector512.IsHardwareAccelerated ? k & ~(W - 1) : 0; // columns handled by vectors
        int i0 = 0;
        for (; i0 + 4 <= k; i0 += 4)
        {
            int c = Math.Min(i0 & ~(W - 1), kv);
            for (; c + 4 * W <= kv; c += 4 * W) Tile4<K64>(ref ar, ref zr, ref yr, k, n, i0, c);
            switch (kv - c)
            {
                case 3 * W: Tile4<K48>(ref ar, ref zr, ref yr, k, n, i0, c); break;
                case 2 * W: Tile4<K32>(ref ar, ref zr, ref yr, k, n, i0, c); break;
                case W: Tile4<K16>(ref ar, ref zr, ref yr, k, n, i0, c); break;
            }
            c = kv;
            for (int i = i0; i < i0 + 4; i++) ScalarCells(ref ar, ref zr, ref yr, k, n, i, Math.Max(c, i), k);
        }
        for (; i0 < k; i0++)
        {
            int c = Math.Min(i0 & ~(W - 1), kv);
            for (; c + W <= kv; c += W) Tile1x1(ref ar, ref zr, ref yr, k, n, i0, c);
            ScalarCells(ref ar, ref zr, ref yr, k, n, i0, Math.Max(c, i0), k);
        }
    }

    /// <summary>A[i0..i0+4, c..c+TC.K) += Σₑ Z[e, i0..i0+4]ᵀ·Y[e, c..c+TC.K): up to 16 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4<TC>(ref float a, ref float z, ref float y, int k, int n, int i0, int c) where TC : struct, IFixedK
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int e = 0; e < n; e++)
        {
            ref float ye = ref Unsafe.Add(ref y, e * k + c);
            ref float ze = ref Unsafe.Add(ref z, e * k + i0);
            var y0 = Vector512.LoadUnsafe(ref ye, 0);
            var y1 = TC.K > 16 ? Vector512.LoadUnsafe(ref ye, 16) : default;
            var y2 = TC.K > 32 ? Vector512.LoadUnsafe(ref ye, 32) : default;
            var y3 = TC.K > 48 ? Vector512.LoadUnsafe(ref ye, 48) : default;
            var s0 = Vector512.Create(ze);
            var s1 = Vector512.Create(Unsafe.Add(ref ze, 1));
            var s2 = Vector512.Create(Unsafe.Add(ref ze, 2));
            var s3 = Vector512.Create(Unsafe.Add(ref ze, 3));
            a00 = Vector512.FusedMultiplyAdd(s0, y0, a00);
            a10 = Vector512.FusedMultiplyAdd(s1, y0, a10);
            a20 = Vector512.FusedMultiplyAdd(s2, y0, a20);
            a30 = Vector512.FusedMultiplyAdd(s3, y0, a30);
            if (TC.K > 16)
            {
                a01 = Vector512.FusedMultiplyAdd(s0, y1, a01);
                a11 = Vector512.FusedMultiplyAdd(s1, y1, a11);
                a21 = Vector512.FusedMultiplyAdd(s2, y1, a21);
                a31 = Vector512.FusedMultiplyAdd(s3, y1, a31);
            }
            if (TC.K > 32)
            {
                a02 = Vector512.FusedMultiplyAdd(s0, y2, a02);
                a12 = Vector512.FusedMultiplyAdd(s1, y2, a12);
                a22 = Vector512.FusedMultiplyAdd(s2, y2, a22);
                a32 = Vector512.FusedMultiplyAdd(s3, y2, a32);
            }
            if (TC.K > 48)
            {
                a03 = Vector512.FusedMultiplyAdd(s0, y3, a03);
                a13 = Vector512.FusedMultiplyAdd(s1, y3, a13);
                a23 = Vector512.FusedMultiplyAdd(s2, y3, a23);
                a33 = Vector512.FusedMultiplyAdd(s3, y3, a33);
            }
        }
        AddTo<TC>(ref Unsafe.Add(ref a, i0 * k + c), a00, a01, a02, a03);
        AddTo<TC>(ref Unsafe.Add(ref a, (i0 + 1) * k + c), a10, a11, a12, a13);
        AddTo<TC>(ref Unsafe.Add(ref a, (i0 + 2) * k + c), a20, a21, a22, a23);
        AddTo<TC>(ref Unsafe.Add(ref a, (i0 + 3) * k + c), a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TC>(ref float r, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3) where TC : struct, IFixedK
    {
        (Vector512.LoadUnsafe(ref r, 0) + v0).StoreUnsafe(ref r, 0);
        if (TC.K > 16) (Vector512.LoadUnsafe(ref r, 16) + v1).StoreUnsafe(ref r, 16);
        if (TC.K > 32) (Vector512.LoadUnsafe(ref r, 32) + v2).StoreUnsafe(ref r, 32);
        if (TC.K > 48) (Vector512.LoadUnsafe(ref r, 48) + v3).StoreUnsafe(ref r, 48);
    }

    private static void Tile1x1(ref float a, ref float z, ref float y, int k, int n, int i, int c)
    {
        var acc = Vector512<float>.Zero;
        for (int e = 0; e < n; e++)
            acc = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref z, e * k + i)), Vector512.LoadUnsafe(ref Unsafe.Add(ref y, e * k + c)), acc);
        ref float dst = ref Unsafe.Add(ref a, i * k + c);
        (Vector512.LoadUnsafe(ref dst) + acc).StoreUnsafe(ref dst);
    }

    private static void ScalarCells(ref float a, ref float z, ref float y, int k, int n, int i, int from, int to)
    {
        for (int j = from; j < to; j++)
        {
            float s = 0f;
            for (int e = 0; e < n; e++) s += Unsafe.Add(ref z, e * k + i) * Unsafe.Add(ref y, e * k + j);
            Unsafe.Add(ref a, i * k + j) += s;
        }
    }

    /// <summary>
    /// In-place Cholesky A = UᵀU of a symmetric positive definite k×k matrix held in the upper triangle
    /// (right-looking, row-major: every update is a contiguous row axpy). Returns false when A is not
    /// positive definite. The strict lower triangle is scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool CholeskyUpper(Span<float> a, int k)
    {
        if (a.Length < k * k) throw new ArgumentException("CholeskyUpper needs A of k×k.");
        ref float ar = ref MemoryMarshal.GetReference(a);
        if (Vector512.IsHardwareAccelerated)
        {
            switch (k)
            {
                case 16: return CholeskyUpperFixed<K16>(ref ar);
                case 32: return CholeskyUpperFixed<K32>(ref ar);
                case 48: return CholeskyUpperFixed<K48>(ref ar);
                case 64: return CholeskyUpperFixed<K64>(ref ar);
            }
        }
        for (int j = 0; j < k; j++)
        {
            ref float rowJ = ref Unsafe.Add(ref ar, j * k);
            float d = Unsafe.Add(ref rowJ, j);
            if (!(d > 0f) || !float.IsFinite(d)) return false;
            float u = MathF.Sqrt(d), inv = 1f / u;
            // Rows are processed from a 16-aligned column (s ≤ the diagonal), so every update is whole
            // vectors when k is a multiple of 16. Columns left of the diagonal are scratch: they receive
            // junk, and nothing on or right of the diagonal ever reads them.
            int sj = j & ~(W - 1);
            Scale(inv, ref Unsafe.Add(ref rowJ, sj), k - sj);
            Unsafe.Add(ref rowJ, j) = u;
            // Trailing update A[i, i..] −= U[j, i]·U[j, i..] for i > j.
            for (int i = j + 1; i < k; i++)
            {
                float f = Unsafe.Add(ref rowJ, i);
                if (f == 0f) continue;
                int si = i & ~(W - 1);
                Axpy(-f, ref Unsafe.Add(ref rowJ, si), ref Unsafe.Add(ref ar, i * k + si), k - si);
            }
        }
        return true;
    }

    /// <summary>
    /// The same factorization, up-looking for a fixed k: row i of U is A[i, :] − Σⱼ₍ⱼ﹤ᵢ₎ U[j, i]·U[j, :],
    /// accumulated in registers (two sets, even and odd j, to halve the FMA chains) from the 16-aligned
    /// chunk that holds the diagonal, then scaled by 1/√d. Columns left of the diagonal are scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool CholeskyUpperFixed<TK>(ref float a) where TK : struct, IFixedK
    {
        int k = TK.K;
        for (int i = 0; i < k; i++)
        {
            int c0 = i / W; // first chunk that holds columns ≥ i
            ref float rowI = ref Unsafe.Add(ref a, i * k);
            var a0 = c0 == 0 ? Vector512.LoadUnsafe(ref rowI, 0) : default;
            var a1 = TK.K > 16 && c0 <= 1 ? Vector512.LoadUnsafe(ref rowI, 16) : default;
            var a2 = TK.K > 32 && c0 <= 2 ? Vector512.LoadUnsafe(ref rowI, 32) : default;
            var a3 = TK.K > 48 ? Vector512.LoadUnsafe(ref rowI, 48) : default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            int j = 0;
            for (; j + 1 < i; j += 2)
            {
                ref float rj = ref Unsafe.Add(ref a, j * k);
                ref float rn = ref Unsafe.Add(ref rj, k);
                var s = Vector512.Create(-Unsafe.Add(ref rj, i));
                var t = Vector512.Create(-Unsafe.Add(ref rn, i));
                if (c0 == 0)
                {
                    a0 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 0), a0);
                    b0 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref rn, 0), b0);
                }
                if (TK.K > 16 && c0 <= 1)
                {
                    a1 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 16), a1);
                    b1 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref rn, 16), b1);
                }
                if (TK.K > 32 && c0 <= 2)
                {
                    a2 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 32), a2);
                    b2 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref rn, 32), b2);
                }
                if (TK.K > 48)
                {
                    a3 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 48), a3);
                    b3 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref rn, 48), b3);
                }
            }
            if (j < i)
            {
                ref float rj = ref Unsafe.Add(ref a, j * k);
                var s = Vector512.Create(-Unsafe.Add(ref rj, i));
                if (c0 == 0) a0 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 0), a0);
                if (TK.K > 16 && c0 <= 1) a1 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 16), a1);
                if (TK.K > 32 && c0 <= 2) a2 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 32), a2);
                if (TK.K > 48) a3 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref rj, 48), a3);
            }
            if (c0 == 0) (a0 + b0).StoreUnsafe(ref rowI, 0);
            if (TK.K > 16 && c0 <= 1) (a1 + b1).StoreUnsafe(ref rowI, 16);
            if (TK.K > 32 && c0 <= 2) (a2 + b2).StoreUnsafe(ref rowI, 32);
            if (TK.K > 48) (a3 + b3).StoreUnsafe(ref rowI, 48);
            float d = Unsafe.Add(ref rowI, i);
            if (!(d > 0f) || !float.IsFinite(d)) return false;
            float u = MathF.Sqrt(d);
            Scale(1f / u, ref Unsafe.Add(ref rowI, c0 * W), k - c0 * W);
            Unsafe.Add(ref rowI, i) = u;
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale(float a, ref float x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var av = Vector512.Create(a);
            for (; i <= n - W; i += W) (av * Vector512.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref x, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref x, i) *= a;
    }

    /// <summary>Solves UᵀU·x = b given the factor U in the upper triangle of <paramref name="u"/>; b is overwritten.</summary>
    public static void CholeskySolveUpper(ReadOnlySpan<float> u, Span<float> b, Span<float> x, int k)
    {
        if (u.Length < k * k || b.Length < k || x.Length < k) throw new ArgumentException("CholeskySolveUpper needs U of k×k and b, x of k.");
        ref float ur = ref MemoryMarshal.GetReference(u);
        ref float br = ref MemoryMarshal.GetReference(b);
        // Uᵀz = b, column by column: zᵢ = bᵢ/Uᵢᵢ, then b[i+1..] −= zᵢ·U[i, i+1..] (z overwrites b).
        for (int i = 0; i < k; i++)
        {
            float zi = Unsafe.Add(ref br, i) / Unsafe.Add(ref ur, i * k + i);
            Unsafe.Add(ref br, i) = zi;
            Axpy(-zi, ref Unsafe.Add(ref ur, i * k + i + 1), ref Unsafe.Add(ref br, i + 1), k - i - 1);
        }
        // U·x = z, row by row from the bottom: xᵢ = (zᵢ − U[i, i+1..]·x[i+1..]) / Uᵢᵢ.
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (int i = k - 1; i >= 0; i--)
        {
            float s = Dot(ref Unsafe.Add(ref ur, i * k + i + 1), ref Unsafe.Add(ref xr, i + 1), k - i - 1);
            Unsafe.Add(ref xr, i) = (Unsafe.Add(ref br, i) - s) / Unsafe.Add(ref ur, i * k + i);
        }
    }
}

/// <summary>A compile-time k for the fixed-size kernels: the JIT specializes each struct and folds <c>K</c>.</summary>
internal interface IFixedK { static abstract int K { get; } }
internal struct K16 : IFixedK { public static int K => 16; }
internal struct K32 : IFixedK { public static int K => 32; }
internal struct K48 : IFixedK { public static int K => 48; }
internal struct K64 : IFixedK { public static int K => 64; }
