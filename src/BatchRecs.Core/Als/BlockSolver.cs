using BatchRecs.Core.Data;

namespace BatchRecs.Core.Als;

/// <summary>
/// The block task: solves the src rows of one block given the dst factors and their Gram matrix.
/// A pure function of its inputs: each row's result depends only on that row's entries, the dst
/// factors, G and its own warm start, so blocks may run in any order, on any thread or host.
/// </summary>
public static class BlockSolver
{
    /// <param name="srcBlockFactors">the block's rows × k (in: warm start, out: solution).</param>
    public static void Solve(CsrMatrix conf, ReadOnlySpan<float> pref, RowBlock block,
        ReadOnlySpan<float> dstFactors, ReadOnlySpan<float> gram, Span<float> srcBlockFactors, AlsSettings s)
    {
        int k = s.Factors;
        if (srcBlockFactors.Length != block.Length * k) throw new ArgumentException("srcBlockFactors must hold block.Length × k floats.");
        Span<float> scratch = s.Solver == AlsSolver.Cholesky ? new float[k * k + k] : stackalloc float[3 * k];
        for (int row = block.Start; row < block.End; row++)
        {
            int lo = conf.RowPtr[row], n = conf.RowPtr[row + 1] - lo;
            var x = srcBlockFactors.Slice((row - block.Start) * k, k);
            if (n == 0) { x.Clear(); continue; }
            var cols = conf.ColIdx.AsSpan(lo, n);
            var c = conf.Values.AsSpan(lo, n);
            var p = pref.IsEmpty ? ReadOnlySpan<float>.Empty : pref.Slice(lo, n);
            float lambda = s.ScaleRegularization ? s.Regularization * n : s.Regularization;
            if (s.Solver == AlsSolver.Cholesky)
                CholeskySolver.Solve(x, gram, lambda, dstFactors, cols, c, p, scratch);
            else
                ConjugateGradientSolver.Solve(x, gram, lambda, dstFactors, cols, c, p, s.CgSteps, scratch);
        }
    }

    /// <summary>Runs one block of a half-step in place.</summary>
    public static void Solve(HalfStep step, RowBlock block)
    {
        int k = step.Settings.Factors;
        Solve(step.Conf, step.Pref, block, step.DstFactors, step.Gram,
            step.SrcFactors.AsSpan(block.Start * k, block.Length * k), step.Settings);
    }
}
