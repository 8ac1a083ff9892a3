namespace BatchRecs.Core.Data;

/// <summary>Shape of a synthetic interaction log.</summary>
public sealed record SyntheticSpec(int Users = 5_000, int Items = 2_000, int Interactions = 200_000, int Days = 28,
    ulong Seed = 42, DateOnly? LastDay = null, double ZipfExponent = 0.8, double ExploreFraction = 0.1)
{
    public DateOnly EndDay => LastDay ?? new DateOnly(2026, 11, 26);
    public DateOnly FirstDay => EndDay.AddDays(-(Days - 1));
}

/// <summary>A generated log in columnar form (external ids are 1-based INT64).</summary>
public sealed record SyntheticLog(long[] UserIds, long[] ItemIds, long[] TimesMicros, byte[] EventTypes)
{
    public static readonly string[] EventTypeNames = ["view", "cart", "purchase"];

    /// <summary>
    /// The log with ids mapped to dense indices (as the reader would), each event weighing
    /// <paramref name="eventWeights"/>[event type] (indexed like <see cref="EventTypeNames"/>), or 1 when none are given.
    /// </summary>
    public InteractionLog ToInteractionLog(float[]? eventWeights = null)
    {
        var userIds = IdMap.FromInt64(UserIds);
        var itemIds = IdMap.FromInt64(ItemIds);
        int n = UserIds.Length;
        var u = new int[n]; var i = new int[n]; var v = new float[n];
        for (int e = 0; e < n; e++)
        {
            userIds.TryGetIndex(UserIds[e], out u[e]);
            itemIds.TryGetIndex(ItemIds[e], out i[e]);
            v[e] = eventWeights?[EventTypes[e]] ?? 1f;
        }
        return new InteractionLog(userIds, itemIds, u, i, v, TimesMicros);
    }
}

/// <summary>
/// Generates a realistic implicit-feedback log: items have power-law (Zipf) popularity and belong to
/// latent clusters ("genres"); each user has a taste for two or three clusters and a log-normal activity
/// level. Most events pick a cluster from the user's taste and an item within it by popularity; a
/// fraction explores the global popularity ranking. A model that learns tastes therefore beats the
/// popularity ranking, as on real logs. Deterministic for a given spec.
/// </summary>
public static class SyntheticInteractions
{
    public static SyntheticLog Generate(SyntheticSpec spec)
    {
        if (spec.Users <= 0 || spec.Items <= 0 || spec.Interactions <= 0 || spec.Days <= 0)
            throw new ArgumentException("users, items, interactions and days must all be positive.");
        var rng = new Random(unchecked((int)(spec.Seed ^ (spec.Seed >> 32))));
        int clusters = Math.Clamp((int)Math.Sqrt(spec.Items), 4, 400);

        // Item popularity: Zipf over a random permutation, so popularity and id are unrelated.
        var perm = Enumerable.Range(0, spec.Items).ToArray();
        rng.Shuffle(perm);
        var popularity = new double[spec.Items];
        for (int r = 0; r < spec.Items; r++) popularity[perm[r]] = 1.0 / Math.Pow(r + 1, spec.ZipfExponent);
        var clusterOf = new int[spec.Items];
        for (int i = 0; i < spec.Items; i++) clusterOf[i] = rng.Next(clusters);
        var members = Enumerable.Range(0, clusters).Select(c => new List<int>()).ToArray();
        for (int i = 0; i < spec.Items; i++) members[clusterOf[i]].Add(i);
        var clusterItems = members.Select(m => m.ToArray()).ToArray();
        var clusterCdf = clusterItems.Select(m => Cdf(m.Select(i => popularity[i]))).ToArray();
        var globalCdf = Cdf(popularity);

        // Users: 2–3 favourite clusters with random weights, log-normal activity.
        var tastes = new (int Cluster, double Cum)[spec.Users][];
        var activity = new double[spec.Users];
        for (int u = 0; u < spec.Users; u++)
        {
            int m = 2 + rng.Next(2);
            var w = new double[m];
            var c = new int[m];
            double sum = 0;
            for (int j = 0; j < m; j++) { c[j] = rng.Next(clusters); w[j] = rng.NextDouble() + 0.2; sum += w[j]; }
            double acc = 0;
            tastes[u] = new (int, double)[m];
            for (int j = 0; j < m; j++) { acc += w[j] / sum; tastes[u][j] = (c[j], acc); }
            activity[u] = Math.Exp(rng.NextDouble() * 2.0 + NextGaussian(rng) * 0.6);
        }
        var userCdf = Cdf(activity);

        long start = new DateTimeOffset(spec.FirstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        long span = spec.Days * 86_400_000_000L;
        int n = spec.Interactions;
        var users = new long[n]; var items = new long[n]; var times = new long[n]; var types = new byte[n];
        var clusterEmpty = clusterItems.Select(m => m.Length == 0).ToArray();
        for (int e = 0; e < n; e++)
        {
            int u = Sample(userCdf, rng.NextDouble());
            int item;
            double x = rng.NextDouble();
            int cl = -1;
            if (x >= spec.ExploreFraction)
            {
                double y = rng.NextDouble();
                foreach (var (c, cum) in tastes[u]) { if (y <= cum) { cl = c; break; } }
                if (cl < 0) cl = tastes[u][^1].Cluster;
            }
            if (cl < 0 || clusterEmpty[cl]) item = Sample(globalCdf, rng.NextDouble());
            else item = clusterItems[cl][Sample(clusterCdf[cl], rng.NextDouble())];
            users[e] = u + 1;
            items[e] = item + 1;
            times[e] = start + (long)(rng.NextDouble() * span);
            double t = rng.NextDouble();
            types[e] = (byte)(t < 0.80 ? 0 : t < 0.95 ? 1 : 2);
        }
        return new SyntheticLog(users, items, times, types);
    }

    /// <summary>
    /// An impression log for <paramref name="log"/>: every interaction was shown, plus <paramref name="extraPerEvent"/>
    /// impressions per event of items drawn by popularity (the old system's bias), at the same times.
    /// </summary>
    public static SyntheticLog Exposures(SyntheticSpec spec, SyntheticLog log, double extraPerEvent = 2.0)
    {
        var rng = new Random(unchecked((int)(spec.Seed * 31 + 7)));
        var counts = new double[spec.Items];
        foreach (long i in log.ItemIds) counts[i - 1] += 1;
        for (int i = 0; i < counts.Length; i++) counts[i] += 0.5;
        var cdf = Cdf(counts);
        int extra = (int)(log.UserIds.Length * extraPerEvent);
        int n = log.UserIds.Length + extra;
        var users = new long[n]; var items = new long[n]; var times = new long[n];
        Array.Copy(log.UserIds, users, log.UserIds.Length);
        Array.Copy(log.ItemIds, items, log.ItemIds.Length);
        Array.Copy(log.TimesMicros, times, log.TimesMicros.Length);
        for (int e = log.UserIds.Length; e < n; e++)
        {
            int src = rng.Next(log.UserIds.Length);
            users[e] = log.UserIds[src];
            items[e] = Sample(cdf, rng.NextDouble()) + 1;
            times[e] = log.TimesMicros[src];
        }
        return new SyntheticLog(users, items, times, new byte[n]);
    }

    private static double[] Cdf(IEnumerable<double> weights)
    {
        var w = weights.ToArray();
        double sum = 0;
        for (int i = 0; i < w.Length; i++) { sum += w[i]; w[i] = sum; }
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
        return w;
    }

    private static int Sample(double[] cdf, double x)
    {
        int i = Array.BinarySearch(cdf, x);
        if (i < 0) i = ~i;
        return Math.Min(i, cdf.Length - 1);
    }

    private static double NextGaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
