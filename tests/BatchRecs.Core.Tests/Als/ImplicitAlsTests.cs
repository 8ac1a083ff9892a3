using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;

namespace BatchRecs.Core.Tests.Als;

/// <summary>Whole fits: loss behaviour, CG against Cholesky, determinism across blocks and threads, fold-in.</summary>
public class ImplicitAlsTests
{
    private static AlsProblem Problem(int users, int items, double density, AlsSettings s, int seed = 1) =>
        AlsProblem.Build(TestProblems.RandomStrengths(users, items, density, seed), s);

    /// <summary>The plain problem, or Rel-MF's with item propensities from 0.2 up, repeating every <paramref name="cycle"/> items.</summary>
    private static AlsProblem Problem(bool relMf, CsrMatrix strengths, AlsSettings s, int cycle, IExecutor? executor = null)
    {
        var theta = Enumerable.Range(0, strengths.Cols).Select(i => 0.2f + 0.8f * (i % cycle) / cycle).ToArray();
        return relMf ? AlsProblem.BuildRelMf(strengths, s, theta, executor) : AlsProblem.Build(strengths, s, executor);
    }

    [Fact]
    public void Training_loss_equals_the_brute_force_loss()
    {
        var s = TestProblems.Settings(6, AlsSolver.Cholesky, iterations: 2);
        var problem = Problem(40, 30, 0.15, s);
        var model = ImplicitAls.Fit(problem, s, new LocalExecutor(1));
        double expected = TestProblems.BruteForceLoss(problem.UserItemConf, model.UserFactors, model.ItemFactors, 6, s.Regularization);
        Assert.True(Math.Abs(model.History[^1].Loss - expected) <= 1e-4 * expected, $"loss {model.History[^1].Loss} vs brute force {expected}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_loss_from_the_item_half_steps_parts_equals_the_loss_summed_over_the_users_whatever_the_blocks(bool relMf)
    {
        var s = TestProblems.Settings(8, AlsSolver.ConjugateGradient, iterations: 3);
        var problem = Problem(relMf, TestProblems.RandomStrengths(120, 70, 0.1, 9), s, cycle: 5);
        double[]? first = null;
        foreach (int blocks in new[] { 1, 3, 7 })
        {
            var model = ImplicitAls.Fit(problem, s, new LocalExecutor(2), new AlsFitOptions { UserBlocks = blocks, ItemBlocks = blocks });
            var losses = model.History.Select(h => h.Loss).ToArray();
            // The direct sum over the user side's entries (TrainingLoss.Compute) is the reference: other orientation, other order.
            double direct = TrainingLoss.Compute(problem, s, model.UserFactors, model.ItemFactors, GramMatrix.Compute(model.ItemFactors, problem.Items, 8));
            Assert.True(Math.Abs(losses[^1] - direct) <= 1e-9 * Math.Abs(direct), $"{losses[^1]} vs {direct}");
            first ??= losses;
            Assert.Equal(first, losses); // each item's part is its own sum: the blocks do not change a bit
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_fit_whose_executor_keeps_the_transposed_entries_elsewhere_equals_the_local_fit_bit_for_bit(bool relMf)
    {
        var s = TestProblems.Settings(8, AlsSolver.ConjugateGradient, iterations: 4);
        var strengths = TestProblems.RandomStrengths(90, 60, 0.08, 5);
        AlsProblem Build(IExecutor? executor) => Problem(relMf, strengths, s, cycle: 7, executor);
        var elsewhere = new EntriesElsewhereExecutor();
        var problem = Build(elsewhere);
        Assert.False(problem.ItemUserConf.HasEntries);
        Assert.Null(problem.ItemUserPref);
        var local = ImplicitAls.Fit(Build(null), s, new LocalExecutor(2));
        var remote = ImplicitAls.Fit(problem, s, elsewhere);
        Assert.Equal(local.UserFactors, remote.UserFactors);
        Assert.Equal(local.ItemFactors, remote.ItemFactors);
        Assert.Equal(local.History.Select(h => h.Loss), remote.History.Select(h => h.Loss));
        // In process, a half-step over a matrix without entries is refused rather than solved from nothing.
        Assert.Throws<ArgumentException>(() => ImplicitAls.Fit(problem, s, new LocalExecutor(2)));
    }

    [Fact]
    public void A_warm_start_is_copied_unless_the_fit_may_solve_in_place_and_both_give_the_same_factors()
    {
        var s = TestProblems.Settings(6, AlsSolver.ConjugateGradient, iterations: 2);
        var problem = Problem(50, 40, 0.1, s);
        var start = ImplicitAls.Fit(problem, s, new LocalExecutor(2));
        var (users, items) = ((float[])start.UserFactors.Clone(), (float[])start.ItemFactors.Clone());
        var copied = ImplicitAls.Fit(problem, s, new LocalExecutor(2), new AlsFitOptions { WarmUsers = users, WarmItems = items });
        Assert.Equal(start.UserFactors, users); // untouched
        var inPlace = ImplicitAls.Fit(problem, s, new LocalExecutor(2), new AlsFitOptions { WarmUsers = users, WarmItems = items, WarmInPlace = true });
        Assert.Same(users, inPlace.UserFactors);
        Assert.Same(items, inPlace.ItemFactors);
        Assert.Equal(copied.UserFactors, inPlace.UserFactors);
        Assert.Equal(copied.ItemFactors, inPlace.ItemFactors);
        Assert.NotEqual(start.UserFactors, inPlace.UserFactors);
    }

    [Fact]
    public void Cholesky_loss_decreases_at_every_iteration()
    {
        var s = TestProblems.Settings(8, AlsSolver.Cholesky, iterations: 15);
        var model = ImplicitAls.Fit(Problem(120, 80, 0.08, s), s, new LocalExecutor(2));
        for (int it = 1; it < model.History.Count; it++)
            Assert.True(model.History[it].Loss <= model.History[it - 1].Loss * (1 + 1e-6),
                $"loss rose at iteration {it + 1}: {model.History[it - 1].Loss} → {model.History[it].Loss}");
        Assert.True(model.History[^1].Loss < 0.9 * model.History[0].Loss, "the loss barely moved; the test data is too easy");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Cg_with_a_few_steps_ends_within_one_percent_of_cholesky(int steps)
    {
        var chol = TestProblems.Settings(16, AlsSolver.Cholesky, iterations: 15);
        var cg = chol with { Solver = AlsSolver.ConjugateGradient, CgSteps = steps };
        var problem = Problem(300, 150, 0.05, chol);
        double lc = ImplicitAls.Fit(problem, chol, new LocalExecutor(2)).History[^1].Loss;
        double lg = ImplicitAls.Fit(problem, cg, new LocalExecutor(2)).History[^1].Loss;
        Assert.True(Math.Abs(lg - lc) <= 0.01 * lc, $"CG({steps}) loss {lg} vs Cholesky {lc}");
    }

    [Theory]
    [InlineData(AlsSolver.ConjugateGradient, 16)]
    [InlineData(AlsSolver.ConjugateGradient, 64)]
    [InlineData(AlsSolver.ConjugateGradient, 10)]
    [InlineData(AlsSolver.Cholesky, 16)]
    [InlineData(AlsSolver.Cholesky, 21)]
    public void Factors_are_bit_identical_for_any_blocks_and_threads(AlsSolver solver, int k)
    {
        var s = TestProblems.Settings(k, solver, iterations: 3);
        // More than 2048 users, so the Gram matrix of X is summed over several chunks.
        var problem = Problem(2500, 200, 0.02, s, seed: 11);
        var reference = ImplicitAls.Fit(problem, s, new LocalExecutor(1), new AlsFitOptions { UserBlocks = 1, ItemBlocks = 1 });
        foreach (var (threads, ub, ib) in new[] { (2, 7, 5), (4, 64, 3), (3, 0, 0) })
        {
            var other = ImplicitAls.Fit(problem, s, new LocalExecutor(threads), new AlsFitOptions { UserBlocks = ub, ItemBlocks = ib });
            Assert.Equal(SolverTests.BitsOf(reference.UserFactors), SolverTests.BitsOf(other.UserFactors));
            Assert.Equal(SolverTests.BitsOf(reference.ItemFactors), SolverTests.BitsOf(other.ItemFactors));
            Assert.Equal(reference.History.Select(h => h.Loss), other.History.Select(h => h.Loss));
        }
    }

    [Theory]
    [InlineData(AlsSolver.Cholesky)]
    [InlineData(AlsSolver.ConjugateGradient)]
    public void Fold_in_of_a_training_user_reproduces_its_vector_after_a_user_half_step(AlsSolver solver)
    {
        var s = TestProblems.Settings(16, solver, iterations: 5);
        var strengths = TestProblems.RandomStrengths(200, 120, 0.05, 3);
        var problem = AlsProblem.Build(strengths, s);
        var model = ImplicitAls.Fit(problem, s, new LocalExecutor(2));
        // One more user half-step given the final item factors: each user's fitted vector for Y.
        var warm = (float[])model.UserFactors.Clone();
        var fitted = (float[])warm.Clone();
        var gram = GramMatrix.Compute(model.ItemFactors, model.Items, 16);
        BlockSolver.Solve(problem.UserItemConf, default, new RowBlock(0, 0, model.Users), model.ItemFactors, gram, fitted, s);
        foreach (int u in new[] { 0, 17, 199 })
        {
            // Cholesky needs no start; CG continues from the same warm start as the half-step.
            var start = solver == AlsSolver.Cholesky ? default : warm.AsSpan(u * 16, 16);
            var x = ImplicitAls.FoldIn(model, strengths.RowCols(u), strengths.RowValues(u), s, warmStart: start);
            Assert.Equal(SolverTests.BitsOf(fitted.AsSpan(u * 16, 16).ToArray()), SolverTests.BitsOf(x));
        }
        // Order of the history does not matter.
        var cols = strengths.RowCols(5).ToArray().Reverse().ToArray();
        var vals = strengths.RowValues(5).ToArray().Reverse().ToArray();
        if (solver == AlsSolver.Cholesky)
            Assert.Equal(SolverTests.BitsOf(fitted.AsSpan(5 * 16, 16).ToArray()), SolverTests.BitsOf(ImplicitAls.FoldIn(model, cols, vals, s)));
    }

    [Fact]
    public void Fold_in_of_a_converged_training_user_is_close_to_its_fitted_vector()
    {
        var s = TestProblems.Settings(8, AlsSolver.Cholesky, iterations: 40, reg: 1f);
        var strengths = TestProblems.RandomStrengths(100, 60, 0.08, 9);
        var model = ImplicitAls.Fit(AlsProblem.Build(strengths, s), s, new LocalExecutor(2));
        for (int u = 0; u < 5; u++)
        {
            var x = ImplicitAls.FoldIn(model, strengths.RowCols(u), strengths.RowValues(u), s);
            var fitted = model.UserVector(u).ToArray();
            double norm = Math.Sqrt(FactorMath.Dot(fitted, fitted));
            double diff = Math.Sqrt(x.Select((v, f) => (double)(v - fitted[f]) * (v - fitted[f])).Sum());
            Assert.True(diff <= 0.02 * norm + 1e-4, $"user {u}: fold-in differs by {diff} (‖x‖ = {norm})");
        }
    }
}
