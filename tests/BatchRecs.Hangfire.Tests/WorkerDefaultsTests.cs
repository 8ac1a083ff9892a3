using BatchRecs.Hangfire;
using BatchRecs.Hangfire.Distributed;
using Npgsql;

namespace BatchRecs.Hangfire.Tests;

/// <summary>The worker command as the README shows it, with no options beyond the database.</summary>
[Collection("postgres")]
public sealed class WorkerDefaultsTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_worker_started_without_queues_serves_every_BatchRecs_queue()
    {
        string cs = pg.Server.CreateDatabase();
        using var worker = CliProcess.Start(null, "worker", "--db", cs, "--threads", "1");
        try
        {
            string? data = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (data is null && DateTime.UtcNow < deadline && !worker.HasExited)
            {
                await Task.Delay(500);
                try
                {
                    await using var con = new NpgsqlConnection(cs);
                    await con.OpenAsync();
                    await using var cmd = new NpgsqlCommand("SELECT data FROM hangfire.server LIMIT 1", con);
                    data = await cmd.ExecuteScalarAsync() as string;
                }
                catch (PostgresException) { } // the schema is not installed yet
            }
            Assert.NotNull(data);
            Assert.Contains($"\"{NightlyJobs.Queue}\"", data);
            Assert.Contains($"\"{BlockTasks.Queue}\"", data);
        }
        finally
        {
            if (!worker.HasExited) worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Six_processes_starting_together_on_an_empty_database_all_come_up_without_schema_errors()
    {
        string cs = pg.Server.CreateDatabase();
        var workers = Enumerable.Range(0, 6).Select(_ => CliProcess.Start(null, "worker", "--db", cs, "--threads", "1")).ToList();
        var output = workers.Select(async w => await w.StandardOutput.ReadToEndAsync() + await w.StandardError.ReadToEndAsync()).ToList();
        try
        {
            long servers = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (servers < workers.Count && DateTime.UtcNow < deadline && workers.All(w => !w.HasExited))
            {
                await Task.Delay(500);
                try
                {
                    await using var con = new NpgsqlConnection(cs);
                    await con.OpenAsync();
                    await using var cmd = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", con);
                    servers = (long)(await cmd.ExecuteScalarAsync())!;
                }
                catch (PostgresException) { } // not installed yet
            }
            Assert.All(workers, w => Assert.False(w.HasExited, "a worker died while starting"));
            Assert.Equal(workers.Count, servers);
        }
        finally
        {
            foreach (var w in workers) { if (!w.HasExited) w.Kill(entireProcessTree: true); await w.WaitForExitAsync(); }
        }
        foreach (var o in output)
        {
            string log = await o;
            Assert.DoesNotContain("could not find tuple", log);
            Assert.DoesNotContain("XX000", log);
        }
    }
}
