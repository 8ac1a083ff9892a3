using System.CommandLine;
using BatchRecs.Cli.Commands;
using System.Diagnostics;
using System.Globalization;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;

namespace BatchRecs.Bench;

/// <summary>
/// <c>BatchRecs.Bench als</c>: times the block-partitioned implicit ALS on synthetic data held in memory
/// (no Parquet), and optionally measures held-out quality against the popularity baseline.
/// </summary>
internal static class AlsBench
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { Description = "number of users", DefaultValueFactory = _ => 100_000 };
        var items = new Option<int>("--items") { Description = "number of items", DefaultValueFactory = _ => 20_000 };
        var interactions = new Option<int>("--interactions") { Description = "number of events (repeated pairs are summed)", DefaultValueFactory = _ => 4_000_000 };
        var factors = new Option<int>("--factors") { Description = "latent dimension k", DefaultValueFactory = _ => 64 };
        var iterations = new Option<int>("--iterations") { Description = "ALS iterations", DefaultValueFactory = _ => 15 };
        var threads = new Option<int>("--threads") { Description = "threads of the local executor", DefaultValueFactory = _ => 2 };
        var solver = new Option<string>("--solver") { Description = "cg or cholesky", DefaultValueFactory = _ => "cg" };
        solver.AcceptOnlyFromAmong("cg", "cholesky");
        var cgSteps = new Option<int>("--cg-steps") { Description = "CG steps per row and half-step", DefaultValueFactory = _ => 3 };
        var seed = new Option<int>("--seed") { Description = "random seed (data and factors)", DefaultValueFactory = _ => 42 };
        var alpha = new Option<float>("--alpha") { Description = "confidence slope (c = 1 + alpha·r)", DefaultValueFactory = _ => 2f };
        var reg = new Option<float>("--regularization") { Description = "L2 penalty λ", DefaultValueFactory = _ => 0.05f };
        var blocks = new Option<int>("--blocks") { Description = "user and item blocks per half-step (0 = auto)", DefaultValueFactory = _ => 0 };
        // The default is the reference machine's theoretical fp32 peak, not a measurement: 2 cores with AVX-512 FMA,
        // 32 fp32 flops per cycle and core (16 lanes × 2 for a fused multiply-add) at about 3.6 GHz ≈ 230 GFLOP/s.
        var peak = new Option<double>("--peak-gflops") { Description = "fp32 peak of this machine, the GFLOP/s the measured rate is shown against", DefaultValueFactory = _ => 230 };
        var eval = new Option<bool>("--eval") { Description = "also fit on a per-user temporal 80/20 split and report Recall@20/NDCG@20 vs popularity" };
        var cmd = new Command("als", "Time implicit ALS on in-memory synthetic data (s/iteration, GFLOP/s, peak memory).")
        { users, items, interactions, factors, iterations, threads, solver, cgSteps, seed, alpha, reg, blocks, peak, eval };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            var settings = new AlsSettings(
                Factors: p.GetValue(factors),
                Regularization: p.GetValue(reg),
                Alpha: p.GetValue(alpha),
                Iterations: p.GetValue(iterations),
                Solver: p.GetValue(solver) == "cholesky" ? AlsSolver.Cholesky : AlsSolver.ConjugateGradient,
                CgSteps: p.GetValue(cgSteps),
                Seed: (ulong)p.GetValue(seed));
            settings.Validate();
            var spec = new SyntheticSpec(p.GetValue(users), p.GetValue(items), p.GetValue(interactions), Seed: (ulong)p.GetValue(seed));
            Run(spec, settings, p.GetValue(threads), p.GetValue(blocks), p.GetValue(peak), p.GetValue(eval), ct);
            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static void Run(SyntheticSpec spec, AlsSettings settings, int threads, int blocks, double peakGflops, bool eval, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var pairs = PairAggregator.Combine(ToLog(SyntheticInteractions.Generate(spec)));
        var matrix = pairs.ToUserItemMatrix();
        Console.WriteLine($"data      {spec.Interactions:N0} events → {pairs.Count:N0} pairs of {pairs.UserCount:N0} users × {pairs.ItemCount:N0} items " +
            $"(generated in {sw.Elapsed.TotalSeconds:F1} s)");
        var executor = new LocalExecutor(threads);
        string solverName = settings.Solver == AlsSolver.Cholesky ? "cholesky" : $"cg ({settings.CgSteps} steps)";
        Console.WriteLine($"settings  k={settings.Factors} λ={settings.Regularization} α={settings.Alpha} solver={solverName} " +
            $"iterations={settings.Iterations} threads={executor.MaxThreads} blocks={(blocks > 0 ? blocks.ToString(CultureInfo.InvariantCulture) : "auto")} " +
            $"simd={KernelInfo()}");

        var problem = AlsProblem.Build(matrix, settings);
        using var self = Process.GetCurrentProcess();
        // CPU time per iteration (this process only, including the loss): on a shared, busy machine it
        // shows the work done when the wall clock also counts time the threads spent waiting for a core.
        var cpu = new List<double>();
        double lastCpu = self.TotalProcessorTime.TotalSeconds;
        sw.Restart();
        var model = ImplicitAls.Fit(problem, settings, executor, new AlsFitOptions { UserBlocks = blocks, ItemBlocks = blocks, OnIteration = _ =>
        {
            self.Refresh();
            double now = self.TotalProcessorTime.TotalSeconds;
            cpu.Add(now - lastCpu);
            lastCpu = now;
        } }, ct);
        double total = sw.Elapsed.TotalSeconds;
        var seconds = model.History.Select(h => h.Seconds).ToArray();
        double median = Median(seconds);
        double flops = FlopsPerIteration(problem.Users, problem.Items, matrix.NonZeros, settings);
        Console.WriteLine($"s/iter    median {median:F3}  each [{string.Join(" ", seconds.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))}]");
        Console.WriteLine($"cpu       median {Median(cpu.Skip(1).DefaultIfEmpty(cpu[0]).ToArray()):F3} CPU-s/iteration over all threads, incl. loss (first iteration excluded: it also holds the start)");
        Console.WriteLine($"fit       {total:F2} s total for {settings.Iterations} iterations (incl. Gram start and per-iteration loss)");
        Console.WriteLine($"loss      first {model.History[0].Loss:G6}  last {model.History[^1].Loss:G6}");
        Console.WriteLine($"flops     {flops / 1e9:F2} GFLOP/iteration modelled → {flops / median / 1e9:F1} GFLOP/s = {100 * flops / median / 1e9 / peakGflops:F1}% of {peakGflops} GFLOP/s fp32 peak");
        Console.WriteLine($"          model: {FlopFormula(settings)}");

        if (eval)
        {
            var split = TemporalSplit.PerUserLast(pairs, 0.2);
            var train = pairs.Where(split.IsTrain).ToUserItemMatrix();
            var heldOut = pairs.Where(split.IsTrain.Select(t => !t).ToArray()).ToUserItemMatrix();
            sw.Restart();
            var evalModel = ImplicitAls.Fit(AlsProblem.Build(train, settings), settings, executor, new AlsFitOptions { UserBlocks = blocks, ItemBlocks = blocks }, ct);
            double fitSeconds = sw.Elapsed.TotalSeconds;
            const int n = 20;
            var evalUsers = Enumerable.Range(0, heldOut.Rows).Where(u => heldOut.RowLength(u) > 0).ToArray();
            var subset = ExactTopN.Search(evalModel.UserFactors, evalModel.ItemFactors, evalModel.Factors, new TopNQuery(n, train, MaxThreads: threads), evalUsers);
            var modelRecs = new TopNResult(heldOut.Rows, n);
            for (int j = 0; j < evalUsers.Length; j++)
            {
                int u = evalUsers[j];
                modelRecs.Counts[u] = subset.Counts[j];
                subset.Items.AsSpan(j * n, n).CopyTo(modelRecs.Items.AsSpan(u * n, n));
            }
            var m = Metrics.Evaluate(modelRecs, heldOut, n);
            var pop = Metrics.Evaluate(PopularityRanker.Recommend(train, n), heldOut, n);
            Console.WriteLine($"quality   temporal 80/20 split: {train.NonZeros:N0} train / {heldOut.NonZeros:N0} held-out pairs, {m.Users:N0} users (fit {fitSeconds:F1} s)");
            Console.WriteLine($"          model      Recall@20 {m.Recall:F4}  NDCG@20 {m.Ndcg:F4}");
            Console.WriteLine($"          popularity Recall@20 {pop.Recall:F4}  NDCG@20 {pop.Ndcg:F4}");
        }
        self.Refresh();
        Console.WriteLine($"memory    peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB");
    }

    /// <summary>The synthetic log with event weights view 1, cart 3, purchase 5 (as jobs/nightly.json).</summary>
    private static InteractionLog ToLog(SyntheticLog log) => log.ToInteractionLog([1f, 3f, 5f]);

    /// <summary>
    /// Useful flops of one iteration (both half-steps and both Gram matrices), counting an FMA as 2.
    /// Per half-step with R src rows and N entries:
    /// Gram of the dst side: D·k(k+1) (lower triangle);
    /// CG with s steps: (s+1)·(R·2k² + N·4k) (a G·v per row, a dot and an axpy per entry, per pass; vector ops ignored);
    /// Cholesky: N·(k(k+1) + 2k) + R·(k³/3 + 2k² + k²) (rank-1 updates of the lower triangle, b, factor, two triangular solves, G copy ignored).
    /// </summary>
    internal static double FlopsPerIteration(long users, long items, long nnz, AlsSettings s)
    {
        double k = s.Factors;
        double gram = (users + items) * k * (k + 1);
        double rows = users + items, entries = 2.0 * nnz;
        double solve = s.Solver == AlsSolver.Cholesky
            ? entries * (k * (k + 1) + 2 * k) + rows * (k * k * k / 3 + 2 * k * k)
            : (s.CgSteps + 1) * (rows * 2 * k * k + entries * 4 * k);
        return gram + solve;
    }

    private static string FlopFormula(AlsSettings s) => s.Solver == AlsSolver.Cholesky
        ? "(U+I)·k(k+1) [Gram] + 2·nnz·(k(k+1)+2k) [Σ w·yyᵀ, b] + (U+I)·(k³/3+2k²) [factor, solves]"
        : $"(U+I)·k(k+1) [Gram] + (s+1)·((U+I)·2k² [G·v] + 2·nnz·4k [dot+axpy per entry]), s={s.CgSteps}";

    private static string KernelInfo() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "avx512"
        : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "avx2" : "scalar/128";

    private static double Median(double[] v)
    {
        var s = (double[])v.Clone();
        Array.Sort(s);
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
