using System.Numerics.Tensors;

namespace BatchRecs.Core.Als;

/// <summary>G = YᵀY for a factor matrix Y (rows × k, row-major): computed once per half-step, shared by every block.</summary>
public static class GramMatrix
{
    private const int ChunkRows = 2048;

    /// <summary>
    /// Computes YᵀY (k×k row-major, full symmetric). Rows are summed in fixed chunks that are reduced
    /// in chunk order, so the result is bit-identical whatever the number of threads.
    /// </summary>
    public static float[] Compute(ReadOnlySpan<float> factors, int rows, int k, int maxThreads = -1)
    {
        if (factors.Length < rows * k) throw new ArgumentException("factors is shorter than rows × k.");
        int chunks = Math.Max(1, (rows + ChunkRows - 1) / ChunkRows);
        var partial = new float[chunks][];
        var y = factors[..(rows * k)].ToArray();
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, c =>
        {
            var g = new float[k * k];
            int end = Math.Min(rows, (c + 1) * ChunkRows);
            for (int r = c * ChunkRows; r < end; r++)
            {
                var row = y.AsSpan(r * k, k);
                for (int i = 0; i < k; i++)
                {
                    // Lower triangle only; mirrored below.
                    var gi = g.AsSpan(i * k, i + 1);
                    TensorPrimitives.MultiplyAdd(row[..(i + 1)], row[i], gi, gi);
                }
            }
            partial[c] = g;
        });
        var result = partial[0];
        for (int c = 1; c < chunks; c++) TensorPrimitives.Add(result, partial[c], result);
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++)
                result[i * k + j] = result[j * k + i];
        return result;
    }
}
