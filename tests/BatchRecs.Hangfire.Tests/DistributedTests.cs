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
