using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Pipeline;

/// <summary>The outcome of a run, for the command line and the scheduler.</summary>
public sealed record RunSummary(RunRecord Run, PublishResult? Published)
{
    public bool Succeeded => Run.Status == RunStatus.Succeeded;
}
