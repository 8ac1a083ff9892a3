using BatchRecs.Core.Execution;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Engine.Pipeline;

/// <summary>What to run: input and lake directories, the job, the run date and setting overrides.</summary>
public sealed record RunRequest(
    string InputDir,
    string LakeDir,
    DateOnly RunDate,
    JobDefinition Job,
    IReadOnlyList<string> Overrides,
    IExecutor? Executor = null);
