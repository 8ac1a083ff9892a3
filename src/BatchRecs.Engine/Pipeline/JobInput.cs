using BatchRecs.Core.Data;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// How a job's settings turn into its input: the read window, the reader, the event rules and the pair-combining rule.
/// Shared by runs and tunings so that a tuning sees exactly the pairs a run would.
/// </summary>
public static class JobInput
{
    /// <summary>Run date D reads D − lookback_days ≤ event date &lt; D, dates in the job's time zone.</summary>
    public static ReadWindow Window(DateOnly runDate, JobDefinition job, JobSettings settings) => new(runDate, settings.LookbackDays, job.Zone);

    public static Task<ReadResult> ReadAsync(string inputDir, DateOnly runDate, JobDefinition job, JobSettings settings, CancellationToken ct)
    {
        var window = Window(runDate, job, settings);
        var rules = new EventRules(settings.EventWeights, 1f, settings.GetDouble("half_life_days"), settings.GetString("epoch_unit"), settings.GetBool("skip_bad_files"));
        return settings.GetString("reader") == "duckdb"
            ? DuckDbInteractionReader.ReadAsync(inputDir, window, rules, ct)
            : InteractionReader.ReadAsync(inputDir, window, rules, ct);
    }

    /// <summary>A window without events is bad input; the error says what dates the input's events do have.</summary>
    public static void RequireEvents(ReadResult read, DateOnly runDate, JobDefinition job, JobSettings settings)
    {
        if (read.Events.Count == 0)
            throw new LakeInputException(EmptyWindow.Explain(read, Window(runDate, job, settings), settings.GetString("epoch_unit")));
    }

    public static CombineRule Combine(JobSettings settings) =>
        settings.GetString("combine") switch { "max" => CombineRule.Max, "last" => CombineRule.Last, _ => CombineRule.Sum };
}
