using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;

namespace BatchRecs.Core.Tests.Evaluation;

public class TemporalSplitTests
{
    [Fact]
    public void Each_users_latest_pairs_are_held_out_and_one_always_stays_in_training()
    {
        // user 0: 5 pairs at times 5,1,4,2,3; user 1: one pair; user 2: two pairs with equal times.
        var log = new InteractionLog(IdMap.FromInt64([1, 2, 3]), IdMap.FromInt64(Enumerable.Range(0, 6).Select(i => (long)i)),
            users: [0, 0, 0, 0, 0, 1, 2, 2], items: [0, 1, 2, 3, 4, 0, 5, 4], values: Enumerable.Repeat(1f, 8).ToArray(),
            times: [5, 1, 4, 2, 3, 9, 7, 7]);
        var split = TemporalSplit.PerUserLast(log, 0.4);
        // user 0: ceil(0.4·5) = 2 latest (times 5 and 4) held out.
        // user 2: equal times, ties by item index, so item 5 (entry 6) is the later one.
        Assert.Equal(new[] { false, true, false, true, true, true, false, true }, split.IsTrain);
        Assert.Equal(3, split.HeldOutCount);
    }

    [Fact]
    public void Zero_fraction_holds_nothing_out_and_bad_fractions_name_the_setting()
    {
        var log = new InteractionLog(IdMap.FromInt64([1]), IdMap.FromInt64([1, 2]), [0, 0], [0, 1], [1f, 1f], [1, 2]);
        Assert.All(TemporalSplit.PerUserLast(log, 0).IsTrain, Assert.True);
        var e = Assert.Throws<ArgumentException>(() => TemporalSplit.PerUserLast(log, 1.0));
        Assert.Contains("holdout_fraction", e.Message);
    }
}
