using BatchRecs.Core.Errors;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// Which run dates a run accepts. A run date names the day whose data ends the window and keys what is published;
/// a mistyped one (a year off) must fail before anything is read or deleted.
/// </summary>
public static class RunDates
{
    /// <summary>The earliest run date: epoch times before it are not event times.</summary>
    public static readonly DateOnly Earliest = new(1970, 1, 2);

    /// <summary>
    /// Checks <paramref name="runDate"/> against <paramref name="today"/> (the job's time zone): not before
    /// <see cref="Earliest"/>, and at most one day ahead unless <paramref name="allowFuture"/> (<c>--allow-future-date</c>).
    /// </summary>
    public static void Check(DateOnly runDate, DateOnly today, bool allowFuture)
    {
        if (runDate < Earliest)
            throw new BadInputException($"run date {runDate:yyyy-MM-dd} is before {Earliest:yyyy-MM-dd}; give the day as YYYY-MM-DD.");
        if (!allowFuture && runDate > today.AddDays(1))
            throw new BadInputException($"run date {runDate:yyyy-MM-dd} is {runDate.DayNumber - today.DayNumber} days after today ({today:yyyy-MM-dd} in the job's time zone); " +
                "if that is meant, pass --allow-future-date.");
    }

    /// <summary>Today in <paramref name="zone"/>.</summary>
    public static DateOnly Today(TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTime.UtcNow, zone));
}
