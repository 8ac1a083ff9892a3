namespace BatchRecs.Core.Index;

/// <summary>
/// The one definition of a score and of "better" shared by every top-N path (scalar reference, blocked exact
/// search, IVF scan), so that they agree bit for bit.
/// </summary>
/// <remarks>
/// A score is the inner product accumulated in dimension order with one fused multiply-add per dimension,
/// starting from +0: <c>s = fma(v[k−1], u[k−1], … fma(v[0], u[0], 0))</c>. The SIMD kernels compute exactly this
/// per lane, so no tolerance is needed when comparing paths.
/// <para>
/// A (score, item) pair is packed into one 64-bit key whose unsigned order is the ranking order: the high half
/// is the score's bits mapped to an order-preserving unsigned integer, the low half is <c>~item</c> so that, at
/// equal scores, the lower item index ranks higher. Example: (2.0, item 7) &gt; (2.0, item 9) &gt; (1.5, item 0).
/// </para>
/// </remarks>
internal static class ScoreKey
{
    /// <summary>The canonical score: sequential fused multiply-add over the dimensions.</summary>
    public static float Dot(ReadOnlySpan<float> u, ReadOnlySpan<float> v)
    {
        float s = 0f;
        for (int d = 0; d < u.Length; d++) s = MathF.FusedMultiplyAdd(v[d], u[d], s);
        return s;
    }

    public static ulong Encode(float score, int item)
    {
        uint b = BitConverter.SingleToUInt32Bits(score + 0f); // + 0f turns −0 into +0: equal scores, equal keys
        uint o = (b & 0x8000_0000u) != 0 ? ~b : b | 0x8000_0000u;
        return ((ulong)o << 32) | (uint)~item;
    }

    public static float Score(ulong key)
    {
        uint o = (uint)(key >> 32);
        uint b = (o & 0x8000_0000u) != 0 ? o & 0x7FFF_FFFFu : ~o;
        return BitConverter.UInt32BitsToSingle(b);
    }

    public static int Item(ulong key) => ~(int)(uint)key;

    /// <summary>Reorders <paramref name="keys"/> so that its first <paramref name="n"/> entries are the n largest (in any order).</summary>
    /// <remarks>Hoare quickselect with a median-of-three pivot; keys are distinct (one per item), so it always terminates.</remarks>
    public static void SelectLargest(Span<ulong> keys, int n)
    {
        if (n <= 0 || n >= keys.Length) return;
        int target = n - 1, lo = 0, hi = keys.Length - 1;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            ulong a = keys[lo], b = keys[mid], c = keys[hi];
            ulong pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] > pivot) i++;
                while (keys[j] < pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return;
        }
    }
}
