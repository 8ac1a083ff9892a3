using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;

namespace BatchRecs.Core.Tests.Data;

/// <summary>The exposure log a fit trains on: distinct pairs with their first exposure, and the cuts that keep a fit from its own future.</summary>
public class ExposureLogTests
{
    [Fact]
    public void Pairs_are_distinct_in_column_order_with_their_first_exposure_time()
    {
        // User 1 saw item 2 at 30 then 10, item 0 at 20; user 0 saw item 1 at 5; user 2 nothing.
        var log = ExposureLog.FromEvents(3, 3, [1, 1, 0, 1], [2, 0, 1, 2], [30, 20, 5, 10]);
        Assert.Equal([0, 1, 3, 3], log.Pairs.RowPtr);
        Assert.Equal([1, 0, 2], log.Pairs.ColIdx);
        Assert.Equal([5L, 20, 10], log.FirstMicros);
        Assert.All(log.Pairs.Values, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void A_cut_keeps_only_what_was_first_shown_before_it()
    {
        var log = ExposureLog.FromEvents(3, 3, [1, 1, 0, 1], [2, 0, 1, 2], [30, 20, 5, 10]);
        var perUser = log.Before([long.MaxValue, 15, long.MinValue]);
        Assert.True(perUser.Contains(0, 1));
        Assert.True(perUser.Contains(1, 2)); // first shown at 10 < 15, though shown again at 30
        Assert.False(perUser.Contains(1, 0)); // first shown at 20
        Assert.Equal(2, perUser.NonZeros);
        Assert.Equal(1, log.Before(10).NonZeros); // only (0, 1) at 5
    }

    [Fact]
    public void A_users_first_held_out_time_is_the_earliest_pair_the_split_leaves_out()
    {
        var pairs = new InteractionLog(IdMap.FromInt64([7, 8]), IdMap.FromInt64([1, 2, 3]), [0, 0, 0, 1], [0, 1, 2, 0], [1f, 1f, 1f, 1f], [100, 300, 200, 50]);
        var cut = TemporalSplit.FirstHeldOutTimes(pairs, [true, false, false, true]);
        Assert.Equal([200L, long.MaxValue], cut);
    }
}
