namespace BatchRecs.Lake.Output;

/// <summary>
/// A test's <see cref="IFaultInjector"/>: the process dies at once at one named point (no cleanup, no finally blocks),
/// as a power cut or a kill -9 would. The crash-injection tests reach it through a real child process, whose entry
/// point builds it.
/// </summary>
public sealed class CrashAt : IFaultInjector
{
    public CrashAt(string point)
    {
        ArgumentException.ThrowIfNullOrEmpty(point);
        Point = point;
    }

    /// <summary>The point to die at (a <see cref="FaultPoint"/> name).</summary>
    public string Point { get; }

    public void Reach(string point)
    {
        if (string.Equals(Point, point, StringComparison.Ordinal))
            Environment.FailFast($"crash injected at '{point}'");
    }
}
