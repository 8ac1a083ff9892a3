using System.Numerics.Tensors;

namespace BatchRecs.Core.Index;

/// <summary>
/// Seeded, deterministic k-means for the IVF coarse quantizer: k-means++ seeding (Arthur &amp; Vassilvitskii 2007)
/// on a sample, then Lloyd iterations on a larger training sample. Assignment steps use the blocked top-N scan
/// (nearest centroid = top-1 of [x, 1]ᵀ[c, −‖c‖²/2]), so they run at matrix-multiply speed on all cores.
/// Results do not depend on the thread count: every parallel step writes per-point values, and all sums run
/// sequentially in point order.
/// </summary>
internal static class KMeans
{
    /// <summary>Fits <paramref name="clusters"/> centroids (clusters × dim) to the rows of <paramref name="points"/> (n × dim).</summary>
    public static float[] Fit(float[] points, int n, int dim, int clusters, int iterations, int trainPerCluster, ulong seed, int maxThreads)
    {
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var train = Sample(n, Math.Max(clusters, (int)Math.Min(n, (long)clusters * trainPerCluster)), rng);
        var pool = Sample(train.Length, Math.Min(train.Length, Math.Max(clusters, 8 * clusters)), rng).Select(i => train[i]).ToArray();
        var centroids = SeedPlusPlus(points, dim, pool, clusters, rng, maxThreads);

        var x = new float[(long)train.Length * dim];
        for (int t = 0; t < train.Length; t++) points.AsSpan(train[t] * dim, dim).CopyTo(x.AsSpan(t * dim, dim));
        for (int it = 0; it < iterations; it++)
        {
            var assign = Assign(x, train.Length, dim, centroids, clusters, maxThreads);
            Update(x, dim, assign, centroids, clusters);
        }
        return centroids;
    }

    /// <summary>Index of the nearest centroid (squared Euclidean distance, ties to the lower index) of every row.</summary>
    public static int[] Assign(float[] points, int n, int dim, float[] centroids, int clusters, int maxThreads)
    {
        var q = MipsTransform.AppendColumn(points, n, dim, _ => 1f);
        var c = MipsTransform.NearestAsInnerProduct(centroids, clusters, dim);
        var panels = PackedPanels.Pack(c, dim + 1, PackedPanels.IdentitySlots(clusters));
        var result = new TopNResult(n, 1);
        ExactTopN.SearchCore(q, panels, 1, ItemExclusions.None, null, n, maxThreads, result);
        return result.Items;
    }

    private static float[] SeedPlusPlus(float[] points, int dim, int[] pool, int clusters, Random rng, int maxThreads)
    {
        var centroids = new float[(long)clusters * dim];
        var d2 = new double[pool.Length];
        Array.Fill(d2, double.PositiveInfinity);
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads };
        int next = pool[rng.Next(pool.Length)];
        for (int c = 0; c < clusters; c++)
        {
            points.AsSpan(next * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
            var centre = centroids.AsMemory(c * dim, dim);
            Parallel.For(0, (pool.Length + 1023) / 1024, options, b =>
            {
                var cs = centre.Span;
                for (int i = b * 1024; i < Math.Min(pool.Length, (b + 1) * 1024); i++)
                {
                    double e = TensorPrimitives.Distance(points.AsSpan(pool[i] * dim, dim), cs);
                    d2[i] = Math.Min(d2[i], e * e);
                }
            });
            // Next centre with probability ∝ D(x)², sampled sequentially so the choice is deterministic.
            double total = 0;
            foreach (double v in d2) total += v;
            double r = rng.NextDouble() * total;
            int pick = pool.Length - 1;
            for (int i = 0; i < pool.Length; i++)
            {
                r -= d2[i];
                if (r < 0) { pick = i; break; }
            }
            if (total <= 0) pick = rng.Next(pool.Length); // all points coincide with centres
            next = pool[pick];
        }
        return centroids;
    }

    private static void Update(float[] x, int dim, int[] assign, float[] centroids, int clusters)
    {
        var sums = new double[(long)clusters * dim];
        var counts = new int[clusters];
        for (int t = 0; t < assign.Length; t++)
        {
            int c = assign[t];
            counts[c]++;
            var row = x.AsSpan(t * dim, dim);
            for (int d = 0; d < dim; d++) sums[(long)c * dim + d] += row[d];
        }
        for (int c = 0; c < clusters; c++)
        {
            if (counts[c] == 0) continue;
            for (int d = 0; d < dim; d++) centroids[(long)c * dim + d] = (float)(sums[(long)c * dim + d] / counts[c]);
        }
        // An empty cluster takes half of the largest one: copy its centre, then push the two copies apart
        // symmetrically (as FAISS does); the next assignment splits the points between them.
        const float eps = 1f / 1024;
        for (int e = 0; e < clusters; e++)
        {
            if (counts[e] != 0) continue;
            int big = 0;
            for (int c = 1; c < clusters; c++) if (counts[c] > counts[big]) big = c;
            if (counts[big] < 2) break;
            for (int d = 0; d < dim; d++)
            {
                float v = centroids[(long)big * dim + d];
                float step = d % 2 == 0 ? eps : -eps;
                centroids[(long)e * dim + d] = v * (1 + step);
                centroids[(long)big * dim + d] = v * (1 - step);
            }
            counts[e] = counts[big] / 2;
            counts[big] -= counts[e];
        }
    }

    /// <summary><paramref name="count"/> distinct indices of [0, n), ascending (partial Fisher–Yates).</summary>
    internal static int[] Sample(int n, int count, Random rng)
    {
        if (count >= n) return Enumerable.Range(0, n).ToArray();
        var all = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.Next(n - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        var s = all.AsSpan(0, count).ToArray();
        Array.Sort(s);
        return s;
    }
}
