using BatchRecs.Core.Errors;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Npgsql;

namespace BatchRecs.Hangfire;

/// <summary>
/// Where Hangfire keeps its queues, schedules and locks: PostgreSQL (the default for anything real) or memory
/// (to try the scheduler without a database; nothing survives a restart).
/// </summary>
/// <param name="ConnectionString">Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Database=batchrecs;Username=batchrecs</c>;
/// a password is best given through the <c>PGPASSWORD</c> environment variable rather than on the command line.</param>
/// <param name="PollInterval">how often an idle server looks for work; with long polling (LISTEN/NOTIFY) an enqueue wakes it at once.</param>
/// <param name="InvisibilityTimeout">after this long without a heartbeat, a job held by a dead server is given to another
/// (sliding: a live worker keeps extending it, so long jobs are never stolen).</param>
/// <param name="InMemory">keep everything in memory instead of PostgreSQL.</param>
/// <param name="Schema">the PostgreSQL schema of Hangfire's tables.</param>
public sealed record StorageOptions(
    string? ConnectionString,
    bool InMemory = false,
    string Schema = "hangfire",
    TimeSpan? PollInterval = null,
    TimeSpan? InvisibilityTimeout = null)
{
    public void Apply(IGlobalConfiguration config)
    {
        config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();
        if (InMemory)
        {
            config.UseInMemoryStorage(new InMemoryStorageOptions());
            return;
        }
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new BadInputException("a PostgreSQL connection string is needed (--db), or --storage memory.");
        // Creating the storage installs or migrates Hangfire's schema. Processes that start together (a fleet of
        // workers) would race in that DDL ("XX000: could not find tuple for constraint"), so it runs under a
        // PostgreSQL advisory lock: one process installs, the others wait and then find the schema in place.
        using var installLock = new NpgsqlConnection(ConnectionString);
        installLock.Open();
        Advisory(installLock, "pg_advisory_lock");
        try
        {
            UsePostgres(config);
        }
        finally
        {
            Advisory(installLock, "pg_advisory_unlock");
        }
    }

    private void Advisory(NpgsqlConnection connection, string function)
    {
        using var cmd = new NpgsqlCommand($"SELECT {function}(hashtext($1))", connection);
        cmd.Parameters.AddWithValue("batchrecs:hangfire-schema:" + Schema);
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// Takes jobs off their queue that were deleted while still waiting in it. Hangfire leaves a deleted job's queue
    /// entry for the next worker to fetch and discard, so the dashboard would count a cancelled run's blocks as
    /// enqueued until a worker came by; the rows are removed here instead (entries already fetched are left to their
    /// worker). Returns how many were removed; nothing with memory storage.
    /// </summary>
    public int RemoveFromQueue(IReadOnlyCollection<string> jobIds)
    {
        if (InMemory || string.IsNullOrWhiteSpace(ConnectionString) || jobIds.Count == 0) return 0;
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var cmd = new NpgsqlCommand($"DELETE FROM \"{Schema}\".jobqueue WHERE fetchedat IS NULL AND jobid = ANY($1)", connection);
        cmd.Parameters.AddWithValue(jobIds.Select(long.Parse).ToArray());
        return cmd.ExecuteNonQuery();
    }

    /// <summary>How long a Hangfire lock row lives (state locks, recurring-job locks); see <see cref="RunKeyLock"/> for the run key.</summary>
    public static readonly TimeSpan DistributedLockTimeout = TimeSpan.FromMinutes(1);

    private void UsePostgres(IGlobalConfiguration config)
    {
        config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(ConnectionString), new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = PollInterval ?? TimeSpan.FromSeconds(1),
            EnableLongPolling = true,
            InvisibilityTimeout = InvisibilityTimeout ?? TimeSpan.FromMinutes(1),
            UseSlidingInvisibilityTimeout = true,
            // A lock row older than this is taken over by the next who asks. A worker killed inside a state change leaves
            // that job's state lock behind, and whoever fetches the job next waits this long on it (10 min by default,
            // which tied a surviving worker's thread up for ~10 min). State locks are held for milliseconds, so one
            // minute is ample; the run-key lock, held for a whole run, is a session advisory lock instead (RunKeyLock).
            DistributedLockTimeout = DistributedLockTimeout,
        });
    }
}
