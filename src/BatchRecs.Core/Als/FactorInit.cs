using BatchRecs.Core.Data;

namespace BatchRecs.Core.Als;

/// <summary>
/// Deterministic random starting factors. Row r's values depend only on (seed, side, r), never on
/// thread or block layout, which is one half of the bit-identical-factors guarantee.
/// </summary>
public static class FactorInit
{
    public static float[] Random(int rows, int k, ulong seed, Side side, float scale = 0.01f)
    {
        var f = new float[rows * k];
        for (int r = 0; r < rows; r++) FillRow(f.AsSpan(r * k, k), seed, side, r, scale);
        return f;
    }

    public static void FillRow(Span<float> row, ulong seed, Side side, long index, float scale = 0.01f)
    {
        ulong state = SplitMix64.Mix(seed ^ ((ulong)side + 1) * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xD1B54A32D192ED03UL);
        for (int f = 0; f < row.Length; f++)
        {
            state = SplitMix64.Mix(state);
            // 24 random bits → [0, 1), as implicit's rand(…) · 0.01 start.
            row[f] = (state >> 40) * (1f / (1 << 24)) * scale;
        }
    }
}
