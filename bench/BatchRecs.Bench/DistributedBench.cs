using System.CommandLine;
using BatchRecs.Cli.Commands;
using System.Diagnostics;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Hangfire;
using BatchRecs.Hangfire.Distributed;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench distributed</c>: the same fit on the local executor and on 1, 2, 4 … single-threaded
/// <c>batchrecs worker</c> processes that this command starts, reporting seconds per iteration, the coordination overhead
/// per half-step and the bytes moved per iteration. Coordination is the wait from enqueue to all blocks gathered minus the
/// busiest worker thread's own time in its block tasks (reading their inputs and solving, as the tasks measured it):
/// enqueue, fetch, state changes, polling and the outputs' way back.
/// </summary>
internal static class DistributedBench
{
    public static Command Create()
    {
        var db = new Option<string>("--db") { Description = "PostgreSQL connection string shared with the workers", Required = true };
        var workers = new Option<int[]>("--workers") { Description = "worker process counts to measure", DefaultValueFactory = _ => [1, 2, 4], AllowMultipleArgumentsPerToken = true };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 100_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 20_000 };
        var interactions = new Option<int>("--interactions") { DefaultValueFactory = _ => 4_000_000 };
        var factors = new Option<int>("--factors") { DefaultValueFactory = _ => 64 };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 3 };
        var blocks = new Option<int>("--blocks") { Description = "blocks per half-step (0: the executor's choice)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("distributed", "ALS on the local executor vs on N Hangfire worker processes (started here).") { db, workers, users, items, interactions, factors, iterations, blocks };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            var log = SyntheticInteractions.Generate(new SyntheticSpec(p.GetValue(users), p.GetValue(items), p.GetValue(interactions), 30, 42));
            var m = log.ToInteractionLog().ToUserItemMatrix();
            var s = new AlsSettings(Factors: p.GetValue(factors), Regularization: 0.05f, Alpha: 2, Iterations: p.GetValue(iterations));
            var problem = AlsProblem.Build(m, s);
            int nb = p.GetValue(blocks);
            Console.WriteLine($"{m.Rows:N0} users × {m.Cols:N0} items, {m.NonZeros:N0} pairs, k={s.Factors}, {s.Iterations} iterations, " +
                (nb > 0 ? $"{nb} blocks per half-step" : "blocks chosen by each executor"));

            var sw = Stopwatch.StartNew();
            var local1 = ImplicitAls.Fit(problem, s, new LocalExecutor(1), new AlsFitOptions { UserBlocks = nb, ItemBlocks = nb });
            // One thread, one block per side: the pure solve time the workers' ideal is measured against.
            double local1Secs = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var local = ImplicitAls.Fit(problem, s, new LocalExecutor(), new AlsFitOptions { UserBlocks = nb, ItemBlocks = nb });
            Console.WriteLine($"local, 1 thread:   {local1Secs / s.Iterations:F2} s/iteration");
            Console.WriteLine($"local, all cores:  {sw.Elapsed.TotalSeconds / s.Iterations:F2} s/iteration");

            string lake = Path.Combine(Path.GetTempPath(), $"batchrecs-bench-dist-{Guid.NewGuid():N}");
            foreach (int n in p.GetValue(workers)!)
            {
                using var engine = DistributedEngine.Connect(new StorageOptions(p.GetValue(db)), lake, TimeSpan.FromMinutes(10));
                var procs = Enumerable.Range(0, n).Select(_ => StartWorker(p.GetValue(db)!)).ToList();
                try
                {
                    Thread.Sleep(3000); // let the workers connect
                    sw.Restart();
                    var dist = ImplicitAls.Fit(problem, s, engine.Executor, new AlsFitOptions { UserBlocks = nb, ItemBlocks = nb });
                    double secs = sw.Elapsed.TotalSeconds;
                    bool same = dist.UserFactors.AsSpan().SequenceEqual(local.UserFactors) && dist.ItemFactors.AsSpan().SequenceEqual(local.ItemFactors);
                    var st = engine.Executor.Stats;
                    // Ideal half-step time with n single-threaded workers: the single-thread local time / n.
                    double ideal = local1Secs / n / (2 * s.Iterations);
                    double wait = st.WaitSeconds / st.HalfSteps, busiest = st.BusiestThreadSeconds / st.HalfSteps;
                    Console.WriteLine($"hangfire, {n} worker(s): {secs / s.Iterations:F2} s/iteration, {(double)st.Blocks / st.HalfSteps:F1} blocks per half-step; " +
                        $"half-step enqueue→gathered {wait:F3} s, busiest worker thread {busiest:F3} s, coordination {wait - busiest:F3} s " +
                        $"(vs the ideal {ideal:F3} s: {wait - ideal:F3} s); {(st.BytesWritten + st.BytesRead) / 1e6 / s.Iterations:F1} MB moved per iteration; bit-identical to local: {same}");
                }
                finally
                {
                    foreach (var w in procs) { try { w.Kill(entireProcessTree: true); w.WaitForExit(); } catch (InvalidOperationException) { } w.Dispose(); }
                }
            }
            try { Directory.Delete(lake, recursive: true); } catch (IOException) { }
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>Starts <c>batchrecs worker</c> (the shipped CLI, built beside this bench) on the block queue.</summary>
    private static Process StartWorker(string db)
    {
        string host = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "batchrecs.dll"));
        foreach (var a in new[] { "worker", "--db", db, "--queues", BlockTasks.Queue, "--threads", "1" }) psi.ArgumentList.Add(a);
        var proc = Process.Start(psi)!;
        proc.OutputDataReceived += (_, _) => { };
        proc.ErrorDataReceived += (_, _) => { };
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
        return proc;
    }
}
