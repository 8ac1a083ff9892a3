using BatchRecs.Core.Errors;
using Hangfire;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The coordinator's connection to the Hangfire engine: storage configured with the same policies as the workers,
/// and a <see cref="HangfireExecutor"/> whose scratch area lives in the shared lake (removed on dispose).
/// </summary>
public sealed class DistributedEngine : IDisposable
{
    private DistributedEngine(HangfireExecutor executor) => Executor = executor;

    public HangfireExecutor Executor { get; }

    public static DistributedEngine Connect(StorageOptions storage, string lakeDir, TimeSpan? timeout = null)
    {
        if (storage.InMemory) throw new BadInputException("the hangfire executor needs the PostgreSQL that the workers share (--db): memory storage is private to one process.");
        var config = GlobalConfiguration.Configuration;
        // A host built earlier in this process may have left its (now disposed) logger factory as Hangfire's global
        // log provider; the coordinator logs through RunLog, so Hangfire's own logging goes back to its default.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        storage.Apply(config);
        SchedulerHost.ConfigurePolicies(config, null);
        string scratch = Path.Combine(Path.GetFullPath(lakeDir), "_scratch", Guid.NewGuid().ToString("N"));
        return new DistributedEngine(new HangfireExecutor(JobStorage.Current, scratch, timeout));
    }

    public void Dispose() => Executor.Dispose();
}
