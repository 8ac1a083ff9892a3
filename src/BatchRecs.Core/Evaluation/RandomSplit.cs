using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Evaluation;

/// <summary>
/// Per-user seeded random hold-out, for logs without timestamps (e.g. Last.fm play counts): each user's
/// ⌈fraction·n⌉ pairs chosen by a hash of (seed, user, item), at least one kept for training.
/// </summary>
public static class RandomSplit
{
    public static Split PerUser(InteractionLog pairs, double fraction, ulong seed)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new BadInputException($"holdout_fraction must be in [0, 1) (got {fraction}).");
        var isTrain = new bool[pairs.Count];
        Array.Fill(isTrain, true);
        var byUser = new List<int>[pairs.UserCount];
        for (int e = 0; e < pairs.Count; e++) (byUser[pairs.Users[e]] ??= []).Add(e);
        foreach (var list in byUser)
        {
            if (list is null || list.Count < 2) continue;
            var keyed = list.Select(e => (Key: Hash(seed, pairs.Users[e], pairs.Items[e]), E: e)).OrderBy(x => x.Key).ThenBy(x => x.E).ToList();
            int hold = Math.Min(list.Count - 1, (int)Math.Ceiling(fraction * list.Count));
            for (int j = 0; j < hold; j++) isTrain[keyed[j].E] = false;
        }
        return new Split(isTrain);
    }

    private static ulong Hash(ulong seed, int user, int item) => SplitMix64.Mix(seed ^ ((ulong)(uint)user << 32 | (uint)item));
}
