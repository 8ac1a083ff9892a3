namespace BatchRecs.Core.Als;

/// <summary>G = YᵀY for a factor matrix Y (rows × k, row-major): computed once per half-step, shared by every block.</summary>
public static class GramMatrix
{
    private const int ChunkRows = 2048;

    /// <summary>
    /// Computes YᵀY (k×k row-major, full symmetric). Rows are summed in fixed chunks of 2048 (a blocked
    /// rank-2048 update each, <see cref="FactorMath.RankUpdateUpper"/>) that are reduced in chunk order,
    /// so the result is bit-identical whatever the number of threads.
    /// </summary>
    public static float[] Compute(float[] factors, int rows, int k, int maxThreads = -1)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive.");
        if ((long)factors.Length < (long)rows * k) throw new ArgumentException("factors is shorter than rows × k.", nameof(factors));
        int chunks = Math.Max(1, (rows + ChunkRows - 1) / ChunkRows);
        var partial = new float[chunks][];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, c =>
        {
            var g = new float[k * k];
            int start = c * ChunkRows, n = Math.Min(rows, start + ChunkRows) - start;
            var y = factors.AsSpan(start * k, n * k);
            FactorMath.RankUpdateUpper(g, k, y, y, n);
            partial[c] = g;
        });
        var result = partial[0];
        for (int c = 1; c < chunks; c++)
        {
            var p = partial[c];
            for (int i = 0; i < k; i++)
                FactorMath.Axpy(1f, p.AsSpan(i * k + i, k - i), result.AsSpan(i * k + i, k - i));
        }
        // Mirror the upper triangle (the only part the kernel defines) to the lower one.
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++)
                result[i * k + j] = result[j * k + i];
        return result;
    }

    /// <inheritdoc cref="Compute(float[], int, int, int)"/>
    public static float[] Compute(ReadOnlySpan<float> factors, int rows, int k, int maxThreads = -1)
    {
        if ((long)factors.Length < (long)rows * k) throw new ArgumentException("factors is shorter than rows × k.", nameof(factors));
        return Compute(factors[..(rows * k)].ToArray(), rows, k, maxThreads);
    }
}
