using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BatchRecs.Core.Als;

/// <summary>The dense kernels of the ALS solvers on the vector widths this CPU offers (see <see cref="FactorMath{TW}"/>).</summary>
internal static class FactorMath
{
    /// <inheritdoc cref="FactorMath{TW}.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => FactorMath<HardwareWidths>.Dot(a, b);

    /// <inheritdoc cref="FactorMath{TW}.Axpy(float, ReadOnlySpan{float}, Span{float})"/>
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y) => FactorMath<HardwareWidths>.Axpy(a, x, y);

    /// <inheritdoc cref="FactorMath{TW}.Xpby"/>
    public static void Xpby(ReadOnlySpan<float> r, float beta, Span<float> p) => FactorMath<HardwareWidths>.Xpby(r, beta, p);

    /// <inheritdoc cref="FactorMath{TW}.SymMatVec"/>
    public static void SymMatVec(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> dst, int k, float lambda = 0f) =>
        FactorMath<HardwareWidths>.SymMatVec(m, v, dst, k, lambda);

    /// <inheritdoc cref="FactorMath{TW}.AccumulateEntries"/>
    public static void AccumulateEntries(Span<float> acc, ReadOnlySpan<float> v, ReadOnlySpan<float> dst, int k,
        ReadOnlySpan<int> cols, ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, bool residual) =>
        FactorMath<HardwareWidths>.AccumulateEntries(acc, v, dst, k, cols, conf, pref, residual);

    /// <inheritdoc cref="FactorMath{TW}.RankUpdateUpper"/>
    public static void RankUpdateUpper(Span<float> a, int k, ReadOnlySpan<float> z, ReadOnlySpan<float> y, int n) =>
        FactorMath<HardwareWidths>.RankUpdateUpper(a, k, z, y, n);

    /// <inheritdoc cref="FactorMath{TW}.CholeskyUpper"/>
    public static bool CholeskyUpper(Span<float> a, int k) => FactorMath<HardwareWidths>.CholeskyUpper(a, k);

    /// <inheritdoc cref="FactorMath{TW}.CholeskySolveUpper"/>
    public static void CholeskySolveUpper(ReadOnlySpan<float> u, Span<float> b, Span<float> x, int k) =>
        FactorMath<HardwareWidths>.CholeskySolveUpper(u, b, x, k);
}

/// <summary>
/// The dense kernels of the ALS solvers, for any k, on the vector widths the CPU offers and <typeparamref name="TW"/> allows. Each
/// kernel has one skeleton: the widest width covers what it can, each narrower width what is left, then scalar
/// code (Vector512 → Vector256 → Vector128 → scalar, as TensorPrimitives' kernels). The per-width bodies are
/// written once, generic over <see cref="IVectorOps{TV}"/>; the JIT compiles one straight-line copy per width.
/// <see cref="ReferenceKernels"/> holds the plain scalar version of each kernel; tests check they agree on every width.
/// </summary>
/// <remarks>
/// Every kernel sums in an order fixed by k and the widths in use alone (the CPU's, capped by <typeparamref name="TW"/>),
/// so a row's result never depends on the thread, the block or the other rows. Register-blocked kernels keep tiles of up to 4 vectors per row
/// (a k of 64 is one tile with Vector512, two with Vector256, four with Vector128). All matrices are row-major;
/// callers guarantee the shapes (they are checked once at the public edge, in <see cref="BlockSolver"/> and
/// <see cref="GramMatrix"/>), since the kernels read through unchecked references.
/// </remarks>
internal static class FactorMath<TW> where TW : struct, IVectorWidths
{
    private const int PrefetchAhead = 8; // entries ahead in the dst-row gather (measured: 8 cuts item rows' CG cost by ~35%)
    private const int EntryChunk = 64; // entries per chunk of the two-pass AccumulateEntries: 64 rows of k ≤ 128 stay in L1

    /// <summary>Floats per vector of the widest width used (1 when none is).</summary>
    private static int Widest =>
        Vector512.IsHardwareAccelerated && TW.Allow512 ? 16 :
        Vector256.IsHardwareAccelerated && TW.Allow256 ? 8 :
        Vector128.IsHardwareAccelerated && TW.Allow128 ? 4 : 1;

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
        if (Vector512.IsHardwareAccelerated && TW.Allow512) sum += DotVectors<Ops512, Vector512<float>>(ref a, ref b, ref i, n);
        if (Vector256.IsHardwareAccelerated && TW.Allow256) sum += DotVectors<Ops256, Vector256<float>>(ref a, ref b, ref i, n);
        if (Vector128.IsHardwareAccelerated && TW.Allow128) sum += DotVectors<Ops128, Vector128<float>>(ref a, ref b, ref i, n);
        for (; i < n; i++) sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return sum;
    }

    /// <summary>Σ a[i]·b[i] over the whole vectors from i on; advances i past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotVectors<TO, TV>(ref float a, ref float b, ref int i, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        if (n - i < TO.Count) return 0f;
        var acc = TO.Zero;
        for (; i <= n - TO.Count; i += TO.Count)
            acc = TO.MulAdd(TO.Load(ref a, (nuint)i), TO.Load(ref b, (nuint)i), acc);
        return TO.Sum(acc);
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
        if (Vector512.IsHardwareAccelerated && TW.Allow512) AxpyVectors<Ops512, Vector512<float>>(a, ref x, ref y, ref i, n);
        if (Vector256.IsHardwareAccelerated && TW.Allow256) AxpyVectors<Ops256, Vector256<float>>(a, ref x, ref y, ref i, n);
        if (Vector128.IsHardwareAccelerated && TW.Allow128) AxpyVectors<Ops128, Vector128<float>>(a, ref x, ref y, ref i, n);
        for (; i < n; i++) Unsafe.Add(ref y, i) += a * Unsafe.Add(ref x, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AxpyVectors<TO, TV>(float a, ref float x, ref float y, ref int i, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        var av = TO.Create(a);
        for (; i <= n - TO.Count; i += TO.Count)
            TO.Store(TO.MulAdd(av, TO.Load(ref x, (nuint)i), TO.Load(ref y, (nuint)i)), ref y, (nuint)i);
    }

    /// <summary>p = r + β·p (the CG direction update).</summary>
    public static void Xpby(ReadOnlySpan<float> r, float beta, Span<float> p)
    {
        if (p.Length < r.Length) throw new ArgumentException("p is shorter than r.");
        ref float rr = ref MemoryMarshal.GetReference(r);
        ref float pr = ref MemoryMarshal.GetReference(p);
        int n = r.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && TW.Allow512) XpbyVectors<Ops512, Vector512<float>>(ref rr, beta, ref pr, ref i, n);
        if (Vector256.IsHardwareAccelerated && TW.Allow256) XpbyVectors<Ops256, Vector256<float>>(ref rr, beta, ref pr, ref i, n);
        if (Vector128.IsHardwareAccelerated && TW.Allow128) XpbyVectors<Ops128, Vector128<float>>(ref rr, beta, ref pr, ref i, n);
        for (; i < n; i++) Unsafe.Add(ref pr, i) = Unsafe.Add(ref rr, i) + beta * Unsafe.Add(ref pr, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XpbyVectors<TO, TV>(ref float r, float beta, ref float p, ref int i, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        var bv = TO.Create(beta);
        for (; i <= n - TO.Count; i += TO.Count)
            TO.Store(TO.MulAdd(bv, TO.Load(ref p, (nuint)i), TO.Load(ref r, (nuint)i)), ref p, (nuint)i);
    }

    /// <summary>x *= a over n floats.</summary>
    internal static void Scale(float a, Span<float> x) => Scale(a, ref MemoryMarshal.GetReference(x), x.Length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale(float a, ref float x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && TW.Allow512) ScaleVectors<Ops512, Vector512<float>>(a, ref x, ref i, n);
        if (Vector256.IsHardwareAccelerated && TW.Allow256) ScaleVectors<Ops256, Vector256<float>>(a, ref x, ref i, n);
        if (Vector128.IsHardwareAccelerated && TW.Allow128) ScaleVectors<Ops128, Vector128<float>>(a, ref x, ref i, n);
        for (; i < n; i++) Unsafe.Add(ref x, i) *= a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleVectors<TO, TV>(float a, ref float x, ref int i, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        var av = TO.Create(a);
        for (; i <= n - TO.Count; i += TO.Count)
            TO.Store(TO.Multiply(av, TO.Load(ref x, (nuint)i)), ref x, (nuint)i);
    }

    /// <summary>dst = (M + λI)·v for a k×k row-major symmetric M (computed as Σⱼ vⱼ·M[j,:], no horizontal sums).</summary>
    public static void SymMatVec(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> dst, int k, float lambda = 0f)
    {
        if (m.Length < k * k || v.Length < k || dst.Length < k) throw new ArgumentException("SymMatVec needs m of k×k and v, dst of k.");
        ref float mr = ref MemoryMarshal.GetReference(m);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float dr = ref MemoryMarshal.GetReference(dst);
        int c = 0;
        if (Vector512.IsHardwareAccelerated && TW.Allow512) SymMatVecColumns<Ops512, Vector512<float>>(ref mr, ref vr, ref dr, k, lambda, ref c);
        if (Vector256.IsHardwareAccelerated && TW.Allow256) SymMatVecColumns<Ops256, Vector256<float>>(ref mr, ref vr, ref dr, k, lambda, ref c);
        if (Vector128.IsHardwareAccelerated && TW.Allow128) SymMatVecColumns<Ops128, Vector128<float>>(ref mr, ref vr, ref dr, k, lambda, ref c);
        // The last columns, fewer than a vector: by symmetry column c is row c, a contiguous dot.
        for (; c < k; c++) Unsafe.Add(ref dr, c) = Dot(ref Unsafe.Add(ref mr, c * k), ref vr, k) + lambda * Unsafe.Add(ref vr, c);
    }

    /// <summary>The whole vectors of columns from c on, in tiles of up to 4 vectors; advances c past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SymMatVecColumns<TO, TV>(ref float m, ref float v, ref float dst, int k, float lambda, ref int c)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count;
        for (; c + 4 * w <= k; c += 4 * w) SymMatVecTile<TO, TV, N4>(ref m, ref v, ref dst, k, lambda, c);
        switch ((k - c) / w)
        {
            case 3: SymMatVecTile<TO, TV, N3>(ref m, ref v, ref dst, k, lambda, c); c += 3 * w; break;
            case 2: SymMatVecTile<TO, TV, N2>(ref m, ref v, ref dst, k, lambda, c); c += 2 * w; break;
            case 1: SymMatVecTile<TO, TV, N1>(ref m, ref v, ref dst, k, lambda, c); c += w; break;
        }
    }

    /// <summary>
    /// dst[c..c + TC.N vectors) = λ·v[c..] + Σⱼ vⱼ·M[j, c..], the columns held in registers over all j; two
    /// accumulators per vector (even and odd j) halve the FMA dependency chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SymMatVecTile<TO, TV, TC>(ref float m, ref float v, ref float dst, int k, float lambda, int c)
        where TO : struct, IVectorOps<TV> where TV : struct where TC : struct, IVectorCount
    {
        nuint w = (nuint)TO.Count;
        ref float vc = ref Unsafe.Add(ref v, c);
        ref float mc = ref Unsafe.Add(ref m, c);
        var lv = TO.Create(lambda);
        var a0 = TO.Multiply(lv, TO.Load(ref vc, 0));
        var a1 = TC.N > 1 ? TO.Multiply(lv, TO.Load(ref vc, w)) : TO.Zero;
        var a2 = TC.N > 2 ? TO.Multiply(lv, TO.Load(ref vc, 2 * w)) : TO.Zero;
        var a3 = TC.N > 3 ? TO.Multiply(lv, TO.Load(ref vc, 3 * w)) : TO.Zero;
        TV b0 = TO.Zero, b1 = TO.Zero, b2 = TO.Zero, b3 = TO.Zero;
        int j = 0;
        for (; j + 1 < k; j += 2)
        {
            ref float row = ref Unsafe.Add(ref mc, j * k);
            ref float next = ref Unsafe.Add(ref row, k);
            var s = TO.Create(Unsafe.Add(ref v, j));
            var t = TO.Create(Unsafe.Add(ref v, j + 1));
            a0 = TO.MulAdd(s, TO.Load(ref row, 0), a0);
            b0 = TO.MulAdd(t, TO.Load(ref next, 0), b0);
            if (TC.N > 1)
            {
                a1 = TO.MulAdd(s, TO.Load(ref row, w), a1);
                b1 = TO.MulAdd(t, TO.Load(ref next, w), b1);
            }
            if (TC.N > 2)
            {
                a2 = TO.MulAdd(s, TO.Load(ref row, 2 * w), a2);
                b2 = TO.MulAdd(t, TO.Load(ref next, 2 * w), b2);
            }
            if (TC.N > 3)
            {
                a3 = TO.MulAdd(s, TO.Load(ref row, 3 * w), a3);
                b3 = TO.MulAdd(t, TO.Load(ref next, 3 * w), b3);
            }
        }
        if (j < k)
        {
            ref float row = ref Unsafe.Add(ref mc, j * k);
            var s = TO.Create(Unsafe.Add(ref v, j));
            a0 = TO.MulAdd(s, TO.Load(ref row, 0), a0);
            if (TC.N > 1) a1 = TO.MulAdd(s, TO.Load(ref row, w), a1);
            if (TC.N > 2) a2 = TO.MulAdd(s, TO.Load(ref row, 2 * w), a2);
            if (TC.N > 3) a3 = TO.MulAdd(s, TO.Load(ref row, 3 * w), a3);
        }
        ref float d = ref Unsafe.Add(ref dst, c);
        TO.Store(TO.Add(a0, b0), ref d, 0);
        if (TC.N > 1) TO.Store(TO.Add(a1, b1), ref d, w);
        if (TC.N > 2) TO.Store(TO.Add(a2, b2), ref d, 2 * w);
        if (TC.N > 3) TO.Store(TO.Add(a3, b3), ref d, 3 * w);
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
        // k of 1 to 4 whole vectors: v and acc stay in registers for the whole sweep.
        if (Vector512.IsHardwareAccelerated && TW.Allow512 && AccumulateInRegisters<Ops512, Vector512<float>>(ref ar, ref vr, ref yr, k, cols, conf, pref, residual)) return;
        if (Vector256.IsHardwareAccelerated && TW.Allow256 && AccumulateInRegisters<Ops256, Vector256<float>>(ref ar, ref vr, ref yr, k, cols, conf, pref, residual)) return;
        if (Vector128.IsHardwareAccelerated && TW.Allow128 && AccumulateInRegisters<Ops128, Vector128<float>>(ref ar, ref vr, ref yr, k, cols, conf, pref, residual)) return;
        // Otherwise in chunks of entries: first each entry's coefficient (a dot each, independent of one another),
        // then acc += Σₑ coefₑ·yₑ with acc's columns held in registers, the chunk's rows still in L1.
        Span<float> coefs = stackalloc float[EntryChunk];
        for (int e0 = 0; e0 < cols.Length; e0 += EntryChunk)
        {
            var chunk = cols.Slice(e0, Math.Min(EntryChunk, cols.Length - e0));
            for (int e = 0; e < chunk.Length; e++)
            {
                if (e0 + e + PrefetchAhead < cols.Length) Prefetch(ref Unsafe.Add(ref yr, (nint)cols[e0 + e + PrefetchAhead] * k), k * sizeof(float));
                float c = conf[e0 + e];
                float d = Dot(ref Unsafe.Add(ref yr, (nint)chunk[e] * k), ref vr, k);
                coefs[e] = residual ? c * (pref.IsEmpty ? 1f : pref[e0 + e]) - (c - 1f) * d : (c - 1f) * d;
            }
            GatherAxpy(ref ar, ref yr, k, chunk, coefs);
        }
    }

    /// <summary>acc += Σₑ coefs[e]·dst[cols[e], :] (the second half of the chunked <see cref="AccumulateEntries"/>).</summary>
    private static void GatherAxpy(ref float acc, ref float dst, int k, ReadOnlySpan<int> cols, ReadOnlySpan<float> coefs)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated && TW.Allow512) GatherAxpyColumns<Ops512, Vector512<float>>(ref acc, ref dst, k, cols, coefs, ref c);
        if (Vector256.IsHardwareAccelerated && TW.Allow256) GatherAxpyColumns<Ops256, Vector256<float>>(ref acc, ref dst, k, cols, coefs, ref c);
        if (Vector128.IsHardwareAccelerated && TW.Allow128) GatherAxpyColumns<Ops128, Vector128<float>>(ref acc, ref dst, k, cols, coefs, ref c);
        for (; c < k; c++)
        {
            float s = Unsafe.Add(ref acc, c);
            for (int e = 0; e < cols.Length; e++) s += coefs[e] * Unsafe.Add(ref dst, (nint)cols[e] * k + c);
            Unsafe.Add(ref acc, c) = s;
        }
    }

    /// <summary>The whole vectors of columns from c on, in tiles of up to 4 vectors; advances c past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GatherAxpyColumns<TO, TV>(ref float acc, ref float dst, int k, ReadOnlySpan<int> cols, ReadOnlySpan<float> coefs, ref int c)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count;
        for (; c + 4 * w <= k; c += 4 * w) GatherAxpyTile<TO, TV, N4>(ref acc, ref dst, k, cols, coefs, c);
        switch ((k - c) / w)
        {
            case 3: GatherAxpyTile<TO, TV, N3>(ref acc, ref dst, k, cols, coefs, c); c += 3 * w; break;
            case 2: GatherAxpyTile<TO, TV, N2>(ref acc, ref dst, k, cols, coefs, c); c += 2 * w; break;
            case 1: GatherAxpyTile<TO, TV, N1>(ref acc, ref dst, k, cols, coefs, c); c += w; break;
        }
    }

    /// <summary>acc[c..c + TC.N vectors) += Σₑ coefs[e]·dst[cols[e], c..]: two accumulators per vector (even and odd e).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GatherAxpyTile<TO, TV, TC>(ref float acc, ref float dst, int k, ReadOnlySpan<int> cols, ReadOnlySpan<float> coefs, int c)
        where TO : struct, IVectorOps<TV> where TV : struct where TC : struct, IVectorCount
    {
        nuint w = (nuint)TO.Count;
        ref float ac = ref Unsafe.Add(ref acc, c);
        ref float dc = ref Unsafe.Add(ref dst, c);
        var a0 = TO.Load(ref ac, 0);
        var a1 = TC.N > 1 ? TO.Load(ref ac, w) : TO.Zero;
        var a2 = TC.N > 2 ? TO.Load(ref ac, 2 * w) : TO.Zero;
        var a3 = TC.N > 3 ? TO.Load(ref ac, 3 * w) : TO.Zero;
        TV b0 = TO.Zero, b1 = TO.Zero, b2 = TO.Zero, b3 = TO.Zero;
        int e = 0;
        for (; e + 1 < cols.Length; e += 2)
        {
            ref float y = ref Unsafe.Add(ref dc, (nint)cols[e] * k);
            ref float x = ref Unsafe.Add(ref dc, (nint)cols[e + 1] * k);
            var s = TO.Create(coefs[e]);
            var t = TO.Create(coefs[e + 1]);
            a0 = TO.MulAdd(s, TO.Load(ref y, 0), a0);
            b0 = TO.MulAdd(t, TO.Load(ref x, 0), b0);
            if (TC.N > 1)
            {
                a1 = TO.MulAdd(s, TO.Load(ref y, w), a1);
                b1 = TO.MulAdd(t, TO.Load(ref x, w), b1);
            }
            if (TC.N > 2)
            {
                a2 = TO.MulAdd(s, TO.Load(ref y, 2 * w), a2);
                b2 = TO.MulAdd(t, TO.Load(ref x, 2 * w), b2);
            }
            if (TC.N > 3)
            {
                a3 = TO.MulAdd(s, TO.Load(ref y, 3 * w), a3);
                b3 = TO.MulAdd(t, TO.Load(ref x, 3 * w), b3);
            }
        }
        if (e < cols.Length)
        {
            ref float y = ref Unsafe.Add(ref dc, (nint)cols[e] * k);
            var s = TO.Create(coefs[e]);
            a0 = TO.MulAdd(s, TO.Load(ref y, 0), a0);
            if (TC.N > 1) a1 = TO.MulAdd(s, TO.Load(ref y, w), a1);
            if (TC.N > 2) a2 = TO.MulAdd(s, TO.Load(ref y, 2 * w), a2);
            if (TC.N > 3) a3 = TO.MulAdd(s, TO.Load(ref y, 3 * w), a3);
        }
        TO.Store(TO.Add(a0, b0), ref ac, 0);
        if (TC.N > 1) TO.Store(TO.Add(a1, b1), ref ac, w);
        if (TC.N > 2) TO.Store(TO.Add(a2, b2), ref ac, 2 * w);
        if (TC.N > 3) TO.Store(TO.Add(a3, b3), ref ac, 3 * w);
    }

    /// <summary>The dst rows are a random gather (memory-bound on the item side): fetch a few entries ahead (x86 only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref float row, int bytes)
    {
        if (!Sse.IsSupported) return;
        byte* p = (byte*)Unsafe.AsPointer(ref row);
        for (int b = 0; b < bytes; b += 64) Sse.Prefetch0(p + b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AccumulateInRegisters<TO, TV>(ref float acc, ref float v, ref float dst, int k, ReadOnlySpan<int> cols,
        ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, bool residual) where TO : struct, IVectorOps<TV> where TV : struct
    {
        if (k % TO.Count != 0) return false;
        switch (k / TO.Count)
        {
            case 1: AccumulateTile<TO, TV, N1>(ref acc, ref v, ref dst, cols, conf, pref, residual); return true;
            case 2: AccumulateTile<TO, TV, N2>(ref acc, ref v, ref dst, cols, conf, pref, residual); return true;
            case 3: AccumulateTile<TO, TV, N3>(ref acc, ref v, ref dst, cols, conf, pref, residual); return true;
            case 4: AccumulateTile<TO, TV, N4>(ref acc, ref v, ref dst, cols, conf, pref, residual); return true;
            default: return false;
        }
    }

    /// <summary><see cref="AccumulateEntries"/> for k = TC.N vectors: v and acc live in registers for the whole sweep;
    /// each yₑ is loaded once and used for both its dot product and its update.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AccumulateTile<TO, TV, TC>(ref float acc, ref float v, ref float dst, ReadOnlySpan<int> cols,
        ReadOnlySpan<float> conf, ReadOnlySpan<float> pref, bool residual)
        where TO : struct, IVectorOps<TV> where TV : struct where TC : struct, IVectorCount
    {
        nuint w = (nuint)TO.Count;
        int k = TC.N * TO.Count;
        var v0 = TO.Load(ref v, 0);
        var v1 = TC.N > 1 ? TO.Load(ref v, w) : TO.Zero;
        var v2 = TC.N > 2 ? TO.Load(ref v, 2 * w) : TO.Zero;
        var v3 = TC.N > 3 ? TO.Load(ref v, 3 * w) : TO.Zero;
        var a0 = TO.Load(ref acc, 0);
        var a1 = TC.N > 1 ? TO.Load(ref acc, w) : TO.Zero;
        var a2 = TC.N > 2 ? TO.Load(ref acc, 2 * w) : TO.Zero;
        var a3 = TC.N > 3 ? TO.Load(ref acc, 3 * w) : TO.Zero;
        ref int cr = ref MemoryMarshal.GetReference(cols);
        ref float confr = ref MemoryMarshal.GetReference(conf);
        ref float prefr = ref MemoryMarshal.GetReference(pref);
        bool hasPref = !pref.IsEmpty;
        int n = cols.Length;
        for (int e = 0; e < n; e++)
        {
            if (Sse.IsSupported && e + PrefetchAhead < n)
            {
                byte* pa = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref dst, (nint)Unsafe.Add(ref cr, e + PrefetchAhead) * k));
                Sse.Prefetch0(pa);
                if (k > 16) Sse.Prefetch0(pa + 64);
                if (k > 32) Sse.Prefetch0(pa + 128);
                if (k > 48) Sse.Prefetch0(pa + 192);
            }
            ref float y = ref Unsafe.Add(ref dst, (nint)Unsafe.Add(ref cr, e) * k);
            var y0 = TO.Load(ref y, 0);
            var y1 = TC.N > 1 ? TO.Load(ref y, w) : TO.Zero;
            var y2 = TC.N > 2 ? TO.Load(ref y, 2 * w) : TO.Zero;
            var y3 = TC.N > 3 ? TO.Load(ref y, 3 * w) : TO.Zero;
            var s = TO.Multiply(y0, v0);
            if (TC.N > 1) s = TO.MulAdd(y1, v1, s);
            if (TC.N > 2) s = TO.MulAdd(y2, v2, s);
            if (TC.N > 3) s = TO.MulAdd(y3, v3, s);
            float d = TO.Sum(s);
            float c = Unsafe.Add(ref confr, e);
            float coef = residual ? c * (hasPref ? Unsafe.Add(ref prefr, e) : 1f) - (c - 1f) * d : (c - 1f) * d;
            var cv = TO.Create(coef);
            a0 = TO.MulAdd(cv, y0, a0);
            if (TC.N > 1) a1 = TO.MulAdd(cv, y1, a1);
            if (TC.N > 2) a2 = TO.MulAdd(cv, y2, a2);
            if (TC.N > 3) a3 = TO.MulAdd(cv, y3, a3);
        }
        TO.Store(a0, ref acc, 0);
        if (TC.N > 1) TO.Store(a1, ref acc, w);
        if (TC.N > 2) TO.Store(a2, ref acc, 2 * w);
        if (TC.N > 3) TO.Store(a3, ref acc, 3 * w);
    }

    /// <summary>
    /// A += ZᵀY on the upper triangle: A[i, j] += Σₑ Z[e, i]·Y[e, j] for j ≥ i, where Z and Y are n × k
    /// (row stride k). With Z = diag(w)·Y this is the rank-n update Σₑ wₑ·yₑyₑᵀ; with Z = Y it is a Gram
    /// matrix. Entries below the diagonal inside a diagonal tile may also be written: callers never read the
    /// strict lower triangle.
    /// </summary>
    /// <remarks>A register-blocked micro-kernel: 4 rows of A × up to 4 vectors of columns (<see cref="IVectorOps{TV}.TileVectors"/>,
    /// 16 accumulators with Vector512, 8 with narrower widths) over all n, so each loaded Y vector feeds 4 FMAs and each
    /// broadcast Z value up to 4.</remarks>
    public static void RankUpdateUpper(Span<float> a, int k, ReadOnlySpan<float> z, ReadOnlySpan<float> y, int n)
    {
        if (a.Length < k * k || z.Length < n * k || y.Length < n * k) throw new ArgumentException("RankUpdateUpper needs A of k×k and Z, Y of n×k.");
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i0 = 0;
        for (; i0 + 4 <= k; i0 += 4)
        {
            // From the vector-aligned column at or left of the diagonal (cells left of a row's diagonal are scratch).
            int c = i0 & ~(Widest - 1);
            if (Vector512.IsHardwareAccelerated && TW.Allow512) RankUpdateColumns<Ops512, Vector512<float>>(ref ar, ref zr, ref yr, k, n, i0, ref c);
            if (Vector256.IsHardwareAccelerated && TW.Allow256) RankUpdateColumns<Ops256, Vector256<float>>(ref ar, ref zr, ref yr, k, n, i0, ref c);
            if (Vector128.IsHardwareAccelerated && TW.Allow128) RankUpdateColumns<Ops128, Vector128<float>>(ref ar, ref zr, ref yr, k, n, i0, ref c);
            for (int i = i0; i < i0 + 4; i++) ScalarCells(ref ar, ref zr, ref yr, k, n, i, Math.Max(c, i), k);
        }
        for (; i0 < k; i0++)
        {
            int c = i0 & ~(Widest - 1);
            if (Vector512.IsHardwareAccelerated && TW.Allow512) RankUpdateRow<Ops512, Vector512<float>>(ref ar, ref zr, ref yr, k, n, i0, ref c);
            if (Vector256.IsHardwareAccelerated && TW.Allow256) RankUpdateRow<Ops256, Vector256<float>>(ref ar, ref zr, ref yr, k, n, i0, ref c);
            if (Vector128.IsHardwareAccelerated && TW.Allow128) RankUpdateRow<Ops128, Vector128<float>>(ref ar, ref zr, ref yr, k, n, i0, ref c);
            ScalarCells(ref ar, ref zr, ref yr, k, n, i0, Math.Max(c, i0), k);
        }
    }

    /// <summary>Rows i0..i0+3, the whole vectors of columns from c on, in tiles of up to TileVectors vectors; advances c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RankUpdateColumns<TO, TV>(ref float a, ref float z, ref float y, int k, int n, int i0, ref int c)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count;
        if (TO.TileVectors >= 4)
            for (; c + 4 * w <= k; c += 4 * w) RankUpdateTile<TO, TV, N4>(ref a, ref z, ref y, k, n, i0, c);
        if (TO.TileVectors >= 3 && c + 3 * w <= k) { RankUpdateTile<TO, TV, N3>(ref a, ref z, ref y, k, n, i0, c); c += 3 * w; }
        for (; c + 2 * w <= k; c += 2 * w) RankUpdateTile<TO, TV, N2>(ref a, ref z, ref y, k, n, i0, c);
        if (c + w <= k) { RankUpdateTile<TO, TV, N1>(ref a, ref z, ref y, k, n, i0, c); c += w; }
    }

    /// <summary>A[i0..i0+4, c..c + TC.N vectors) += Σₑ Z[e, i0..i0+4]ᵀ·Y[e, c..]: up to 16 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RankUpdateTile<TO, TV, TC>(ref float a, ref float z, ref float y, int k, int n, int i0, int c)
        where TO : struct, IVectorOps<TV> where TV : struct where TC : struct, IVectorCount
    {
        nuint w = (nuint)TO.Count;
        TV a00 = TO.Zero, a01 = TO.Zero, a02 = TO.Zero, a03 = TO.Zero;
        TV a10 = TO.Zero, a11 = TO.Zero, a12 = TO.Zero, a13 = TO.Zero;
        TV a20 = TO.Zero, a21 = TO.Zero, a22 = TO.Zero, a23 = TO.Zero;
        TV a30 = TO.Zero, a31 = TO.Zero, a32 = TO.Zero, a33 = TO.Zero;
        for (int e = 0; e < n; e++)
        {
            ref float ye = ref Unsafe.Add(ref y, e * k + c);
            ref float ze = ref Unsafe.Add(ref z, e * k + i0);
            var y0 = TO.Load(ref ye, 0);
            var y1 = TC.N > 1 ? TO.Load(ref ye, w) : TO.Zero;
            var y2 = TC.N > 2 ? TO.Load(ref ye, 2 * w) : TO.Zero;
            var y3 = TC.N > 3 ? TO.Load(ref ye, 3 * w) : TO.Zero;
            var s0 = TO.Create(ze);
            var s1 = TO.Create(Unsafe.Add(ref ze, 1));
            var s2 = TO.Create(Unsafe.Add(ref ze, 2));
            var s3 = TO.Create(Unsafe.Add(ref ze, 3));
            a00 = TO.MulAdd(s0, y0, a00);
            a10 = TO.MulAdd(s1, y0, a10);
            a20 = TO.MulAdd(s2, y0, a20);
            a30 = TO.MulAdd(s3, y0, a30);
            if (TC.N > 1)
            {
                a01 = TO.MulAdd(s0, y1, a01);
                a11 = TO.MulAdd(s1, y1, a11);
                a21 = TO.MulAdd(s2, y1, a21);
                a31 = TO.MulAdd(s3, y1, a31);
            }
            if (TC.N > 2)
            {
                a02 = TO.MulAdd(s0, y2, a02);
                a12 = TO.MulAdd(s1, y2, a12);
                a22 = TO.MulAdd(s2, y2, a22);
                a32 = TO.MulAdd(s3, y2, a32);
            }
            if (TC.N > 3)
            {
                a03 = TO.MulAdd(s0, y3, a03);
                a13 = TO.MulAdd(s1, y3, a13);
                a23 = TO.MulAdd(s2, y3, a23);
                a33 = TO.MulAdd(s3, y3, a33);
            }
        }
        AddTo<TO, TV, TC>(ref Unsafe.Add(ref a, i0 * k + c), a00, a01, a02, a03);
        AddTo<TO, TV, TC>(ref Unsafe.Add(ref a, (i0 + 1) * k + c), a10, a11, a12, a13);
        AddTo<TO, TV, TC>(ref Unsafe.Add(ref a, (i0 + 2) * k + c), a20, a21, a22, a23);
        AddTo<TO, TV, TC>(ref Unsafe.Add(ref a, (i0 + 3) * k + c), a30, a31, a32, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TO, TV, TC>(ref float r, TV v0, TV v1, TV v2, TV v3)
        where TO : struct, IVectorOps<TV> where TV : struct where TC : struct, IVectorCount
    {
        nuint w = (nuint)TO.Count;
        TO.Store(TO.Add(TO.Load(ref r, 0), v0), ref r, 0);
        if (TC.N > 1) TO.Store(TO.Add(TO.Load(ref r, w), v1), ref r, w);
        if (TC.N > 2) TO.Store(TO.Add(TO.Load(ref r, 2 * w), v2), ref r, 2 * w);
        if (TC.N > 3) TO.Store(TO.Add(TO.Load(ref r, 3 * w), v3), ref r, 3 * w);
    }

    /// <summary>Row i (one of the last k mod 4), the whole vectors of columns from c on, one vector at a time; advances c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RankUpdateRow<TO, TV>(ref float a, ref float z, ref float y, int k, int n, int i, ref int c)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        for (; c + TO.Count <= k; c += TO.Count)
        {
            var acc = TO.Zero;
            for (int e = 0; e < n; e++)
                acc = TO.MulAdd(TO.Create(Unsafe.Add(ref z, e * k + i)), TO.Load(ref y, (nuint)(e * k + c)), acc);
            ref float dst = ref Unsafe.Add(ref a, i * k + c);
            TO.Store(TO.Add(TO.Load(ref dst, 0), acc), ref dst, 0);
        }
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
    /// In-place Cholesky A = UᵀU of a symmetric positive definite k×k matrix held in the upper triangle. Returns
    /// false when A is not positive definite. The strict lower triangle is scratch.
    /// </summary>
    /// <remarks>
    /// Up-looking, row by row: row i of U is (A[i, i..] − Σⱼ₍ⱼ﹤ᵢ₎ U[j, i]·U[j, i..]) / √d, accumulated in
    /// registers in tiles of up to 4 vectors (two sets each, even and odd j, to halve the FMA chains) from the
    /// vector-aligned column at or left of the diagonal; columns left of the diagonal receive junk and nothing
    /// on or right of it ever reads them.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool CholeskyUpper(Span<float> a, int k)
    {
        if (a.Length < k * k) throw new ArgumentException("CholeskyUpper needs A of k×k.");
        ref float ar = ref MemoryMarshal.GetReference(a);
        for (int i = 0; i < k; i++)
        {
            ref float rowI = ref Unsafe.Add(ref ar, i * k);
            int c0 = i & ~(Widest - 1), c = c0;
            if (Vector512.IsHardwareAccelerated && TW.Allow512) CholeskyColumns<Ops512, Vector512<float>>(ref ar, k, i, ref c);
            if (Vector256.IsHardwareAccelerated && TW.Allow256) CholeskyColumns<Ops256, Vector256<float>>(ref ar, k, i, ref c);
            if (Vector128.IsHardwareAccelerated && TW.Allow128) CholeskyColumns<Ops128, Vector128<float>>(ref ar, k, i, ref c);
            for (int col = Math.Max(c, i); col < k; col++)
            {
                float s = Unsafe.Add(ref rowI, col);
                for (int j = 0; j < i; j++) s -= Unsafe.Add(ref ar, j * k + i) * Unsafe.Add(ref ar, j * k + col);
                Unsafe.Add(ref rowI, col) = s;
            }
            float d = Unsafe.Add(ref rowI, i);
            if (!(d > 0f) || !float.IsFinite(d)) return false;
            float u = MathF.Sqrt(d);
            Scale(1f / u, ref Unsafe.Add(ref rowI, c0), k - c0);
            Unsafe.Add(ref rowI, i) = u;
        }
        return true;
    }

    /// <summary>Row i, the whole vectors of columns from c on, in tiles of up to 4 vectors; advances c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CholeskyColumns<TO, TV>(ref float a, int k, int i, ref int c) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count;
        for (; c + 4 * w <= k; c += 4 * w) CholeskyTile<TO, TV, N4>(ref a, k, i, c);
        switch ((k - c) / w)
        {
            case 3: CholeskyTile<TO, TV, N3>(ref a, k, i, c); c += 3 * w; break;
            case 2: CholeskyTile<TO, TV, N2>(ref a, k, i, c); c += 2 * w; break;
            case 1: CholeskyTile<TO, TV, N1>(ref a, k, i, c); c += w; break;
        }
    }

    /// <summary>A[i, c..c + TC.N vectors) −= Σⱼ₍ⱼ﹤ᵢ₎ U[j, i]·U[j, c..].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CholeskyTile<TO, TV, TC>(ref float a, int k, int i, int c)
        where TO : struct, IVectorOps<TV> where TV : struct where TC : struct, IVectorCount
    {
        nuint w = (nuint)TO.Count;
        ref float rowI = ref Unsafe.Add(ref a, i * k + c);
        var a0 = TO.Load(ref rowI, 0);
        var a1 = TC.N > 1 ? TO.Load(ref rowI, w) : TO.Zero;
        var a2 = TC.N > 2 ? TO.Load(ref rowI, 2 * w) : TO.Zero;
        var a3 = TC.N > 3 ? TO.Load(ref rowI, 3 * w) : TO.Zero;
        TV b0 = TO.Zero, b1 = TO.Zero, b2 = TO.Zero, b3 = TO.Zero;
        int j = 0;
        for (; j + 1 < i; j += 2)
        {
            ref float rj = ref Unsafe.Add(ref a, j * k);
            ref float rn = ref Unsafe.Add(ref rj, k);
            var s = TO.Create(-Unsafe.Add(ref rj, i));
            var t = TO.Create(-Unsafe.Add(ref rn, i));
            ref float xj = ref Unsafe.Add(ref rj, c);
            ref float xn = ref Unsafe.Add(ref rn, c);
            a0 = TO.MulAdd(s, TO.Load(ref xj, 0), a0);
            b0 = TO.MulAdd(t, TO.Load(ref xn, 0), b0);
            if (TC.N > 1)
            {
                a1 = TO.MulAdd(s, TO.Load(ref xj, w), a1);
                b1 = TO.MulAdd(t, TO.Load(ref xn, w), b1);
            }
            if (TC.N > 2)
            {
                a2 = TO.MulAdd(s, TO.Load(ref xj, 2 * w), a2);
                b2 = TO.MulAdd(t, TO.Load(ref xn, 2 * w), b2);
            }
            if (TC.N > 3)
            {
                a3 = TO.MulAdd(s, TO.Load(ref xj, 3 * w), a3);
                b3 = TO.MulAdd(t, TO.Load(ref xn, 3 * w), b3);
            }
        }
        if (j < i)
        {
            ref float rj = ref Unsafe.Add(ref a, j * k);
            var s = TO.Create(-Unsafe.Add(ref rj, i));
            ref float xj = ref Unsafe.Add(ref rj, c);
            a0 = TO.MulAdd(s, TO.Load(ref xj, 0), a0);
            if (TC.N > 1) a1 = TO.MulAdd(s, TO.Load(ref xj, w), a1);
            if (TC.N > 2) a2 = TO.MulAdd(s, TO.Load(ref xj, 2 * w), a2);
            if (TC.N > 3) a3 = TO.MulAdd(s, TO.Load(ref xj, 3 * w), a3);
        }
        TO.Store(TO.Add(a0, b0), ref rowI, 0);
        if (TC.N > 1) TO.Store(TO.Add(a1, b1), ref rowI, w);
        if (TC.N > 2) TO.Store(TO.Add(a2, b2), ref rowI, 2 * w);
        if (TC.N > 3) TO.Store(TO.Add(a3, b3), ref rowI, 3 * w);
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
