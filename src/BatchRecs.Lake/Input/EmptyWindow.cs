using System.Globalization;

namespace BatchRecs.Lake.Input;

/// <summary>
/// Explains a run window without events from what was read: the dates the input's events do have and, for an INT64
/// epoch, the <c>epoch_unit</c> that would put them in the window (milliseconds read as seconds land in year 58,000).
/// </summary>
public static class EmptyWindow
{
    private static readonly (string Unit, string Name, long PerDay)[] Units =
        [("s", "seconds", 86_400), ("ms", "milliseconds", 86_400_000), ("us", "microseconds", 86_400_000_000), ("ns", "nanoseconds", 86_400_000_000_000)];

    private const long MicrosPerDay = 86_400_000_000;

    public static string Explain(ReadStats read, ReadWindow window, string epochUnit)
    {
        string head = $"no events in the run's window [{Date(window.FirstDay)}, {Date(window.RunDate)})";
        var times = read.Times ?? ObservedTimes.None;
        if (times.Timestamps is null && times.Epochs is null)
            return $"{head}: no rows were read ({read.Files.Count} files read, {read.Skipped.Count} skipped as bad, {read.PrunedFiles} outside the window).";
        var (w0, w1) = (Day(window.FirstDay), Day(window.RunDate));
        var parts = new List<string>();
        string hint = "; check the run date and lookback_days";
        if (times.Timestamps is { } ts)
            parts.Add($"TIMESTAMP event_time values from {Civil(FloorDiv(ts.Min, MicrosPerDay))} to {Civil(FloorDiv(ts.Max, MicrosPerDay))}");
        if (times.Epochs is { } ep)
        {
            var current = Units.FirstOrDefault(u => u.Unit == epochUnit);
            if (current.Unit is null) current = Units[0];
            (long Lo, long Hi) As((string, string, long PerDay) u) => (FloorDiv(ep.Min, u.PerDay), FloorDiv(ep.Max, u.PerDay));
            long Gap((string, string, long) u) { var (lo, hi) = As(u); return hi < w0 ? w0 - hi : lo >= w1 ? lo - w1 + 1 : 0; }
            var (lo, hi) = As(current);
            parts.Add($"INT64 event_time values from {Civil(lo)} to {Civil(hi)} taken as {current.Name} (epoch_unit={current.Unit})");
            var best = Units.MinBy(Gap);
            if (Gap(best) < Gap(current))
            {
                var (blo, bhi) = As(best);
                hint = $"; as {best.Name} they are {Civil(blo)} … {Civil(bhi)}: are the INT64 event_time values in {best.Name}? set epoch_unit={best.Unit}";
            }
        }
        string zone = window.Zone is { } z && z.Id != TimeZoneInfo.Utc.Id ? " (dates in UTC)" : "";
        return $"{head}: the {read.RowsRead:N0} rows read have {string.Join(" and ", parts)}{zone}{hint}.";
    }

    private static long Day(DateOnly d) => d.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static long FloorDiv(long a, long b) => a / b - (a % b < 0 ? 1 : 0);

    /// <summary>The proleptic Gregorian date of a day since 1970-01-01, for any year (DateOnly stops at 9999).</summary>
    /// <remarks>H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", civil_from_days.</remarks>
    internal static string Civil(long days)
    {
        long z = days + 719_468;
        long era = (z >= 0 ? z : z - 146_096) / 146_097;
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        long d = doy - (153 * mp + 2) / 5 + 1;
        long m = mp < 10 ? mp + 3 : mp - 9;
        long y = yoe + era * 400 + (m <= 2 ? 1 : 0);
        return string.Create(CultureInfo.InvariantCulture, $"{y:0000}-{m:00}-{d:00}");
    }
}
