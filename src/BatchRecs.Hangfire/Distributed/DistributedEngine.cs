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

    /// <summary>Connects with the default waits and no log; <paramref name="timeout"/> limits each step's wait (tests, benchmarks).</summary>
    public static DistributedEngine Connect(StorageOptions storage, string lakeDir, TimeSpan? timeout = null) =>
        Connect(storage, lakeDir, new HangfireExecutorOptions { StepTimeout = timeout });

    /// <summary>Connects to the storage the workers share; the executor's scratch area is a fresh folder under <c>LAKE/_scratch</c>.</summary>
    public static DistributedEngine Connect(StorageOptions storage, string lakeDir, HangfireExecutorOptions options)
    {
        if (storage.InMemory) throw new BadInputException("the hangfire executor needs the PostgreSQL that the workers share (--db): memory storage is private to one process.");
        var config = GlobalConfiguration.Configuration;
        // A host built earlier in this process may have left its (now disposed) logger factory as Hangfire's global
        // log provider; the coordinator logs through RunLog, so Hangfire's own logging goes back to its default.
        global::Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        storage.Apply(config);
        SchedulerHost.ConfigurePolicies(config, null);
        // In a lake on object storage the scratch area is in the container: workers need no shared disk, nor --lake.
        var (store, prefix) = BatchRecs.Lake.Storage.LakeLocation.Open(lakeDir);
        string scratch = store.Describe($"{prefix}_scratch/{Guid.NewGuid():N}");
        return new DistributedEngine(new HangfireExecutor(JobStorage.Current, scratch, options with { RemoveFromQueue = options.RemoveFromQueue ?? storage.RemoveFromQueue }));
    }

    /// <summary>
    /// The command that starts a worker for this database and lake, for messages: the connection string without its
    /// password (give it through <c>PGPASSWORD</c>), quoted for a POSIX shell.
    /// </summary>
    public static string WorkerCommand(StorageOptions storage, string lakeDir)
    {
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(storage.ConnectionString ?? "");
        cs.Remove("Password");
        string db = $"batchrecs worker --db '{cs.ConnectionString.Replace("'", "'\\''")}'";
        return BatchRecs.Lake.Storage.LakeLocation.IsObjectStore(lakeDir) ? db : $"{db} --lake '{Path.GetFullPath(lakeDir).Replace("'", "'\\''")}'";
    }

    public void Dispose() => Executor.Dispose();
}
