using BatchRecs.Core.Data;

namespace BatchRecs.Core.Als;

/// <summary>
/// The block task: solves the src rows of one block given the dst factors and their Gram matrix.
/// A pure function of its inputs: each row's result depends only on that row's entries, the dst
/// factors, G and its own warm start, so blocks may run in any order, on any thread or host.
/// </summary>
public static class BlockSolver
{
    /// <param name="conf">src × dst confidences (CSR, shared, read-only).</param>
    /// <param name="pref">preferences aligned with <c>conf.Values</c>, or empty for all ones.</param>
    /// <param name="dstFactors">dst rows × k, row-major (shared, read-only).</param>
    /// <param name="gram">YᵀY of <paramref name="dstFactors"/>, k×k row-major (shared, read-only).</param>
    /// <param name="srcBlockFactors">the block's rows × k (in: warm start, out: solution).</param>
    /// <param name="inverses">(G + λI)⁻¹ for a λ, shared by the blocks of a half-step (see <see cref="SparseRowSolver"/>);
    /// null: computed here, once per λ the block needs.</param>
    /// <param name="block">the src rows this task solves.</param>
    /// <param name="s">the fit's settings (λ, solver, CG steps).</param>
    /// <param name="rowLoss">empty, or the block's rows' shares of the loss's observed part, written as each row is solved
    /// (<see cref="HalfStep.RowLoss"/>).</param>
    public static void Solve(CsrMatrix conf, ReadOnlySpan<float> pref, RowBlock block,
        ReadOnlySpan<float> dstFactors, ReadOnlySpan<float> gram, Span<float> srcBlockFactors, AlsSettings s,
        Func<float, float[]?>? inverses = null, Span<double> rowLoss = default)
    {
        if (!rowLoss.IsEmpty && rowLoss.Length != block.Length) throw new ArgumentException("rowLoss must hold one value per row of the block.", nameof(rowLoss));
        int k = s.Factors;
        if (srcBlockFactors.Length != block.Length * k) throw new ArgumentException("srcBlockFactors must hold block.Length × k floats.", nameof(srcBlockFactors));
        if (block.Start < 0 || block.End > conf.Rows || block.Start > block.End) throw new ArgumentOutOfRangeException(nameof(block), $"block [{block.Start}, {block.End}) is outside the {conf.Rows} rows.");
        if (gram.Length != k * k) throw new ArgumentException($"gram must be k×k ({k * k} floats), got {gram.Length}.", nameof(gram));
        if ((long)dstFactors.Length < (long)conf.Cols * k) throw new ArgumentException($"dstFactors must hold {conf.Cols} × {k} floats.", nameof(dstFactors));
        if (!pref.IsEmpty && pref.Length != conf.NonZeros) throw new ArgumentException("pref must have one value per stored entry.", nameof(pref));
        // The kernels read dst rows through unchecked references: check this block's columns once.
        int lo0 = conf.RowPtr[block.Start], hi0 = conf.RowPtr[block.End];
        foreach (int col in conf.ColIdx.AsSpan(lo0, hi0 - lo0))
            if ((uint)col >= (uint)conf.Cols) throw new ArgumentException($"column index {col} is outside the {conf.Cols} dst rows.", nameof(conf));

        bool cholesky = s.Solver == AlsSolver.Cholesky;
        int need = Math.Max(SparseRowSolver.ScratchLength(k), cholesky ? CholeskySolver.ScratchLength(k) : ConjugateGradientSolver.ScratchLength(k));
        Span<float> scratch = need <= 1024 ? stackalloc float[need] : new float[need];
        Dictionary<float, float[]?>? local = null;
        float[]? gramCopy = null;
        if (inverses is null)
            for (int row = block.Start; row < block.End && gramCopy is null; row++)
                if (conf.RowPtr[row + 1] - conf.RowPtr[row] is > 0 and <= SparseRowSolver.MaxEntries) gramCopy = gram.ToArray();
        float[]? InverseFor(float lambda)
        {
            if (inverses is not null) return inverses(lambda);
            local ??= [];
            return local.TryGetValue(lambda, out var m) ? m : local[lambda] = SparseRowSolver.Inverse(gramCopy!, lambda, k);
        }
        for (int row = block.Start; row < block.End; row++)
        {
            int lo = conf.RowPtr[row], n = conf.RowPtr[row + 1] - lo;
            var x = srcBlockFactors.Slice((row - block.Start) * k, k);
            if (n == 0)
            {
                x.Clear();
                if (!rowLoss.IsEmpty) rowLoss[row - block.Start] = 0;
                continue;
            }
            var cols = conf.ColIdx.AsSpan(lo, n);
            var c = conf.Values.AsSpan(lo, n);
            var p = pref.IsEmpty ? ReadOnlySpan<float>.Empty : pref.Slice(lo, n);
            float lambda = s.ScaleRegularization ? s.Regularization * n : s.Regularization;
            if (n <= SparseRowSolver.MaxEntries && InverseFor(lambda) is { } inverse)
                SparseRowSolver.Solve(x, inverse, dstFactors, cols, c, p, scratch);
            else if (cholesky)
                CholeskySolver.Solve(x, gram, lambda, dstFactors, cols, c, p, scratch);
            else
                ConjugateGradientSolver.Solve(x, gram, lambda, dstFactors, cols, c, p, s.CgSteps, scratch);
            if (!rowLoss.IsEmpty) rowLoss[row - block.Start] = TrainingLoss.ObservedPart(x, dstFactors, cols, c, p);
        }
    }

    /// <summary>Runs one block of a half-step in place.</summary>
    /// <param name="step">the half-step: src confidence CSR, dst factors, their Gram matrix, the src factors (written).</param>
    /// <param name="block">the src rows this task solves (only these rows are written).</param>
    /// <param name="inverses">(G + λI)⁻¹ of <c>step.Gram</c>, shared by the blocks of the half-step that run in this
    /// process (its owner makes one per half-step); null: the block computes its own (same bits, more work).</param>
    public static void Solve(HalfStep step, RowBlock block, SparseRowInverses? inverses = null)
    {
        int k = step.Settings.Factors;
        if (inverses is not null && !inverses.IsFor(step.Gram))
            throw new ArgumentException("inverses were made for another Gram matrix than this half-step's.", nameof(inverses));
        Solve(step.Conf, step.Pref, block, step.DstFactors, step.Gram,
            step.SrcFactors.AsSpan(block.Start * k, block.Length * k), step.Settings, inverses is null ? null : inverses.For,
            step.RowLoss is null ? default : step.RowLoss.AsSpan(block.Start, block.Length));
    }
}
