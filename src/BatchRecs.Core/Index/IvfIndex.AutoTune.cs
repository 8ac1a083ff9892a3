namespace BatchRecs.Core.Index;

/// <summary>One point of a recall/nprobe curve.</summary>
public sealed record NprobeTrial(int Nprobe, RecallReport Recall);

/// <summary>The outcome of <see cref="IvfIndex.AutoTuneNprobe"/>: the chosen nprobe, its recall on the tuning sample, and every trial.</summary>
public sealed record NprobeTuning(int Nprobe, RecallReport Recall, IReadOnlyList<NprobeTrial> Trials);

public sealed partial class IvfIndex
{
    /// <summary>
    /// The smallest nprobe whose mean recall@N on a seeded sample of users reaches <paramref name="targetRecall"/>.
    /// Recall cannot fall as nprobe grows (a user's probed lists at nprobe are a prefix of those at nprobe + 1), and
    /// nprobe = nlist is exact, so a binary search over [1, nlist] finds it in about log₂(nlist) trial searches.
    /// Use a different seed (or <see cref="RecallMeasurement.Measure"/>) to check the choice on users it was not tuned on.
    /// </summary>
    /// <param name="options">the production query (N, exclusions, bans, threads); its Nprobe is ignored.</param>
    /// <param name="userFactors">users × k, row-major.</param>
    /// <param name="itemFactors">items × k, row-major: the factors the index was built from (for the exact lists).</param>
    /// <param name="targetRecall">the mean recall@N to reach.</param>
    /// <param name="sampleUsers">users in the seeded sample.</param>
    /// <param name="seed">seed of the sample.</param>
    /// <param name="candidateUsers">the users to sample from (e.g. the active ones), or null for all.</param>
    public NprobeTuning AutoTuneNprobe(float[] userFactors, float[] itemFactors, IvfSearchOptions options,
        double targetRecall = 0.95, int sampleUsers = RecallMeasurement.DefaultCanaryUsers, ulong seed = 1, int[]? candidateUsers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(targetRecall is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(targetRecall), $"recall target must be in (0, 1] (got {targetRecall}).");
        var sample = RecallMeasurement.Canary(userFactors.Length / K, sampleUsers, seed, candidateUsers);
        var exact = ExactTopN.Search(userFactors, itemFactors, K, options.ToExactQuery(), sample);
        var trials = new List<NprobeTrial>();
        RecallReport Trial(int nprobe)
        {
            var r = RecallMeasurement.Compare(exact, Search(userFactors, options with { Nprobe = nprobe }, sample).Result);
            trials.Add(new NprobeTrial(nprobe, r));
            return r;
        }
        int lo = 1, hi = Nlist;
        RecallReport? best = null;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            var r = Trial(mid);
            if (r.Mean >= targetRecall) { hi = mid; best = r; }
            else lo = mid + 1;
        }
        best ??= trials.FirstOrDefault(t => t.Nprobe == hi)?.Recall ?? Trial(hi);
        return new NprobeTuning(hi, best, trials.OrderBy(t => t.Nprobe).ToArray());
    }
}
