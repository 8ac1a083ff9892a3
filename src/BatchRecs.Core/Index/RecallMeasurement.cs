namespace BatchRecs.Core.Index;

/// <summary>recall@N of approximate lists against exact ones over a set of users.</summary>
/// <param name="Users">users measured (users whose exact list is empty are not counted).</param>
/// <param name="Mean">mean per-user recall.</param>
/// <param name="P5">5th percentile of per-user recall (nearest rank): 95% of users have at least this recall.</param>
/// <param name="Min">the worst user's recall.</param>
public sealed record RecallReport(int Users, double Mean, double P5, double Min);

/// <summary>
/// The recall service-level measurement: a seeded canary sample of users is searched both exactly and through
/// the index, and recall@N = |approx ∩ exact| / |exact| per user is summarised as mean and 5th percentile.
/// </summary>
public static class RecallMeasurement
{
    public const int DefaultCanaryUsers = 1000;
    public const ulong DefaultSeed = 20_140_901;

    /// <summary>min(count, users) distinct user indices of [0, users), ascending; the same seed gives the same sample.</summary>
    public static int[] SampleUsers(int users, int count, ulong seed)
    {
        if (users < 0 || count < 0) throw new ArgumentOutOfRangeException(nameof(count), "users and count must be ≥ 0.");
        return KMeans.Sample(users, Math.Min(count, users), new Random(unchecked((int)(seed ^ (seed >> 32)))));
    }

    /// <summary>Compares two result sets row by row (row j of both must be the same user).</summary>
    public static RecallReport Compare(TopNResult exact, TopNResult approx)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(approx);
        if (exact.Users != approx.Users) throw new ArgumentException($"exact has {exact.Users} rows, approximate has {approx.Users}; they must be the same users.");
        var recalls = new List<double>(exact.Users);
        var set = new HashSet<int>();
        for (int u = 0; u < exact.Users; u++)
        {
            var truth = exact.ItemsOf(u);
            if (truth.Length == 0) continue;
            set.Clear();
            foreach (int i in truth) set.Add(i);
            int hit = 0;
            foreach (int i in approx.ItemsOf(u)) if (set.Contains(i)) hit++;
            recalls.Add((double)hit / truth.Length);
        }
        if (recalls.Count == 0) return new RecallReport(0, 1, 1, 1);
        recalls.Sort();
        int p5 = Math.Max(0, (int)Math.Ceiling(0.05 * recalls.Count) - 1);
        return new RecallReport(recalls.Count, recalls.Average(), recalls[p5], recalls[0]);
    }

    /// <summary>
    /// Canary recall of <paramref name="index"/>: samples <paramref name="canaryUsers"/> users with
    /// <paramref name="seed"/> (from <paramref name="candidateUsers"/> when given, e.g. the active users), searches them
    /// exactly over <paramref name="itemFactors"/> and through the index, and compares.
    /// </summary>
    /// <param name="userFactors">users × k, row-major.</param>
    /// <param name="itemFactors">items × k, row-major: the factors the index was built from.</param>
    /// <param name="index">the index under test.</param>
    /// <param name="options">N, nprobe, exclusions and threads of the search being measured.</param>
    /// <param name="canaryUsers">how many users to sample.</param>
    /// <param name="seed">seed of the sample.</param>
    /// <param name="candidateUsers">the users to sample from, or null for all.</param>
    public static RecallReport Measure(IvfIndex index, float[] userFactors, float[] itemFactors, IvfSearchOptions options,
        int canaryUsers = DefaultCanaryUsers, ulong seed = DefaultSeed, int[]? candidateUsers = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        var sample = Canary(userFactors.Length / index.K, canaryUsers, seed, candidateUsers);
        var exact = ExactTopN.Search(userFactors, itemFactors, index.K, options.ToExactQuery(), sample);
        return Compare(exact, index.Search(userFactors, options, sample).Result);
    }

    /// <summary>The seeded sample of users <see cref="Measure"/> and <see cref="IvfIndex.AutoTuneNprobe"/> take (from <paramref name="candidateUsers"/> when given).</summary>
    public static int[] Canary(int users, int count, ulong seed, int[]? candidateUsers)
    {
        if (candidateUsers is null) return SampleUsers(users, count, seed);
        return SampleUsers(candidateUsers.Length, count, seed).Select(i => candidateUsers[i]).ToArray();
    }
}
