using BatchRecs.Core.Data;

namespace BatchRecs.Core.Tests.Data;

public class IdMapTests
{
    [Fact]
    public void Int64_ids_round_trip_and_indices_follow_sorted_order()
    {
        long[] ids = [900, -5, 42, 900, long.MaxValue, 0, 42];
        var map = IdMap.FromInt64(ids);
        Assert.Equal(IdKind.Int64, map.Kind);
        Assert.Equal(5, map.Count);
        Assert.Equal(new long[] { -5, 0, 42, 900, long.MaxValue }, map.Int64Ids.ToArray());
        foreach (long id in ids)
        {
            Assert.True(map.TryGetIndex(id, out int i));
            Assert.Equal(id, map.Int64At(i));
        }
        Assert.False(map.TryGetIndex(7L, out _));
        Assert.False(map.TryGetIndex("42", out _));
    }

    [Fact]
    public void String_ids_round_trip_with_ordinal_order()
    {
        string[] ids = ["b", "B", "ä", "a", "b", "", "user-10", "user-9"];
        var map = IdMap.FromStrings(ids);
        Assert.Equal(IdKind.String, map.Kind);
        Assert.Equal(7, map.Count);
        Assert.Equal(new[] { "", "B", "a", "b", "user-10", "user-9", "ä" }, map.StringIds.ToArray());
        foreach (var id in ids)
        {
            Assert.True(map.TryGetIndex(id, out int i));
            Assert.Equal(id, map.StringAt(i));
            Assert.Equal(id, map.ExternalAt(i));
        }
        Assert.Throws<InvalidOperationException>(() => map.Int64At(0));
    }

    [Fact]
    public void Same_ids_in_any_order_give_the_same_indices()
    {
        var rng = new Random(1);
        var ids = Enumerable.Range(0, 1000).Select(_ => (long)rng.Next(5000)).ToArray();
        var a = IdMap.FromInt64(ids);
        rng.Shuffle(ids);
        var b = IdMap.FromInt64(ids);
        Assert.Equal(a.Int64Ids.ToArray(), b.Int64Ids.ToArray());
    }
}
