namespace BatchRecs.Core.Index;

/// <summary>
/// The reduction of maximum inner product search to nearest-neighbour search (Bachrach et al. 2014,
/// "Speeding up the Xbox recommender system using a Euclidean transformation for inner-product spaces", §3):
/// each item v gets one extra coordinate sqrt(M² − ‖v‖²), M the largest item norm, so every augmented item has
/// norm M; a query q gets 0. Then ‖q̃ − ṽ‖² = ‖q‖² + M² − 2·qᵀv, and the nearest augmented item is the one with
/// the largest inner product. Clustering the augmented items therefore groups items a query would rank
/// together, which plain inner-product k-means does not do when item norms vary widely (as in ALS factors).
/// </summary>
internal static class MipsTransform
{
    /// <summary>items (n × k, row-major) → augmented items (n × (k + 1)).</summary>
    public static float[] AugmentItems(float[] items, int n, int k, out float maxNorm)
    {
        var sq = new double[n];
        double max = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            foreach (float x in items.AsSpan(i * k, k)) s += (double)x * x;
            sq[i] = s;
            max = Math.Max(max, s);
        }
        var aug = new float[(long)n * (k + 1)];
        for (int i = 0; i < n; i++)
        {
            items.AsSpan(i * k, k).CopyTo(aug.AsSpan(i * (k + 1), k));
            aug[(long)i * (k + 1) + k] = (float)Math.Sqrt(Math.Max(0, max - sq[i]));
        }
        maxNorm = (float)Math.Sqrt(max);
        return aug;
    }

    /// <summary>rows (n × dim) → rows (n × (dim + 1)) with <paramref name="last"/>(row) appended.</summary>
    public static float[] AppendColumn(float[] rows, int n, int dim, Func<int, float> last)
    {
        var x = new float[(long)n * (dim + 1)];
        for (int i = 0; i < n; i++)
        {
            rows.AsSpan(i * dim, dim).CopyTo(x.AsSpan(i * (dim + 1), dim));
            x[(long)i * (dim + 1) + dim] = last(i);
        }
        return x;
    }

    /// <summary>
    /// Centroids (n × dim) → rows [c, −‖c‖²/2] (n × (dim + 1)). Against a query row [x, 1] the inner product is
    /// xᵀc − ‖c‖²/2, which orders centroids as −‖x − c‖² does: nearest-centroid search becomes a top-N inner-product scan.
    /// </summary>
    public static float[] NearestAsInnerProduct(float[] centroids, int n, int dim) =>
        AppendColumn(centroids, n, dim, c =>
        {
            double s = 0;
            foreach (float x in centroids.AsSpan(c * dim, dim)) s += (double)x * x;
            return (float)(-0.5 * s);
        });
}
