namespace BatchRecs.Lake.Output;

/// <summary>The production <see cref="IFaultInjector"/>: every point passes.</summary>
public sealed class NoFaults : IFaultInjector
{
    public static NoFaults Instance { get; } = new();

    private NoFaults() { }

    public void Reach(string point) { }
}
