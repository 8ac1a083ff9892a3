namespace BatchRecs.Core.Data;

/// <summary>The SplitMix64 mixer (Steele, Lea &amp; Flood 2014): a stateless, well-distributed 64-bit hash, used for
/// seeded choices that must not depend on order or thread (row initialization, random splits).</summary>
public static class SplitMix64
{
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
