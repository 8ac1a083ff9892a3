using BatchRecs.Core.Data;

namespace BatchRecs.Core.Tests.Data;

public class IdMapAppendTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Int64_append_keeps_every_index_and_numbers_only_new_ids_after_them_in_sorted_order(int seed)
    {
        var rng = new Random(seed);
        var baseIds = Enumerable.Range(0, 200).Select(_ => rng.NextInt64(-1000, 1000)).ToArray();
        var extraIds = Enumerable.Range(0, 150).Select(_ => rng.NextInt64(-1500, 1500)).ToArray();
        var map = IdMap.FromInt64(baseIds);
        var extra = IdMap.FromInt64(extraIds);
        var joined = map.WithAppended(extra);

        // Brute force: the base ids at their indices, then the new distinct ids ascending.
        var expected = map.Int64Ids.ToArray().Concat(extraIds.Distinct().Where(id => !map.TryGetIndex(id, out _)).Order()).ToArray();
        Assert.Equal(expected, joined.Int64Ids.ToArray());
        Assert.Equal(IdKind.Int64, joined.Kind);
        Assert.Equal(expected.Length, joined.Count);
        for (int i = 0; i < map.Count; i++)
        {
            Assert.True(joined.TryGetIndex(map.Int64At(i), out int j));
            Assert.Equal(i, j);
        }
        foreach (long id in extraIds.Concat(baseIds))
        {
            Assert.True(joined.TryGetIndex(id, out int j));
            Assert.Equal(id, joined.Int64At(j));
        }
        Assert.True(expected.Length > map.Count && expected.Length < map.Count + extra.Count, "the seeds must give both new and shared ids");
    }

    [Fact]
    public void String_append_keeps_indices_and_appends_new_ids_in_ordinal_order()
    {
        var map = IdMap.FromStrings(["m", "b", "user-10", "Z"]);
        var extra = IdMap.FromStrings(["b", "a", "ä", "user-9", "A", "m", ""]);
        var joined = map.WithAppended(extra);
        Assert.Equal(new[] { "Z", "b", "m", "user-10", "", "A", "a", "user-9", "ä" }, joined.StringIds.ToArray());
        for (int i = 0; i < map.Count; i++) Assert.Equal(map.StringAt(i), joined.StringAt(i));
        foreach (var id in joined.StringIds.ToArray())
        {
            Assert.True(joined.TryGetIndex(id, out int j));
            Assert.Equal(id, joined.StringAt(j));
        }
        // The original map is unchanged.
        Assert.Equal(4, map.Count);
        Assert.False(map.TryGetIndex("a", out _));
    }

    [Fact]
    public void Appending_only_known_ids_or_nothing_leaves_the_map_as_it_is()
    {
        var map = IdMap.FromInt64([5, 3, 9]);
        var same = map.WithAppended(IdMap.FromInt64([9, 3]));
        Assert.Equal(new long[] { 3, 5, 9 }, same.Int64Ids.ToArray());
        Assert.Equal(new long[] { 3, 5, 9 }, map.WithAppended(IdMap.FromInt64([])).Int64Ids.ToArray());
        var s = IdMap.FromStrings(["x"]);
        Assert.Equal(new[] { "x" }, s.WithAppended(IdMap.FromStrings(["x"])).StringIds.ToArray());
    }

    [Fact]
    public void Appending_ids_of_the_other_kind_is_refused_naming_both_kinds()
    {
        var longs = IdMap.FromInt64([1, 2]);
        var strings = IdMap.FromStrings(["1", "2"]);
        var e1 = Assert.Throws<ArgumentException>(() => longs.WithAppended(strings));
        Assert.Contains("String", e1.Message);
        Assert.Contains("Int64", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => strings.WithAppended(longs));
        Assert.Contains("Int64", e2.Message);
        Assert.Contains("String", e2.Message);
        // Nothing changed.
        Assert.Equal(new long[] { 1, 2 }, longs.Int64Ids.ToArray());
    }
}
