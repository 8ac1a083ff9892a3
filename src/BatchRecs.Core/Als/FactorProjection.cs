using System.Numerics.Tensors;

namespace BatchRecs.Core.Als;

/// <summary>
/// Turns a fitted model into a warm start for a fit with a different number of factors: both sides are rotated onto
/// the principal directions of the item factors (eigenvectors of YᵀY, largest first), which leaves every score xᵤᵀyᵢ
/// unchanged, and then cut to the first k directions (the rank-k model closest to the original in the item metric) or,
/// for more factors, padded with zero-mean random columns as strong as the weakest kept direction (so the new capacity
/// is used from the first iteration, not grown from the 0.01 start of a cold fit). Tuning trials start from the reference fit this way, so a
/// trial's first iterations already say how its settings move a good model instead of how fast they leave noise.
/// </summary>
public static class FactorProjection
{
    /// <param name="seed">seed of the random columns added when <paramref name="k"/> exceeds the model's factors.</param>
    /// <param name="model">the fitted model to start from.</param>
    /// <param name="k">the factor count of the result: the model's columns are cut or padded to it.</param>
    public static (float[] Users, float[] Items) Project(AlsModel model, int k, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"factors must be positive (got {k}).");
        int kr = model.Factors;
        var basis = PrincipalDirections(model.ItemFactors, model.Items, kr);
        return (Rotate(model.UserFactors, model.Users, kr, basis, k, seed, Side.Users),
                Rotate(model.ItemFactors, model.Items, kr, basis, k, seed, Side.Items));
    }

    private static float[] Rotate(float[] factors, int rows, int kr, double[] basis, int k, ulong seed, Side side)
    {
        int kept = Math.Min(k, kr);
        // The kept directions as rows, so each output value is one contiguous dot product.
        var directions = new float[kept * kr];
        for (int j = 0; j < kept; j++)
            for (int i = 0; i < kr; i++) directions[j * kr + i] = (float)basis[i * kr + j];
        var result = new float[(long)rows * k];
        Parallel.For(0, rows, r =>
        {
            var src = factors.AsSpan(r * kr, kr);
            var dst = result.AsSpan(r * k, k);
            for (int j = 0; j < kept; j++) dst[j] = TensorPrimitives.Dot(src, directions.AsSpan(j * kr, kr));
        });
        if (k > kr)
        {
            double sq = 0;
            for (int r = 0; r < rows; r++) sq += (double)result[(long)r * k + kr - 1] * result[(long)r * k + kr - 1];
            float rms = rows == 0 ? 0f : (float)Math.Sqrt(sq / rows);
            float scale = rms > 0 && float.IsFinite(rms) ? rms * MathF.Sqrt(3f) : 0.01f; // uniform(−a, a) has RMS a/√3
            for (int r = 0; r < rows; r++)
            {
                var extra = result.AsSpan(r * k + kr, k - kr);
                FactorInit.FillRow(extra, seed, side, r, 2 * scale);
                for (int j = 0; j < extra.Length; j++) extra[j] -= scale;
            }
        }
        return result;
    }

    /// <summary>
    /// Eigenvectors of the k×k Gram matrix YᵀY as the columns of a row-major k×k matrix, ordered by descending
    /// eigenvalue (cyclic Jacobi rotations in double; k is at most a few hundred).
    /// </summary>
    public static double[] PrincipalDirections(float[] itemFactors, int items, int k)
    {
        var gram = GramMatrix.Compute(itemFactors, items, k);
        var a = new double[k * k];
        for (int i = 0; i < a.Length; i++) a[i] = gram[i];
        var v = new double[k * k];
        for (int i = 0; i < k; i++) v[i * k + i] = 1;
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = 0, diag = 0;
            for (int p = 0; p < k; p++)
            {
                diag += a[p * k + p] * a[p * k + p];
                for (int q = p + 1; q < k; q++) off += a[p * k + q] * a[p * k + q];
            }
            if (off <= 1e-24 * Math.Max(diag, 1e-300)) break;
            for (int p = 0; p < k; p++)
                for (int q = p + 1; q < k; q++)
                {
                    double apq = a[p * k + q];
                    if (Math.Abs(apq) < 1e-300) continue;
                    double theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int r = 0; r < k; r++)
                    {
                        double arp = a[r * k + p], arq = a[r * k + q];
                        a[r * k + p] = c * arp - s * arq;
                        a[r * k + q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < k; r++)
                    {
                        double apr = a[p * k + r], aqr = a[q * k + r];
                        a[p * k + r] = c * apr - s * aqr;
                        a[q * k + r] = s * apr + c * aqr;
                    }
                    for (int r = 0; r < k; r++)
                    {
                        double vrp = v[r * k + p], vrq = v[r * k + q];
                        v[r * k + p] = c * vrp - s * vrq;
                        v[r * k + q] = s * vrp + c * vrq;
                    }
                }
        }
        var order = Enumerable.Range(0, k).OrderByDescending(j => a[j * k + j]).ThenBy(j => j).ToArray();
        var sorted = new double[k * k];
        for (int r = 0; r < k; r++)
            for (int j = 0; j < k; j++) sorted[r * k + j] = v[r * k + order[j]];
        return sorted;
    }
}
