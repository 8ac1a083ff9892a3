using BatchRecs.Core.Als;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Tests.Als;

/// <summary>
/// Per-row solves against an independent dense closed form: A = Σ_all j cⱼyⱼyⱼᵀ + λI (no Gram trick),
/// b = Σ cⱼpⱼyⱼ, Gaussian elimination in double (<see cref="TestProblems.DenseSolve"/>).
/// </summary>
public class SolverTests
{
    private const int DstRows = 25;

    /// <summary>One src row with <paramref name="n"/> entries against random dst factors, solved by <see cref="BlockSolver"/>.</summary>
    private static (float[] Fast, double[] Exact) SolveOneRow(int k, int n, AlsSolver solver, int cgSteps, bool withPref, int seed)
    {
        var rng = new Random(seed);
        var dst = TestProblems.RandomVector(DstRows * k, rng, 0.5f);
        var cols = Enumerable.Range(0, DstRows).OrderBy(_ => rng.Next()).Take(n).Order().ToArray();
        var conf = cols.Select(_ => 1f + 2f * (1 + rng.Next(5))).ToArray();
        var pref = withPref ? cols.Select(_ => (float)rng.NextDouble()).ToArray() : [];
        var settings = TestProblems.Settings(k, solver, cgSteps: cgSteps, reg: 0.1f);
        var gram = GramMatrix.Compute(dst, DstRows, k);
        var csr = new CsrMatrix(1, DstRows, [0, n], cols, conf);
        var x = new float[k];
        BlockSolver.Solve(csr, pref, new RowBlock(0, 0, 1), dst, gram, x, settings);
        return (x, TestProblems.DenseSolve(dst, DstRows, k, cols, conf, pref, 0.1));
    }

    private static void AssertClose(double[] exact, float[] actual, double tol, string what)
    {
        double scale = Math.Max(1, exact.Max(Math.Abs));
        for (int f = 0; f < exact.Length; f++)
            Assert.True(Math.Abs(exact[f] - actual[f]) <= tol * scale, $"{what}: x[{f}] = {actual[f]}, closed form {exact[f]:G9}");
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 6)]
    [InlineData(7, 12)]
    [InlineData(16, 9)]
    [InlineData(17, 20)]
    public void Cholesky_equals_the_dense_closed_form(int k, int n)
    {
        foreach (bool pref in new[] { false, true })
        {
            var (x, exact) = SolveOneRow(k, n, AlsSolver.Cholesky, 3, pref, 10 * k + n);
            AssertClose(exact, x, 1e-4, $"cholesky k={k} n={n} pref={pref}");
        }
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 6)]
    [InlineData(7, 12)]
    [InlineData(16, 9)]
    [InlineData(17, 20)]
    public void Conjugate_gradient_run_to_convergence_equals_the_dense_closed_form(int k, int n)
    {
        foreach (bool pref in new[] { false, true })
        {
            // CG is exact after k steps in exact arithmetic; 3k steps absorb float rounding.
            var (x, exact) = SolveOneRow(k, n, AlsSolver.ConjugateGradient, 3 * k, pref, 10 * k + n);
            AssertClose(exact, x, 1e-4, $"cg k={k} n={n} pref={pref}");
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(100)]
    public void Rows_with_up_to_three_entries_are_solved_exactly_whatever_the_solver(int k)
    {
        // Through the Woodbury identity (SparseRowSolver): exact even with a single CG step allowed.
        for (int n = 1; n <= SparseRowSolver.MaxEntries; n++)
            foreach (bool pref in new[] { false, true })
                foreach (var (solver, steps) in new[] { (AlsSolver.ConjugateGradient, 1), (AlsSolver.Cholesky, 3) })
                {
                    var (x, exact) = SolveOneRow(k, n, solver, steps, pref, 7 * k + n);
                    AssertClose(exact, x, 1e-4, $"{solver} k={k} n={n} pref={pref}");
                }
    }

    [Fact]
    public void A_half_step_shares_one_inverse_and_matches_blocks_solved_alone()
    {
        // The in-process half-step computes (G + λI)⁻¹ once for all its blocks; a block task on a worker computes its own.
        // Both must give the same bits, with per-row λ (scale_regularization) and rows of every length.
        const int k = 8, users = 60, items = 40;
        var strengths = TestProblems.RandomStrengths(users, items, 0.04, 11);
        var settings = TestProblems.Settings(k, AlsSolver.ConjugateGradient, cgSteps: 3, reg: 0.2f) with { ScaleRegularization = true };
        var problem = AlsProblem.Build(strengths, settings);
        var y = TestProblems.RandomVector(items * k, new Random(2), 0.3f);
        var gram = GramMatrix.Compute(y, items, k);
        var blocks = BlockPartitioner.Partition(problem.UserItemConf, 4, k);
        var shared = new float[users * k];
        var step = new HalfStep(0, Side.Users, problem.UserItemConf, null, blocks, y, gram, shared, settings);
        var inverses = new SparseRowInverses(gram, k);
        foreach (var b in blocks) BlockSolver.Solve(step, b, inverses);
        var alone = new float[users * k];
        foreach (var b in blocks)
            BlockSolver.Solve(problem.UserItemConf, default, b, y, gram.ToArray(), alone.AsSpan(b.Start * k, b.Length * k), settings);
        Assert.Equal(alone, shared);
        Assert.Contains(Enumerable.Range(0, users), u => problem.UserItemConf.RowLength(u) is > 0 and <= SparseRowSolver.MaxEntries);
        Assert.Contains(Enumerable.Range(0, users), u => problem.UserItemConf.RowLength(u) > SparseRowSolver.MaxEntries);
    }

    [Fact]
    public void Three_cg_steps_from_zero_are_not_yet_the_exact_solution()
    {
        // Guards the test above: it passes because of the step count, not because CG ignores it.
        var (x, exact) = SolveOneRow(16, 9, AlsSolver.ConjugateGradient, 1, false, 169);
        double err = exact.Select((e, f) => Math.Abs(e - x[f])).Max();
        Assert.True(err > 1e-3, $"one CG step already within {err}");
    }

    [Theory]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(64)]
    [InlineData(100)]
    public void Fast_solvers_match_the_scalar_reference_solvers(int k)
    {
        var rng = new Random(k);
        int dstRows = 300, n = 150;
        var dst = TestProblems.RandomVector(dstRows * k, rng, 0.3f);
        var gram = GramMatrix.Compute(dst, dstRows, k);
        var cols = Enumerable.Range(0, dstRows).OrderBy(_ => rng.Next()).Take(n).Order().ToArray();
        var conf = cols.Select(_ => 1f + 3f * (float)rng.NextDouble()).ToArray();
        var warm = TestProblems.RandomVector(k, rng, 0.1f);

        var fast = (float[])warm.Clone();
        var slow = (float[])warm.Clone();
        var scratch = new float[ConjugateGradientSolver.ScratchLength(k)];
        ConjugateGradientSolver.Solve(fast, gram, 0.5f, dst, cols, conf, default, 3, scratch);
        ReferenceSolver.ConjugateGradient(slow, gram, 0.5f, dst, cols, conf, default, 3);
        AssertClose(slow.Select(v => (double)v).ToArray(), fast, 1e-4, $"cg k={k}");

        var chol = new float[k];
        var cholRef = new float[k];
        CholeskySolver.Solve(chol, gram, 0.5f, dst, cols, conf, default, new float[CholeskySolver.ScratchLength(k)]);
        ReferenceSolver.Cholesky(cholRef, gram, 0.5f, dst, cols, conf, default);
        AssertClose(cholRef.Select(v => (double)v).ToArray(), chol, 1e-4, $"cholesky k={k}");
    }

    [Fact]
    public void Gram_matrix_equals_a_double_precision_sum_and_is_symmetric()
    {
        int rows = 5000, k = 24; // more than two 2048-row chunks
        var y = TestProblems.RandomVector(rows * k, new Random(3), 0.2f);
        var g = GramMatrix.Compute(y, rows, k);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++) s += (double)y[r * k + i] * y[r * k + j];
                Assert.True(Math.Abs(s - g[i * k + j]) < 1e-3, $"G[{i},{j}] = {g[i * k + j]}, expected {s}");
                Assert.Equal(g[i * k + j], g[j * k + i]);
            }
    }

    [Fact]
    public void Gram_matrix_is_bit_identical_for_any_thread_count()
    {
        int rows = 9000, k = 64;
        var y = TestProblems.RandomVector(rows * k, new Random(5), 0.2f);
        var one = GramMatrix.Compute(y, rows, k, maxThreads: 1);
        var many = GramMatrix.Compute(y, rows, k, maxThreads: 4);
        Assert.Equal(BitsOf(one), BitsOf(many));
    }

    internal static int[] BitsOf(float[] a) => a.Select(BitConverter.SingleToInt32Bits).ToArray();
}
