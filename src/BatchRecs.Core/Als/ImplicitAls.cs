using BatchRecs.Core.Errors;
using System.Diagnostics;
using System.Numerics.Tensors;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;

namespace BatchRecs.Core.Als;

/// <summary>
/// Block-partitioned implicit-feedback ALS (Hu, Koren &amp; Volinsky 2008). Each iteration solves every
/// user block given the item factors, then every item block given the user factors; the block tasks
/// run on an <see cref="IExecutor"/>.
/// </summary>
public static class ImplicitAls
{
    /// <summary>Fits factors. <paramref name="warmUsers"/>/<paramref name="warmItems"/> (rows × k) replace the random start when given.</summary>
    /// <param name="trackLoss">compute the training loss after every iteration (recorded in the history; NaN when off).
    /// Off, the item Gram matrix after the last iteration is not computed either, and divergence is still caught: from
    /// the user Gram matrix (finite exactly when every user factor is) and the sum of the item factors' magnitudes.</param>
    /// <param name="userSample">the share of the users the problem holds (a uniform sample; the others are empty rows).
    /// Below 1 the item side's λ is scaled by it, so each item's solve is an unbiased estimate of its full-data solve
    /// (the sampled data term is about that share of the full one) and settings tried on a sample rank as on all users.
    /// With <c>ScaleRegularization</c> the per-row λ already shrinks with the sample, and nothing is scaled.</param>
    /// <param name="problem">the confidence (and preference) CSRs in both orientations.</param>
    /// <param name="settings">factors, λ, iterations, solver and seed.</param>
    /// <param name="executor">runs each half-step's block tasks.</param>
    /// <param name="userBlocks">user blocks per half-step (0: from the data size and cores).</param>
    /// <param name="itemBlocks">item blocks per half-step (0: from the data size and cores).</param>
    /// <param name="warmUsers">users × k starting factors, or null.</param>
    /// <param name="warmItems">items × k starting factors, or null.</param>
    /// <param name="onIteration">called after every completed iteration.</param>
    /// <param name="cancellationToken">cancels the fit between half-steps.</param>
    /// <param name="checkpoint">where the fit is saved after every iteration and resumed from, or null.</param>
    public static AlsModel Fit(AlsProblem problem, AlsSettings settings, IExecutor executor,
        int userBlocks = 0, int itemBlocks = 0, float[]? warmUsers = null, float[]? warmItems = null,
        Action<IterationStats>? onIteration = null, CancellationToken cancellationToken = default, IFitCheckpoint? checkpoint = null,
        bool trackLoss = true, double userSample = 1.0)
    {
        settings.Validate();
        if (!(userSample > 0 && userSample <= 1)) throw new ArgumentOutOfRangeException(nameof(userSample), $"the user sample must be a share in (0, 1] (got {userSample}).");
        var itemSettings = userSample < 1 && !settings.ScaleRegularization ? settings with { Regularization = (float)(settings.Regularization * userSample) } : settings;
        if (settings.Mode != AlsMode.Implicit) throw new ArgumentException("mode is explicit: fit ratings with ExplicitAls.Fit.", nameof(settings));
        if (problem.UserItemConf.NonZeros == 0) throw new BadInputException("there are no interactions to fit (empty input).");
        int k = settings.Factors;
        int cores = Environment.ProcessorCount;
        var userBlockList = BlockPartitioner.Partition(problem.UserItemConf, userBlocks > 0 ? userBlocks : BlockPartitioner.DefaultBlocks(problem.UserItemConf, cores), k);
        var itemBlockList = BlockPartitioner.Partition(problem.ItemUserConf, itemBlocks > 0 ? itemBlocks : BlockPartitioner.DefaultBlocks(problem.ItemUserConf, cores), k);

        var x = warmUsers is not null ? CheckShape(warmUsers, problem.Users, k, "warm user factors") : FactorInit.Random(problem.Users, k, settings.Seed, Side.Users);
        var y = warmItems is not null ? CheckShape(warmItems, problem.Items, k, "warm item factors") : FactorInit.Random(problem.Items, k, settings.Seed, Side.Items);

        var history = new List<IterationStats>(settings.Iterations);
        int first = 0;
        if (checkpoint?.Load() is { } saved && saved.UserFactors.Length == x.Length && saved.ItemFactors.Length == y.Length
            && saved.CompletedIterations <= settings.Iterations)
        {
            (x, y, first) = (saved.UserFactors, saved.ItemFactors, saved.CompletedIterations);
            history.AddRange(saved.History);
        }
        int gramThreads = executor is LocalExecutor local ? local.MaxThreads : -1;
        float[]? gy = null;
        for (int it = first; it < settings.Iterations; it++)
        {
            var sw = Stopwatch.StartNew();
            gy ??= GramMatrix.Compute(y, problem.Items, k, gramThreads);
            executor.RunHalfStep(new HalfStep(it, Side.Users, problem.UserItemConf, problem.UserItemPref, userBlockList, y, gy, x, settings), cancellationToken);
            var gx = GramMatrix.Compute(x, problem.Users, k, gramThreads);
            executor.RunHalfStep(new HalfStep(it, Side.Items, problem.ItemUserConf, problem.ItemUserPref, itemBlockList, x, gx, y, itemSettings), cancellationToken);
            // The loss needs the new item Gram (and the next iteration reuses it); without the loss it waits for the next
            // iteration, so a fit's last one computes none.
            gy = trackLoss ? GramMatrix.Compute(y, problem.Items, k, gramThreads) : null;
            double seconds = sw.Elapsed.TotalSeconds;
            double loss = trackLoss ? TrainingLoss.Compute(problem, settings, x, y, gy!) : double.NaN;
            if (trackLoss ? !double.IsFinite(loss) : !IsFinite(gx) || !float.IsFinite(TensorPrimitives.SumOfMagnitudes(y)))
                throw new ArithmeticException($"ALS diverged at iteration {it + 1} (loss is {loss}); try increasing regularization or lowering alpha.");
            var stats = new IterationStats(it + 1, seconds, loss);
            history.Add(stats);
            checkpoint?.Save(new FitState(it + 1, x, y, history));
            onIteration?.Invoke(stats);
        }
        return new AlsModel(problem.Users, problem.Items, k, x, y, history);
    }

    /// <summary>
    /// Computes a user vector from fixed item factors: the user half-step for one new row.
    /// <paramref name="items"/>/<paramref name="strengths"/> are the user's history; items must be distinct.
    /// </summary>
    public static float[] FoldIn(AlsModel model, ReadOnlySpan<int> items, ReadOnlySpan<float> strengths, AlsSettings settings,
        float[]? itemGram = null, ReadOnlySpan<float> warmStart = default)
    {
        settings.Validate();
        int k = model.Factors;
        if (settings.Factors != k) throw new ArgumentException($"factors is {settings.Factors} but the model has {k}.", nameof(settings));
        if (strengths.Length != items.Length) throw new ArgumentException("items and strengths must have the same length.", nameof(strengths));
        for (int e = 0; e < items.Length; e++)
        {
            if ((uint)items[e] >= (uint)model.Items) throw new ArgumentOutOfRangeException(nameof(items), $"item index {items[e]} is outside the model's {model.Items} items.");
            if (!float.IsFinite(strengths[e]) || strengths[e] < 0) throw new ArgumentException($"interaction strength must be a finite number ≥ 0; got {strengths[e]} for item index {items[e]}.", nameof(strengths));
        }
        if (!warmStart.IsEmpty && warmStart.Length != k) throw new ArgumentException($"warmStart must have k = {k} values.", nameof(warmStart));
        var gram = itemGram ?? GramMatrix.Compute(model.ItemFactors, model.Items, k);
        var order = items.ToArray();
        var conf = new float[order.Length];
        for (int e = 0; e < conf.Length; e++) conf[e] = settings.ConfidenceOf(strengths[e]);
        Array.Sort(order, conf);
        var csr = new CsrMatrix(1, model.Items, [0, order.Length], order, conf);
        var x = new float[k];
        warmStart.CopyTo(x);
        BlockSolver.Solve(csr, default, new RowBlock(0, 0, 1), model.ItemFactors, gram, x, settings);
        return x;
    }

    private static bool IsFinite(float[] gram)
    {
        foreach (float g in gram)
            if (!float.IsFinite(g)) return false;
        return true;
    }

    private static float[] CheckShape(float[] f, int rows, int k, string what) =>
        f.Length == rows * k ? (float[])f.Clone() : throw new ArgumentException($"{what} have {f.Length} values, expected {rows} × {k}.");
}
