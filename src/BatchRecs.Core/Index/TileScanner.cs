using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BatchRecs.Core.Index;

/// <summary>
/// The micro-kernel of every top-N path: a tile of up to 8 users against a range of item panels. For each
/// panel it keeps 8 users × 16 items of scores in registers (8 Vector512 accumulators, the loop over the k
/// dimensions inside: one item load and 8 broadcast FMAs per dimension), compares each user's 16 scores with
/// that user's current threshold in one SIMD compare, and only when some score can enter a top N does it leave
/// registers and go to the user's <see cref="CandidateBuffer"/>. Scores never reach memory otherwise, so no
/// users × items matrix exists. Order: Vector512, then Vector256 (two half panels), then scalar.
/// </summary>
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
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions)
    {
        float* thr = stackalloc float[TileUsers];
        for (int j = 0; j < TileUsers; j++) thr[j] = j < users ? buffers[j].ThresholdScore : float.PositiveInfinity;
        if (Vector512.IsHardwareAccelerated) Scan512(rows, thr, users, panels, p0, p1, buffers, exclusions);
        else if (Vector256.IsHardwareAccelerated) Scan256(rows, thr, users, panels, p0, p1, buffers, exclusions);
        else ScanScalar(rows, thr, users, panels, p0, p1, buffers, exclusions);
    }

    private static void Scan512(float** rows, float* thr, int users, PackedPanels panels, int p0, int p1,
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions)
    {
        int dim = panels.Dim;
        float* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        float* scores = stackalloc float[TileUsers * PackedPanels.Width];
        float* basePtr = panels.Pointer;
        for (int p = p0; p < p1; p++)
        {
            float* v = basePtr + (long)p * panels.PanelFloats;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default,
                             a4 = default, a5 = default, a6 = default, a7 = default;
            for (int d = 0; d < dim; d++, v += PackedPanels.Width)
            {
                var x = Vector512.LoadAligned(v);
                a0 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r0[d]), a0);
                a1 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r1[d]), a1);
                a2 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r2[d]), a2);
                a3 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r3[d]), a3);
                a4 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r4[d]), a4);
                a5 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r5[d]), a5);
                a6 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r6[d]), a6);
                a7 = Vector512.FusedMultiplyAdd(x, Vector512.Create(r7[d]), a7);
            }
            var hit = Vector512.GreaterThanOrEqual(a0, Vector512.Create(thr[0]))
                    | Vector512.GreaterThanOrEqual(a1, Vector512.Create(thr[1]))
                    | Vector512.GreaterThanOrEqual(a2, Vector512.Create(thr[2]))
                    | Vector512.GreaterThanOrEqual(a3, Vector512.Create(thr[3]))
                    | Vector512.GreaterThanOrEqual(a4, Vector512.Create(thr[4]))
                    | Vector512.GreaterThanOrEqual(a5, Vector512.Create(thr[5]))
                    | Vector512.GreaterThanOrEqual(a6, Vector512.Create(thr[6]))
                    | Vector512.GreaterThanOrEqual(a7, Vector512.Create(thr[7]));
            if (hit == Vector512<float>.Zero) continue;
            a0.Store(scores); a1.Store(scores + 16); a2.Store(scores + 32); a3.Store(scores + 48);
            a4.Store(scores + 64); a5.Store(scores + 80); a6.Store(scores + 96); a7.Store(scores + 112);
            int slot0 = p * PackedPanels.Width;
            uint lanes = panels.LaneMasks[p];
            for (int j = 0; j < users; j++)
            {
                float* s = scores + j * PackedPanels.Width;
                uint mask = (uint)Vector512.GreaterThanOrEqual(Vector512.Load(s), Vector512.Create(thr[j])).ExtractMostSignificantBits() & lanes;
                if (mask != 0) thr[j] = Offer(s, mask, slot0, panels.SlotIds, buffers[j], exclusions);
            }
        }
    }

    private static void Scan256(float** rows, float* thr, int users, PackedPanels panels, int p0, int p1,
        ReadOnlySpan<CandidateBuffer> buffers, ItemExclusions exclusions)
    {
        const int half = 8;
        int dim = panels.Dim;
        float* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        float* scores = stackalloc float[TileUsers * half];
        float* basePtr = panels.Pointer;
        for (int p = p0; p < p1; p++)
        {
            for (int h = 0; h < PackedPanels.Width; h += half)
            {
                float* v = basePtr + (long)p * panels.PanelFloats + h;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default,
                                 a4 = default, a5 = default, a6 = default, a7 = default;
                for (int d = 0; d < dim; d++, v += PackedPanels.Width)
                {
                    var x = Vector256.Load(v);
                    a0 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r0[d]), a0);
                    a1 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r1[d]), a1);
                    a2 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r2[d]), a2);
                    a3 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r3[d]), a3);
                    a4 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r4[d]), a4);
                    a5 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r5[d]), a5);
                    a6 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r6[d]), a6);
                    a7 = Vector256.FusedMultiplyAdd(x, Vector256.Create(r7[d]), a7);
                }
                var hit = Vector256.GreaterThanOrEqual(a0, Vector256.Create(thr[0]))
                        | Vector256.GreaterThanOrEqual(a1, Vector256.Create(thr[1]))
                        | Vector256.GreaterThanOrEqual(a2, Vector256.Create(thr[2]))
                        | Vector256.GreaterThanOrEqual(a3, Vector256.Create(thr[3]))
                        | Vector256.GreaterThanOrEqual(a4, Vector256.Create(thr[4]))
                        | Vector256.GreaterThanOrEqual(a5, Vector256.Create(thr[5]))
                        | Vector256.GreaterThanOrEqual(a6, Vector256.Create(thr[6]))
                        | Vector256.GreaterThanOrEqual(a7, Vector256.Create(thr[7]));
                if (hit == Vector256<float>.Zero) continue;
                a0.Store(scores); a1.Store(scores + 8); a2.Store(scores + 16); a3.Store(scores + 24);
                a4.Store(scores + 32); a5.Store(scores + 40); a6.Store(scores + 48); a7.Store(scores + 56);
                int slot0 = p * PackedPanels.Width + h;
                uint lanes = panels.LaneMasks[p] >> h;
                for (int j = 0; j < users; j++)
                {
                    float* s = scores + j * half;
                    uint mask = Vector256.GreaterThanOrEqual(Vector256.Load(s), Vector256.Create(thr[j])).ExtractMostSignificantBits() & lanes;
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
