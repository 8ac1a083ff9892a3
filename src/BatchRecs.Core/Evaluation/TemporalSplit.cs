using BatchRecs.Core.Errors;
using BatchRecs.Core.Data;

namespace BatchRecs.Core.Evaluation;

/// <summary>A split of a pair log into training and held-out entries (masks over the log's entries).</summary>
public sealed record Split(bool[] IsTrain)
{
    public int TrainCount => IsTrain.Count(t => t);
    public int HeldOutCount => IsTrain.Length - TrainCount;
}

/// <summary>
/// Per-user temporal hold-out: each user's most recent ⌈fraction·n⌉ pairs are held out, always keeping
/// at least one pair in training (users with a single pair are not evaluated). Ties in time are broken by a
/// fixed hash of (user, item): deterministic, and unrelated to how ids were assigned, so pairs logged in the same
/// second are not held out by id order, and a log without times (every event at one instant, e.g. Last.fm play
/// counts) gets a deterministic pseudo-random per-user split.
/// </summary>
public static class TemporalSplit
{
    public static Split PerUserLast(InteractionLog pairs, double fraction)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new BadInputException($"holdout_fraction must be in [0, 1) (got {fraction}).");
        var isTrain = new bool[pairs.Count];
        Array.Fill(isTrain, true);
        if (fraction == 0) return new Split(isTrain);
        var byUser = new List<int>[pairs.UserCount];
        for (int e = 0; e < pairs.Count; e++) (byUser[pairs.Users[e]] ??= []).Add(e);
        foreach (var list in byUser)
        {
            if (list is null || list.Count < 2) continue;
            list.Sort((a, b) =>
            {
                int c = pairs.Times[a].CompareTo(pairs.Times[b]);
                if (c != 0) return c;
                c = TieKey(pairs.Users[a], pairs.Items[a]).CompareTo(TieKey(pairs.Users[b], pairs.Items[b]));
                return c != 0 ? c : pairs.Items[a].CompareTo(pairs.Items[b]);
            });
            int hold = Math.Min(list.Count - 1, (int)Math.Ceiling(fraction * list.Count));
            for (int j = list.Count - hold; j < list.Count; j++) isTrain[list[j]] = false;
        }
        return new Split(isTrain);
    }

    private static ulong TieKey(int user, int item) => SplitMix64.Mix(((ulong)(uint)user << 32 | (uint)item) ^ 0x7E57_5EEDUL);
}
