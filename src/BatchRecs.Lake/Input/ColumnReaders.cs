using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Input;

/// <summary>Decoders for the input contract's columns, one row group at a time, with located errors.</summary>
internal static class ColumnReaders
{
    internal readonly record struct Location(string File, int RowGroup, string Column = "")
    {
        public LakeInputException Error(string what, int row) =>
            new($"{File}: column '{Column}', row group {RowGroup}, row {row}: {what}.", File, Column);
    }

    /// <summary>Parquet.Net reports STRING columns as string or, by default, as ReadOnlyMemory&lt;char&gt;.</summary>
    public static bool IsString(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>);

    /// <summary>Reads an id column; only rows with <paramref name="keep"/> set are interned (others get −1), but every row is checked.</summary>
    public static async Task<int[]> ReadIdsAsync(ParquetRowGroupReader rg, DataField f, int n, IdCollector ids, bool[] keep, Location at, CancellationToken ct)
    {
        var result = new int[n];
        var t = f.ClrType;
        if (IsString(t))
        {
            var s = new string?[n];
            await rg.ReadAsync(f, s.AsMemory(), null, ct);
            for (int r = 0; r < n; r++)
                result[r] = s[r] is { } id ? (keep[r] ? ids.Add(id) : -1) : throw at.Error("null id", r);
        }
        else if (t == typeof(long)) await ReadIntegersAsync<long>(rg, f, n, x => x, result, ids, keep, at, ct);
        else if (t == typeof(int)) await ReadIntegersAsync<int>(rg, f, n, x => x, result, ids, keep, at, ct);
        else if (t == typeof(uint)) await ReadIntegersAsync<uint>(rg, f, n, x => x, result, ids, keep, at, ct);
        else if (t == typeof(short)) await ReadIntegersAsync<short>(rg, f, n, x => x, result, ids, keep, at, ct);
        else throw at.Error($"unsupported id type {t.Name}", 0);
        return result;
    }

    private static async Task ReadIntegersAsync<T>(ParquetRowGroupReader rg, DataField f, int n, Func<T, long> widen,
        int[] result, IdCollector ids, bool[] keep, Location at, CancellationToken ct) where T : struct
    {
        if (f.IsNullable)
        {
            var a = new T?[n];
            await rg.ReadAsync(f, a.AsMemory(), null, ct);
            for (int r = 0; r < n; r++) result[r] = a[r] is { } x ? (keep[r] ? ids.Add(widen(x)) : -1) : throw at.Error("null id", r);
        }
        else
        {
            var a = new T[n];
            await rg.ReadAsync(f, a.AsMemory(), null, ct);
            for (int r = 0; r < n; r++) result[r] = keep[r] ? ids.Add(widen(a[r])) : -1;
        }
    }

    /// <summary>
    /// Reads <c>event_time</c> as Unix microseconds (an epoch beyond ±292,000 years saturates, so it is outside any window
    /// rather than wrapped into one), with the range of the values as stored (microseconds for a TIMESTAMP, the raw
    /// integers for an epoch; the caller knows which).
    /// </summary>
    public static async Task<(long[] Micros, TimeRange? Stored)> ReadTimesAsync(ParquetRowGroupReader rg, DataField f, int n, string epochUnit,
        Location at, CancellationToken ct)
    {
        var t = f.ClrType;
        var result = new long[n];
        long min = long.MaxValue, max = long.MinValue;
        if (t == typeof(DateTime) || t == typeof(DateTimeOffset))
        {
            if (t == typeof(DateTime))
            {
                var a = await ReadNullableAsync<DateTime>(rg, f, n, ct);
                for (int r = 0; r < n; r++)
                    result[r] = a[r] is { } d ? (d.Ticks - DateTime.UnixEpoch.Ticks) / 10 : throw at.Error("null event_time", r);
            }
            else
            {
                var a = await ReadNullableAsync<DateTimeOffset>(rg, f, n, ct);
                for (int r = 0; r < n; r++)
                    result[r] = a[r] is { } d ? (d.UtcTicks - DateTime.UnixEpoch.Ticks) / 10 : throw at.Error("null event_time", r);
            }
            if (n > 0) (min, max) = (result.Min(), result.Max()); // vectorized
        }
        else if (t == typeof(long) || t == typeof(int))
        {
            long scale = epochUnit switch { "s" => 1_000_000, "ms" => 1_000, "us" => 1, "ns" => -1_000, _ => throw at.Error($"epoch unit '{epochUnit}' is not s, ms, us or ns", 0) };
            var raw = t == typeof(long) ? await ReadNullableAsync<long>(rg, f, n, ct)
                : (await ReadNullableAsync<int>(rg, f, n, ct)).Select(x => (long?)x).ToArray();
            for (int r = 0; r < n; r++)
            {
                if (raw[r] is not { } x) throw at.Error("null event_time", r);
                min = Math.Min(min, x); max = Math.Max(max, x);
                result[r] = scale < 0 ? x / -scale
                    : x > long.MaxValue / scale ? long.MaxValue : x < long.MinValue / scale ? long.MinValue : x * scale;
            }
        }
        else throw at.Error($"unsupported type {t.Name}; event_time must be a TIMESTAMP or an INT64 epoch", 0);
        return (result, n > 0 ? new TimeRange(min, max) : null);
    }

    public static async Task<float[]> ReadValuesAsync(ParquetRowGroupReader rg, DataField f, int n, Location at, CancellationToken ct)
    {
        var t = f.ClrType;
        double?[] a;
        if (t == typeof(double)) a = await ReadNullableAsync<double>(rg, f, n, ct);
        else if (t == typeof(float)) a = (await ReadNullableAsync<float>(rg, f, n, ct)).Select(x => (double?)x).ToArray();
        else if (t == typeof(long)) a = (await ReadNullableAsync<long>(rg, f, n, ct)).Select(x => (double?)x).ToArray();
        else if (t == typeof(int)) a = (await ReadNullableAsync<int>(rg, f, n, ct)).Select(x => (double?)x).ToArray();
        else throw at.Error($"unsupported type {t.Name}; value must be numeric (DOUBLE, FLOAT, INT64 or INT32)", 0);
        var result = new float[n];
        for (int r = 0; r < n; r++)
        {
            double x = a[r] ?? 1.0; // a missing value counts as one event
            if (!double.IsFinite(x) || x < 0) throw at.Error($"value {x} is not a finite number ≥ 0", r);
            result[r] = (float)x;
        }
        return result;
    }

    public static async Task ApplyEventWeightsAsync(ParquetRowGroupReader rg, DataField f, float[] values, EventRules rules, Location at, CancellationToken ct)
    {
        if (!IsString(f.ClrType)) throw at.Error($"unsupported type {f.ClrType.Name}; event_type must be STRING", 0);
        var s = new string?[values.Length];
        await rg.ReadAsync(f, s.AsMemory(), null, ct);
        for (int r = 0; r < values.Length; r++)
        {
            float w = s[r] is { } type && rules.EventWeights is not null && rules.EventWeights.TryGetValue(type, out var x) ? x : rules.DefaultEventWeight;
            values[r] *= w;
        }
    }

    private static async Task<T?[]> ReadNullableAsync<T>(ParquetRowGroupReader rg, DataField f, int n, CancellationToken ct) where T : struct
    {
        var result = new T?[n];
        if (f.IsNullable)
        {
            await rg.ReadAsync(f, result.AsMemory(), null, ct);
        }
        else
        {
            var a = new T[n];
            await rg.ReadAsync(f, a.AsMemory(), null, ct);
            for (int r = 0; r < n; r++) result[r] = a[r];
        }
        return result;
    }
}
