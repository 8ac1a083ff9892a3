using BatchRecs.Core.Data;

namespace BatchRecs.Core.Tests.Data;

public class PairAggregatorTests
{
    private static InteractionLog Log() => new(IdMap.FromInt64([1, 2]), IdMap.FromInt64([10, 20]),
        users: [0, 1, 0, 0], items: [1, 0, 1, 0], values: [2f, 1f, 5f, 1f], times: [100, 50, 300, 200]);

    [Theory]
    [InlineData(CombineRule.Sum, 7f)]
    [InlineData(CombineRule.Max, 5f)]
    [InlineData(CombineRule.Last, 5f)]
    public void Repeated_events_of_a_pair_combine_by_rule_and_keep_the_last_time(CombineRule rule, float expected)
    {
        var pairs = PairAggregator.Combine(Log(), rule);
        Assert.Equal(3, pairs.Count);
        int e = Enumerable.Range(0, pairs.Count).Single(i => pairs.Users[i] == 0 && pairs.Items[i] == 1);
        Assert.Equal(expected, pairs.Values[e]);
        Assert.Equal(300, pairs.Times[e]);
    }
}
