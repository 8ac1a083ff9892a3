using BatchRecs.Core.Errors;
using BatchRecs.Engine.Pipeline;
using Hangfire.Storage;
using Npgsql;

namespace BatchRecs.Hangfire;

/// <summary>
/// The lock a run (or a tuning) holds for its whole length so that two deliveries of one key never overlap.
/// </summary>
/// <remarks>
/// On PostgreSQL it is a session advisory lock (<c>pg_try_advisory_lock</c>) held on a connection of its own: it lasts
/// exactly as long as that session, so a run of any length keeps it, and a process that dies releases it with its
/// connection. Hangfire.PostgreSql's distributed lock could not do this: its lock rows are taken over by anyone once
/// they are older than the storage's <c>DistributedLockTimeout</c> (kept short so that a state lock left by a killed
/// worker frees its job quickly, see <see cref="StorageOptions"/>), and it does not renew them. With in-memory storage
/// (one process) the Hangfire lock is used.
/// The wait has a deadline and says what it waits for: a line when the key is busy, repeated every minute, and a
/// transient failure (retried by <see cref="TransientRetryAttribute"/>) after the timeout.
/// </remarks>
public static class RunKeyLock
{
    /// <summary>How often a waiting run checks the key again.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>How often a waiting run repeats what it waits for.</summary>
    public static readonly TimeSpan LogEvery = TimeSpan.FromMinutes(1);

    /// <summary>Takes the lock on <paramref name="key"/>, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="storage">the storage the servers share (its PostgreSQL holds the lock).</param>
    /// <param name="hangfire">this job's Hangfire connection (used for in-memory storage).</param>
    /// <param name="key">e.g. <c>batchrecs:run:JOB:DATE</c>.</param>
    /// <param name="timeout">how long to wait for another holder.</param>
    /// <param name="log">where the wait is reported.</param>
    /// <param name="ct">ends the wait.</param>
    public static async Task<IAsyncDisposable> AcquireAsync(StorageOptions storage, IStorageConnection hangfire, string key, TimeSpan timeout,
        RunLog log, CancellationToken ct)
    {
        if (storage.InMemory || string.IsNullOrWhiteSpace(storage.ConnectionString))
            return new HangfireHeld(hangfire.AcquireDistributedLock(key, timeout));
        var connection = new NpgsqlConnection(storage.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            var started = DateTime.UtcNow;
            DateTime? logged = null;
            // The key is per Hangfire schema, as Hangfire's own lock was: two installations may share one database.
            string lockKey = storage.Schema + ":" + key;
            while (!await TryLockAsync(connection, lockKey, ct))
            {
                var waited = DateTime.UtcNow - started;
                if (waited > timeout)
                    throw new TransientFailureException($"lock timeout: run key '{key}' is still held by another delivery after {timeout.TotalMinutes:F0} min.");
                if (logged is null || DateTime.UtcNow - logged >= LogEvery)
                {
                    log.Event("run.key_lock_wait", ("key", key), ("waiting_for", "another delivery of the same job and run date to finish"),
                        ("waited_s", Math.Round(waited.TotalSeconds)), ("gives_up_after_s", timeout.TotalSeconds));
                    logged = DateTime.UtcNow;
                }
                await Task.Delay(Poll, ct);
            }
            return new AdvisoryHeld(connection, lockKey);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, string key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", connection);
        cmd.Parameters.AddWithValue(key);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private sealed class AdvisoryHeld(NpgsqlConnection connection, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended($1, 0))", connection);
                cmd.Parameters.AddWithValue(key);
                await cmd.ExecuteScalarAsync();
            }
            catch (NpgsqlException) { } // the session is gone, and the lock with it
            finally { await connection.DisposeAsync(); }
        }
    }

    private sealed class HangfireHeld(IDisposable held) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            held.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
