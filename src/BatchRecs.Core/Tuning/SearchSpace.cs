using System.Globalization;

namespace BatchRecs.Core.Tuning;

/// <summary>One searched setting: a numeric range (log or linear, integer or real) or a set of choices.</summary>
public sealed record SearchDimension(string Key, double Min = 0, double Max = 0, bool Log = false, bool Integer = false, string[]? Choices = null)
{
    /// <summary>Draws a value as the setting's text, from a uniform u in [0, 1).</summary>
    public string Sample(double u)
    {
        if (Choices is { } c) return c[Math.Min(c.Length - 1, (int)(u * c.Length))];
        double v = Log ? Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min))) : Min + u * (Max - Min);
        return Integer
            ? ((long)Math.Round(Log ? Math.Exp(Math.Round(Math.Log(v) / Math.Log(2)) * Math.Log(2)) : v)).ToString(CultureInfo.InvariantCulture) // integers on a log scale: powers of two
            : v.ToString("G4", CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The settings a tuning searches, each on the scale it belongs on: <c>alpha</c> and <c>regularization</c> log-uniform,
/// <c>factors</c> powers of two, <c>confidence</c> a choice, <c>iterations</c> linear.
/// </summary>
public sealed record SearchSpace(IReadOnlyList<SearchDimension> Dimensions)
{
    public static SearchSpace Default { get; } = new([
        new("alpha", 0.1, 100, Log: true),
        new("regularization", 0.001, 100, Log: true),
        new("factors", 16, 128, Log: true, Integer: true),
        new("confidence", Choices: ["linear", "log"]),
        new("iterations", 5, 20, Integer: true),
    ]);

    /// <summary>The number of distinct settings when every dimension is a choice, else null.</summary>
    public long? GridSize => Dimensions.All(d => d.Choices is not null) ? Dimensions.Aggregate(1L, (n, d) => n * d.Choices!.Length) : null;

    /// <summary>
    /// Seeded, deterministic draws: trial t's values depend only on (seed, t, dimension). A finite space (choices only)
    /// is walked without repeats in a seeded order, so a budget at least its size covers it all.
    /// </summary>
    public IReadOnlyDictionary<string, string> Draw(ulong seed, int trial)
    {
        if (GridSize is { } size)
        {
            // A seeded permutation of the grid: trial t → cell (t·step + offset) mod size, step coprime to size.
            long step = Math.Max(1, (long)(Data.SplitMix64.Mix(seed) % (ulong)size));
            while (Gcd(step, size) != 1) step++;
            long cell = ((long)trial % size * step + (long)(Data.SplitMix64.Mix(seed ^ 1) % (ulong)size)) % size;
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var dim in Dimensions)
            {
                d[dim.Key] = dim.Choices![cell % dim.Choices.Length];
                cell /= dim.Choices.Length;
            }
            return d;
        }
        return DrawRandom(seed, trial);
    }

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    private IReadOnlyDictionary<string, string> DrawRandom(ulong seed, int trial)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int j = 0; j < Dimensions.Count; j++)
        {
            ulong h = Data.SplitMix64.Mix(seed ^ ((ulong)trial << 20) ^ (ulong)j * 0x9E3779B97F4A7C15UL);
            d[Dimensions[j].Key] = Dimensions[j].Sample((h >> 11) * (1.0 / (1UL << 53)));
        }
        return d;
    }
}
