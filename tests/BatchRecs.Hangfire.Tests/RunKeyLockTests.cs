using BatchRecs.Core.Errors;
using BatchRecs.Engine.Pipeline;
using Npgsql;

namespace BatchRecs.Hangfire.Tests;

/// <summary>
/// The run-key lock is a PostgreSQL session advisory lock: held as long as its connection (no expiry a long run could
/// outlast, unlike a Hangfire.PostgreSql lock row older than DistributedLockTimeout), waited for with a deadline and a
/// line saying what for, and released when its holder's session ends.
/// </summary>
[Collection("postgres")]
public sealed class RunKeyLockTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_second_holder_waits_says_so_and_gives_up_then_gets_the_key_once_the_first_lets_go()
    {
        var storage = new StorageOptions(pg.Server.CreateDatabase());
        var log = new StringWriter();
        var runLog = new RunLog(TextWriter.Synchronized(log));
        // Hangfire's connection is only used with in-memory storage.
        var first = await RunKeyLock.AcquireAsync(storage, null!, "batchrecs:run:job:2026-05-01", TimeSpan.FromSeconds(1), runLog, CancellationToken.None);
        await using (var con = new NpgsqlConnection(storage.ConnectionString))
        {
            await con.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted", con);
            Assert.Equal(1L, await cmd.ExecuteScalarAsync());
        }
        var e = await Assert.ThrowsAsync<TransientFailureException>(() =>
            RunKeyLock.AcquireAsync(storage, null!, "batchrecs:run:job:2026-05-01", TimeSpan.FromSeconds(2), runLog, CancellationToken.None));
        Assert.Contains("lock timeout", e.Message);
        Assert.Contains("run.key_lock_wait key=batchrecs:run:job:2026-05-01", log.ToString());
        // Another key is free meanwhile.
        await (await RunKeyLock.AcquireAsync(storage, null!, "batchrecs:run:job:2026-05-02", TimeSpan.FromSeconds(1), runLog, CancellationToken.None)).DisposeAsync();

        var waiting = RunKeyLock.AcquireAsync(storage, null!, "batchrecs:run:job:2026-05-01", TimeSpan.FromSeconds(30), runLog, CancellationToken.None);
        await Task.Delay(1500);
        Assert.False(waiting.IsCompleted);
        await first.DisposeAsync();
        await (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).DisposeAsync();
    }
}
