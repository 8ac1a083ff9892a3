using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BatchRecs.Core.Als;

namespace BatchRecs.Core.Index;

/// <summary>
/// The micro-kernel of every top-N path: a tile of up to 8 users against a range of item panels. A panel's 16
/// slots are scanned in slices of one vector (one slice with Vector512, two with Vector256, four with Vector128);
/// for each slice it keeps 8 users' scores in registers (8 accumulators, the loop over the k dimensions inside: one
/// item load and 8 broadcast FMAs per dimension), compares each user's scores with that user's current threshold in
/// one SIMD compare, and only when some score can enter a top N does it leave registers and go to the user's
/// <see cref="CandidateBuffer"/>. Scores never reach memory otherwise, so no users × items matrix exists.
/// </summary>
/// <remarks>
/// Every path computes each score exactly as <see cref="ScoreKey.Dot"/> (one fused multiply-add per dimension, in
/// dimension order), so all widths return the same lists. Vector128 is used only where the hardware has a fused
/// multiply-add (Arm64, x86 with FMA3, which always has Vector256 anyway); emulated, it is slower than the scalar path.
/// </remarks>
internal static unsafe class TileScanner
{
    public const int TileUsers = 8;

    /// <summary>
    /// Scans panels [<paramref name="p0"/>, <paramref name="p1"/>) for the <paramref name="users"/> (≤ 8) users whose
    /// vectors (panels.Dim floats each) start at <paramref name="rows"/>[j], offering candidates to <paramref name="buffers"/>[j].
    /// All 8 pointers must be valid: pad with a zero vector. User values are broadcast straight from their rows
    /// (one embedded-broadcast FMA per user and dimension), so a tile needs no packing.
    /// </summary>
    public static void Scan(float** rows, int users, PackedPanels panels, int p0, int p1,
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions) =>
        Scan<HardwareWidths>(rows, users, panels, p0, p1, buffers, exclusions);

    /// <summary><see cref="Scan"/> on the widest width the CPU offers and <typeparamref name="TW"/> allows (tests run each).</summary>
    internal static void Scan<TW>(float** rows, int users, PackedPanels panels, int p0, int p1,
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions) where TW : struct, IVectorWidths
    {
        float* thr = stackalloc float[TileUsers];
        for (int j = 0; j < TileUsers; j++) thr[j] = j < users ? buffers[j].ThresholdScore : float.PositiveInfinity;
        if (Vector512.IsHardwareAccelerated && TW.Allow512) ScanSlices<Ops512, Vector512<float>>(rows, thr, users, panels, p0, p1, buffers, exclusions);
        else if (Vector256.IsHardwareAccelerated && TW.Allow256) ScanSlices<Ops256, Vector256<float>>(rows, thr, users, panels, p0, p1, buffers, exclusions);
        else if (Vector128.IsHardwareAccelerated && TW.Allow128 && (Ops128.HasFusedMultiplyAdd || TW.AllowEmulatedFusedMultiplyAdd))
            ScanSlices<Ops128, Vector128<float>>(rows, thr, users, panels, p0, p1, buffers, exclusions);
        else ScanScalar(rows, thr, users, panels, p0, p1, buffers, exclusions);
    }

    private static void ScanSlices<TO, TV>(float** rows, float* thr, int users, PackedPanels panels, int p0, int p1,
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, dim = panels.Dim;
        float* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        float* scores = stackalloc float[TileUsers * TO.Count];
        float* basePtr = panels.Pointer;
        for (int p = p0; p < p1; p++)
        {
            for (int h = 0; h < PackedPanels.Width; h += w)
            {
                float* v = basePtr + (long)p * panels.PanelFloats + h;
                TV a0 = TO.Zero, a1 = TO.Zero, a2 = TO.Zero, a3 = TO.Zero, a4 = TO.Zero, a5 = TO.Zero, a6 = TO.Zero, a7 = TO.Zero;
                for (int d = 0; d < dim; d++, v += PackedPanels.Width)
                {
                    var x = TO.Load(ref *v, 0);
                    a0 = TO.FusedMultiplyAdd(x, TO.Create(r0[d]), a0);
                    a1 = TO.FusedMultiplyAdd(x, TO.Create(r1[d]), a1);
                    a2 = TO.FusedMultiplyAdd(x, TO.Create(r2[d]), a2);
                    a3 = TO.FusedMultiplyAdd(x, TO.Create(r3[d]), a3);
                    a4 = TO.FusedMultiplyAdd(x, TO.Create(r4[d]), a4);
                    a5 = TO.FusedMultiplyAdd(x, TO.Create(r5[d]), a5);
                    a6 = TO.FusedMultiplyAdd(x, TO.Create(r6[d]), a6);
                    a7 = TO.FusedMultiplyAdd(x, TO.Create(r7[d]), a7);
                }
                var hit = TO.Or(TO.Or(TO.Or(TO.GreaterThanOrEqual(a0, TO.Create(thr[0])), TO.GreaterThanOrEqual(a1, TO.Create(thr[1]))),
                                      TO.Or(TO.GreaterThanOrEqual(a2, TO.Create(thr[2])), TO.GreaterThanOrEqual(a3, TO.Create(thr[3])))),
                                TO.Or(TO.Or(TO.GreaterThanOrEqual(a4, TO.Create(thr[4])), TO.GreaterThanOrEqual(a5, TO.Create(thr[5]))),
                                      TO.Or(TO.GreaterThanOrEqual(a6, TO.Create(thr[6])), TO.GreaterThanOrEqual(a7, TO.Create(thr[7])))));
                if (TO.IsZero(hit)) continue;
                ref float s0 = ref *scores;
                TO.Store(a0, ref s0, 0); TO.Store(a1, ref s0, (nuint)w); TO.Store(a2, ref s0, (nuint)(2 * w)); TO.Store(a3, ref s0, (nuint)(3 * w));
                TO.Store(a4, ref s0, (nuint)(4 * w)); TO.Store(a5, ref s0, (nuint)(5 * w)); TO.Store(a6, ref s0, (nuint)(6 * w)); TO.Store(a7, ref s0, (nuint)(7 * w));
                int slot0 = p * PackedPanels.Width + h;
                uint lanes = panels.LaneMasks[p] >> h;
                for (int j = 0; j < users; j++)
                {
                    float* s = scores + j * w;
                    uint mask = TO.ExtractMostSignificantBits(TO.GreaterThanOrEqual(TO.Load(ref *s, 0), TO.Create(thr[j]))) & lanes;
                    if (mask != 0) thr[j] = Offer(s, mask, slot0, panels.SlotIds, buffers[j], exclusions);
                }
            }
        }
    }

    private static void ScanScalar(float** rows, float* thr, int users, PackedPanels panels, int p0, int p1,
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions)
    {
        int dim = panels.Dim;
        float* basePtr = panels.Pointer;
        for (int p = p0; p < p1; p++)
        {
            for (int t = 0; t < PackedPanels.Width; t++)
            {
                float* v = basePtr + (long)p * panels.PanelFloats + t;
                for (int j = 0; j < users; j++)
                {
                    float s = 0f;
                    for (int d = 0; d < dim; d++) s = MathF.FusedMultiplyAdd(v[d * PackedPanels.Width], rows[j][d], s);
                    if (s >= thr[j] && panels.SlotIds[p * PackedPanels.Width + t] >= 0) thr[j] = Offer(&s, 1u, p * PackedPanels.Width + t, panels.SlotIds, buffers[j], exclusions);
                }
            }
        }
    }

    /// <summary>Offers the lanes set in <paramref name="mask"/> (never padding); returns the buffer's new threshold.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Offer(float* scores, uint mask, int slot0, int[] slotIds, CandidateBuffer buffer, ItemExclusions exclusions)
    {
        while (mask != 0)
        {
            int t = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            buffer.Offer(scores[t], slotIds[slot0 + t], exclusions);
        }
        return buffer.ThresholdScore;
    }
}
