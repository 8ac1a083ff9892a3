using System.Diagnostics;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Hangfire.Distributed;

namespace BatchRecs.Hangfire.Tests;

/// <summary>ALS block tasks on real `batchrecs worker` processes sharing a real PostgreSQL and a lake folder.</summary>
[Collection("postgres")]
public sealed class DistributedTests(PostgresFixture pg)
{
    private static AlsProblem Problem(out AlsSettings settings, int seed = 3)
    {
        var log = SyntheticInteractions.Generate(new SyntheticSpec(1500, 400, 30_000, 10, (ulong)seed));
        var users = IdMap.FromInt64(log.UserIds); var items = IdMap.FromInt64(log.ItemIds);
        var u = log.UserIds.Select(id => { users.TryGetIndex(id, out int i); return i; }).ToArray();
        var it = log.ItemIds.Select(id => { items.TryGetIndex(id, out int i); return i; }).ToArray();
        var m = CsrMatrix.FromEntries(users.Count, items.Count, u, it, Enumerable.Repeat(1f, u.Length).ToArray());
        settings = new AlsSettings(Factors: 16, Regularization: 0.1f, Alpha: 2, Iterations: 3);
        return AlsProblem.Build(m, settings);
    }

    private static List<Process> StartWorkers(string cs, int count, IReadOnlyDictionary<string, string>? env = null)
    {
        var list = new List<Process>();
        for (int w = 0; w < count; w++)
            list.Add(CliProcess.Start(env, "worker", "--db", cs, "--queues", BlockTasks.Queue, "--threads", "1"));
        return list;
    }

    private static void StopAll(IEnumerable<Process> workers)
    {
        foreach (var w in workers)
        {
            try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
            w.Dispose();
        }
    }

    [Fact]
    public void Two_worker_processes_give_factors_bit_identical_to_the_local_executor()
    {
        var problem = Problem(out var s);
        var local = ImplicitAls.Fit(problem, s, new LocalExecutor(), userBlocks: 4, itemBlocks: 3);
        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-dist");
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, TimeSpan.FromMinutes(2));
        var workers = StartWorkers(cs, 2);
        try
        {
            var distributed = ImplicitAls.Fit(problem, s, engine.Executor, userBlocks: 4, itemBlocks: 3);
            Assert.Equal(local.UserFactors, distributed.UserFactors);
            Assert.Equal(local.ItemFactors, distributed.ItemFactors);
            Assert.Equal(6, engine.Executor.Stats.HalfSteps);
            Assert.True(engine.Executor.Stats.BytesRead > 0 && engine.Executor.Stats.BytesWritten > 0);
        }
        finally { StopAll(workers); }
    }
}

[Collection("postgres")]
public sealed class WorkerFailureTests(PostgresFixture pg)
{
    [Fact]
    public async Task A_worker_killed_while_it_holds_a_block_does_not_stop_the_run_and_the_result_is_unchanged()
    {
        var log = SyntheticInteractions.Generate(new SyntheticSpec(800, 300, 15_000, 10, 4));
        var users = IdMap.FromInt64(log.UserIds); var items = IdMap.FromInt64(log.ItemIds);
        var m = CsrMatrix.FromEntries(users.Count, items.Count,
            log.UserIds.Select(id => { users.TryGetIndex(id, out int i); return i; }).ToArray(),
            log.ItemIds.Select(id => { items.TryGetIndex(id, out int i); return i; }).ToArray(),
            Enumerable.Repeat(1f, log.UserIds.Length).ToArray());
        var s = new AlsSettings(Factors: 8, Regularization: 0.1f, Alpha: 2, Iterations: 2);
        var problem = AlsProblem.Build(m, s);
        var local = ImplicitAls.Fit(problem, s, new LocalExecutor(), userBlocks: 3, itemBlocks: 3);

        string cs = pg.Server.CreateDatabase();
        using var lake = new TempDirectory("batchrecs-kill");
        using var engine = DistributedEngine.Connect(new StorageOptions(cs), lake.Path, TimeSpan.FromMinutes(3));
        var slow = new Dictionary<string, string> { ["BATCHRECS_BLOCK_DELAY_MS"] = "1500" };
        string[] args = ["worker", "--db", cs, "--queues", BlockTasks.Queue, "--threads", "1", "--invisibility-timeout", "5"];
        var victim = CliProcess.Start(slow, args);
        var survivor = CliProcess.Start(slow, args);
        try
        {
            var sw = Stopwatch.StartNew();
            var fit = Task.Run(() => ImplicitAls.Fit(problem, s, engine.Executor, userBlocks: 3, itemBlocks: 3));
            // Kill the victim as soon as Hangfire shows it processing a block.
            var monitor = global::Hangfire.JobStorage.Current.GetMonitoringApi();
            bool killed = false;
            while (!killed && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (monitor.ProcessingJobs(0, 20).Any(j => j.Value.ServerId?.Contains($":{victim.Id}:") == true))
                {
                    victim.Kill(entireProcessTree: true);
                    killed = true;
                }
                else await Task.Delay(50);
            }
            Assert.True(killed, "the victim never picked up a block");
            var result = await fit.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.Equal(local.UserFactors, result.UserFactors);
            Assert.Equal(local.ItemFactors, result.ItemFactors);
            Console.WriteLine($"finished {sw.Elapsed.TotalSeconds:F1} s after start despite the killed worker");
        }
        finally
        {
            foreach (var w in new[] { victim, survivor })
            {
                try { if (!w.HasExited) w.Kill(entireProcessTree: true); w.WaitForExit(10_000); } catch (InvalidOperationException) { }
                w.Dispose();
            }
        }
    }
}
