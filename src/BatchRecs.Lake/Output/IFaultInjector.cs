namespace BatchRecs.Lake.Output;

/// <summary>
/// Where the publish sequence (and the run around it) tells a test it has reached a named point
/// (<see cref="FaultPoint"/>), so the test can make the process die there. Passed in through
/// <see cref="PublishOptions.Faults"/> and the run request; production code always has <see cref="NoFaults"/>, and
/// only an entry point builds anything else (<see cref="CrashAt"/>, for the crash-injection tests).
/// </summary>
public interface IFaultInjector
{
    /// <summary>Called when the sequence reaches <paramref name="point"/>; may not return.</summary>
    void Reach(string point);
}
