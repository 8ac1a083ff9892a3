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
    /// <summary>Fits factors; <paramref name="options"/> (null = <see cref="AlsFitOptions.Default"/>) set the start, the blocks and what is tracked and saved.</summary>
    /// <param name="problem">the confidence (and preference) CSRs in both orientations.</param>
    /// <param name="settings">factors, λ, iterations, solver and seed.</param>
    /// <param name="executor">runs each half-step's block tasks.</param>
    /// <param name="options">warm start, blocks, per-iteration callback, checkpoint, loss tracking and user sample.</param>
    /// <param name="cancellationToken">cancels the fit between half-steps.</param>
    public static AlsModel Fit(AlsProblem problem, AlsSettings settings, IExecutor executor, AlsFitOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var o = options ?? AlsFitOptions.Default;
        settings.Validate();
        if (!(o.UserSample > 0 && o.UserSample <= 1)) throw new ArgumentOutOfRangeException(nameof(AlsFitOptions.UserSample), $"the user sample must be a share in (0, 1] (got {o.UserSample}).");
        var itemSettings = o.UserSample < 1 && !settings.ScaleRegularization ? settings with { Regularization = (float)(settings.Regularization * o.UserSample) } : settings;
        if (settings.Mode != AlsMode.Implicit) throw new ArgumentException("mode is explicit: fit ratings with ExplicitAls.Fit.", nameof(settings));
        if (problem.UserItemConf.NonZeros == 0) throw new BadInputException("there are no interactions to fit (empty input).");
        int k = settings.Factors;
        var userBlockList = BlockPartitioner.Partition(problem.UserItemConf, o.UserBlocks > 0 ? o.UserBlocks : executor.Blocks(problem.UserItemConf), k);
        var itemBlockList = BlockPartitioner.Partition(problem.ItemUserConf, o.ItemBlocks > 0 ? o.ItemBlocks : executor.Blocks(problem.ItemUserConf), k);

        var x = o.WarmUsers is not null ? CheckShape(o.WarmUsers, problem.Users, k, "warm user factors", o.WarmInPlace) : FactorInit.Random(problem.Users, k, settings.Seed, Side.Users);
        var y = o.WarmItems is not null ? CheckShape(o.WarmItems, problem.Items, k, "warm item factors", o.WarmInPlace) : FactorInit.Random(problem.Items, k, settings.Seed, Side.Items);

        var history = new List<IterationStats>(settings.Iterations);
        int first = 0;
        if (o.Checkpoint?.Load() is { } saved && saved.UserFactors.Length == x.Length && saved.ItemFactors.Length == y.Length
            && saved.CompletedIterations <= settings.Iterations)
        {
            (x, y, first) = (saved.UserFactors, saved.ItemFactors, saved.CompletedIterations);
            history.AddRange(saved.History);
        }
        int gramThreads = executor is LocalExecutor local ? local.MaxThreads : -1;
        float[]? gy = null;
        // Each item's share of the loss's observed part, computed by the item half-step as it solves the item.
        var itemObserved = o.TrackLoss ? new double[problem.Items] : null;
        for (int it = first; it < settings.Iterations; it++)
        {
            var sw = Stopwatch.StartNew();
            gy ??= GramMatrix.Compute(y, problem.Items, k, gramThreads);
            executor.RunHalfStep(new HalfStep(it, Side.Users, problem.UserItemConf, problem.UserItemPref, userBlockList, y, gy, x, settings), cancellationToken);
            var gx = GramMatrix.Compute(x, problem.Users, k, gramThreads);
            executor.RunHalfStep(new HalfStep(it, Side.Items, problem.ItemUserConf, problem.ItemUserPref, itemBlockList, x, gx, y, itemSettings, itemObserved),
                cancellationToken);
            // The loss needs the new item Gram (and the next iteration reuses it); without the loss it waits for the next
            // iteration, so a fit's last one computes none.
            gy = o.TrackLoss ? GramMatrix.Compute(y, problem.Items, k, gramThreads) : null;
            double seconds = sw.Elapsed.TotalSeconds;
            double loss = o.TrackLoss ? TrainingLoss.FromItemParts(problem, settings, x, y, gy!, itemObserved!) : double.NaN;
            if (o.TrackLoss ? !double.IsFinite(loss) : !IsFinite(gx) || !float.IsFinite(TensorPrimitives.SumOfMagnitudes(y)))
                throw new ArithmeticException($"ALS diverged at iteration {it + 1} (loss is {loss}); try increasing regularization or lowering alpha.");
            var stats = new IterationStats(it + 1, seconds, loss);
            history.Add(stats);
            o.Checkpoint?.Save(new FitState(it + 1, x, y, history));
            o.OnIteration?.Invoke(stats);
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

    private static float[] CheckShape(float[] f, int rows, int k, string what, bool inPlace) =>
        f.Length != rows * k ? throw new ArgumentException($"{what} have {f.Length} values, expected {rows} × {k}.") : inPlace ? f : (float[])f.Clone();
}
