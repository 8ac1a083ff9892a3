namespace BatchRecs.Lake.Input;

/// <summary>
/// The events a run reads: run date D reads event dates in [D − lookback, D), dates taken in
/// <see cref="Zone"/> (UTC by default). Partitions outside the window are never opened.
/// </summary>
public sealed record ReadWindow(DateOnly RunDate, int LookbackDays, TimeZoneInfo? Zone = null)
{
    public DateOnly FirstDay => RunDate.AddDays(-LookbackDays);

    public bool ContainsDay(DateOnly day) => day >= FirstDay && day < RunDate;

    /// <summary>Window bounds as Unix microseconds [start, end).</summary>
    public (long Start, long End) Micros()
    {
        var zone = Zone ?? TimeZoneInfo.Utc;
        long ToMicros(DateOnly d)
        {
            var local = d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
            var offset = zone.GetUtcOffset(local);
            return new DateTimeOffset(local, offset).ToUnixTimeMilliseconds() * 1000;
        }
        return (ToMicros(FirstDay), ToMicros(RunDate));
    }
}
