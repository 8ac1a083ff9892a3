using BatchRecs.Core.Execution;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Pipeline;

/// <summary>What to run: input and lake directories, the job, the run date and setting overrides.</summary>
/// <param name="AllowFutureDate">accept a run date more than one day after today (<c>--allow-future-date</c>).</param>
/// <param name="InputDir">the input directory (Parquet interaction logs).</param>
/// <param name="LakeDir">the lake to publish to.</param>
/// <param name="RunDate">the run date D: the window ends the day before.</param>
/// <param name="Job">the job: name, time zone and settings.</param>
/// <param name="Overrides"><c>--set key=value</c> overrides, applied last.</param>
/// <param name="Executor">where block tasks run (null: the local executor).</param>
public sealed record RunRequest(
    string InputDir,
    string LakeDir,
    DateOnly RunDate,
    JobDefinition Job,
    IReadOnlyList<string> Overrides,
    IExecutor? Executor = null,
    bool AllowFutureDate = false)
{
    /// <summary>Told each <see cref="FaultPoint"/> the run reaches: its fits' iterations and its publish steps (tests
    /// only; default: nothing happens).</summary>
    public IFaultInjector Faults { get; init; } = NoFaults.Instance;

    /// <summary>Shown every list the off-policy estimate judged (the simulator scores them against its hidden truth; default:
    /// none).</summary>
    public Action<OpeList>? OnOpeList { get; init; }
}

/// <summary>A list the off-policy estimate judged: what the model would have shown <paramref name="UserId"/> on <paramref name="Night"/>.</summary>
/// <param name="UserId">the user's external id.</param>
/// <param name="Night">the night whose served list it stands in for.</param>
/// <param name="ItemIds">the items' external ids, best first.</param>
public sealed record OpeList(object UserId, DateOnly Night, object[] ItemIds);
