using BatchRecs.Core.Data;
using Xunit;

namespace BatchRecs.Tests;

/// <summary>Combined pairs compared bit for bit: the id maps, and every entry's user, item, strength and times.</summary>
public static class PairAssert
{
    public static void Same(InteractionLog expected, InteractionLog actual, string? what = null)
    {
        Assert.True(actual.SortedPairs, what);
        Assert.Equal(Enumerable.Range(0, expected.UserCount).Select(expected.UserIds.ExternalAt), Enumerable.Range(0, actual.UserCount).Select(actual.UserIds.ExternalAt));
        Assert.Equal(Enumerable.Range(0, expected.ItemCount).Select(expected.ItemIds.ExternalAt), Enumerable.Range(0, actual.ItemCount).Select(actual.ItemIds.ExternalAt));
        Assert.Equal(expected.Users, actual.Users);
        Assert.Equal(expected.Items, actual.Items);
        Assert.Equal(expected.Values, actual.Values); // bit for bit: the same additions in the same order
        Assert.Equal(expected.Times, actual.Times);
        Assert.Equal(expected.FirstTimes, actual.FirstTimes);
    }
}
