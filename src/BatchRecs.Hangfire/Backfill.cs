using BatchRecs.Core.Errors;
using System.Globalization;
using System.Linq.Expressions;
using BatchRecs.Engine.Settings;
using Hangfire;
using Hangfire.States;

namespace BatchRecs.Hangfire;

/// <summary>
/// Enqueues one run per date from <c>from</c> to <c>to</c> (inclusive), chained so they run in date order; each run
/// reads only the data up to its own date. Dates that already succeeded are no-ops unless forced.
/// </summary>
public static class Backfill
{
    public static IReadOnlyList<string> Enqueue(IBackgroundJobClient client, string jobFile, DateOnly from, DateOnly to, bool force = false)
    {
        JobDefinition.Load(jobFile); // fail now, naming the bad key, rather than in every job
        if (to < from) throw new BadInputException($"--to {to:yyyy-MM-dd} is before --from {from:yyyy-MM-dd}.");
        var ids = new List<string>();
        string? previous = null;
        for (var d = from; d <= to; d = d.AddDays(1))
        {
            string date = d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            Expression<Func<NightlyJobs, Task>> call = j => j.RunAsync(jobFile, date, force, null!, CancellationToken.None);
            previous = previous is null
                ? client.Enqueue(call)
                : client.Create(call, new AwaitingState(previous, new EnqueuedState(NightlyJobs.Queue), JobContinuationOptions.OnlyOnSucceededState));
            ids.Add(previous);
        }
        return ids;
    }
}
