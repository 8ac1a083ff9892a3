namespace BatchRecs.Lake.Input;

/// <summary>An inclusive range of 64-bit values.</summary>
public readonly record struct TimeRange(long Min, long Max)
{
    public TimeRange Union(TimeRange other) => new(Math.Min(Min, other.Min), Math.Max(Max, other.Max));
}

/// <summary>
/// The range of <c>event_time</c> over every row read (inside the window or not), kept to explain a window that came
/// out empty: TIMESTAMP columns as Unix microseconds, epoch columns as their raw integers (their unit is the question).
/// </summary>
public sealed record ObservedTimes(TimeRange? Timestamps, TimeRange? Epochs)
{
    public static readonly ObservedTimes None = new(null, null);

    public ObservedTimes Union(ObservedTimes other) => new(Union(Timestamps, other.Timestamps), Union(Epochs, other.Epochs));

    public ObservedTimes WithTimestamps(TimeRange r) => this with { Timestamps = Union(Timestamps, r) };

    public ObservedTimes WithEpochs(TimeRange r) => this with { Epochs = Union(Epochs, r) };

    private static TimeRange? Union(TimeRange? a, TimeRange? b) => a is { } x ? (b is { } y ? x.Union(y) : x) : b;
}
