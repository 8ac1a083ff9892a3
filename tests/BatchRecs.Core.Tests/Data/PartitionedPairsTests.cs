using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Tests;

namespace BatchRecs.Core.Tests.Data;

/// <summary>
/// The partitioned pairs stage (events in chunks → user shards combined in parallel → pairs sorted by (user, item))
/// against an independent dictionary computation, and the memory each stage's arrays may take per entry.
/// </summary>
public class PartitionedPairsTests
{
    /// <summary>A log with repeats, equal times and users of very different activity, in a shuffled order.</summary>
    private static InteractionLog RandomLog(int events, int users, int items, int seed)
    {
        var rng = new Random(seed);
        var u = new int[events]; var i = new int[events]; var v = new float[events]; var t = new long[events];
        for (int e = 0; e < events; e++)
        {
            u[e] = (int)(users * Math.Pow(rng.NextDouble(), 2)); // skewed: low ids are heavy users
            i[e] = rng.Next(items);
            v[e] = (float)(rng.NextDouble() * 3);
            t[e] = rng.Next(50); // many ties in time
        }
        return new InteractionLog(IdMap.FromInt64(Enumerable.Range(0, users).Select(x => (long)x * 7)),
            IdMap.FromInt64(Enumerable.Range(0, items).Select(x => (long)x)), u, i, v, t);
    }

    /// <summary>The rule applied the obvious way: per pair, its events in (time, log position) order.</summary>
    private static SortedDictionary<(int, int), (float Value, long Time)> Reference(InteractionLog log, CombineRule rule)
    {
        var groups = new Dictionary<(int, int), List<int>>();
        for (int e = 0; e < log.Count; e++)
        {
            var key = (log.Users[e], log.Items[e]);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add(e);
        }
        var result = new SortedDictionary<(int, int), (float, long)>();
        foreach (var (key, list) in groups)
        {
            var ordered = list.OrderBy(e => log.Times[e]).ThenBy(e => e).ToList();
            float value = rule switch
            {
                CombineRule.Sum => ordered.Aggregate(0f, (acc, e) => acc + log.Values[e]),
                CombineRule.Max => ordered.Max(e => log.Values[e]),
                _ => log.Values[ordered[^1]],
            };
            result[key] = (value, ordered.Max(e => log.Times[e]));
        }
        return result;
    }

    [Theory]
    [InlineData(CombineRule.Sum)]
    [InlineData(CombineRule.Max)]
    [InlineData(CombineRule.Last)]
    public void Pairs_combined_over_many_shards_equal_the_dictionary_reference_and_one_shard(CombineRule rule)
    {
        var log = RandomLog(60_000, 2_000, 300, seed: 5);
        var many = PairAggregator.Combine(EventLog.From(log), rule, consume: false, shardEvents: 500);
        var one = PairAggregator.Combine(EventLog.From(log), rule, consume: false, shardEvents: int.MaxValue);
        var expected = Reference(log, rule);

        Assert.True(many.SortedPairs);
        Assert.Equal(expected.Count, many.Count);
        int p = 0;
        foreach (var ((user, item), (value, time)) in expected)
        {
            Assert.Equal((user, item), (many.Users[p], many.Items[p]));
            Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(many.Values[p]));
            Assert.Equal(time, many.Times[p]);
            p++;
        }
        Assert.Equal(one.Users, many.Users);
        Assert.Equal(one.Items, many.Items);
        Assert.Equal(one.Values, many.Values);
        Assert.Equal(one.Times, many.Times);
    }

    [Fact]
    public void Consuming_the_events_releases_them_but_keeps_their_count_and_ids()
    {
        var events = EventLog.From(RandomLog(5_000, 100, 50, seed: 2));
        var pairs = PairAggregator.Combine(events, consume: true);
        Assert.True(events.Released);
        Assert.Equal(0, events.Bytes);
        Assert.Equal(5_000, events.Count);
        Assert.Same(events.UserIds, pairs.UserIds);
        Assert.Throws<InvalidOperationException>(() => events.ChunkAt(0));
    }

    [Fact]
    public void The_event_builder_keeps_entries_across_chunks_and_remaps_ids()
    {
        var b = new EventLog.Builder();
        int n = 2 * EventLog.ChunkSize + 17;
        for (int e = 0; e < n; e++) b.Add(e % 3, e % 5, e, e);
        var events = b.Finish(IdMap.FromInt64([10, 11, 12]), [2, 1, 0], IdMap.FromInt64([0, 1, 2, 3, 4]), null);
        Assert.Equal(3, events.Chunks);
        Assert.Equal(17, events.ChunkAt(2).Users.Length);
        var log = events.ToInteractionLog();
        Assert.Equal(n, log.Count);
        for (int e = 0; e < n; e += 4099)
        {
            Assert.Equal(2 - e % 3, log.Users[e]); // remapped
            Assert.Equal(e % 5, log.Items[e]);
            Assert.Equal((float)e, log.Values[e]);
            Assert.Equal(e, log.Times[e]);
        }
        Assert.Equal((2 - (n - 1) % 3, (n - 1) % 5), (log.Users[^1], log.Items[^1]));
    }

    [Fact]
    public void Sorted_pairs_give_the_same_matrices_and_split_as_the_general_path()
    {
        var sorted = PairAggregator.Combine(RandomLog(40_000, 1_500, 200, seed: 9));
        var general = sorted.Where(Enumerable.Repeat(true, sorted.Count).ToArray()) is var copy
            ? new InteractionLog(copy.UserIds, copy.ItemIds, copy.Users, copy.Items, copy.Values, copy.Times) // SortedPairs = false
            : null!;
        Assert.False(general.SortedPairs);

        var a = TemporalSplit.PerUserLast(sorted, 0.2);
        var b = TemporalSplit.PerUserLast(general, 0.2);
        Assert.Equal(b.IsTrain, a.IsTrain);
        foreach (bool keep in new[] { true, false })
        {
            var fast = sorted.ToUserItemMatrix(a.IsTrain, keep);
            var slow = general.ToUserItemMatrix(a.IsTrain, keep);
            Assert.Equal(slow.RowPtr, fast.RowPtr);
            Assert.Equal(slow.ColIdx, fast.ColIdx);
            Assert.Equal(slow.Values, fast.Values);
        }
        Assert.Equal(general.ToUserItemMatrix().ColIdx, sorted.ToUserItemMatrix().ColIdx);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    [InlineData(0.5)]
    public void Pairs_split_shard_by_shard_equal_the_split_of_the_whole_log(double fraction)
    {
        var log = RandomLog(60_000, 2_000, 300, seed: 7);
        var whole = PairAggregator.Combine(EventLog.From(log), CombineRule.Sum, consume: false, shardEvents: int.MaxValue, firstTimes: true);
        foreach (var spec in new[] { new PairSplit(fraction, LastTimes: true, FirstTimes: true, Cuts: fraction > 0), new PairSplit(fraction) })
            foreach (int shardEvents in new[] { 500, 7_000, int.MaxValue })
            {
                var shards = PairAggregator.CombineShards([new PairSource(EventLog.From(log), null, null)], whole.UserCount, CombineRule.Sum, consume: false,
                    spec.FirstTimes, shard => TemporalSplit.Split(shard, spec), shardEvents);
                Assert.True(shardEvents == int.MaxValue ? shards.Length == 1 : shards.Length > 5, $"{shards.Length} shards of {shardEvents} events");
                PairAssert.SameSplit(whole, spec, SplitPairs.Layout(whole.UserIds, whole.ItemIds, spec, shards));
            }
    }

    [Fact]
    public void A_layout_refuses_shards_out_of_order_or_split_otherwise()
    {
        var log = PairAggregator.Combine(RandomLog(5_000, 200, 50, seed: 4));
        var spec = new PairSplit(0.2);
        SplitShard[] Shards(PairSplit s) => PairAggregator.CombineShards([new PairSource(EventLog.From(log), null, null)], log.UserCount, CombineRule.Sum,
            consume: false, firstTimes: false, shard => TemporalSplit.Split(shard, s), shardEvents: 1_000);
        var swapped = Shards(spec);
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        Assert.Throws<InvalidDataException>(() => SplitPairs.Layout(log.UserIds, log.ItemIds, spec, swapped));
        Assert.Throws<InvalidDataException>(() => SplitPairs.Layout(log.UserIds, log.ItemIds, spec, Shards(new PairSplit(0))));
        Assert.Throws<InvalidDataException>(() => SplitPairs.Layout(log.UserIds, log.ItemIds, spec, Shards(spec)[..^1]));
    }

    /// <summary>
    /// The memory regression guard: the bytes per entry each stage's arrays may take. A wider index or value type, a
    /// second copy of a column or a doubling buffer shows up here, long before it shows as a 16 GB night.
    /// </summary>
    [Fact]
    public void Each_stages_arrays_stay_within_their_stated_bytes_per_entry()
    {
        var log = RandomLog(300_000, 20_000, 3_000, seed: 3);
        var events = EventLog.From(log);
        Assert.InRange(events.Bytes, 20L * log.Count, 20L * log.Count + 20L * EventLog.ChunkSize);   // 20 B/event + one chunk

        var pairs = PairAggregator.Combine(events, consume: true);
        Assert.Equal(20L * pairs.Count, pairs.Bytes);                                                // 20 B/pair
        Assert.Equal(0, events.Bytes);

        var spec = new PairSplit(0.2);
        var split = SplitPairs.Layout(pairs.UserIds, pairs.ItemIds, spec, PairAggregator.CombineShards([new PairSource(EventLog.From(log), null, null)],
            pairs.UserCount, CombineRule.Sum, consume: true, firstTimes: false, shard => TemporalSplit.Split(shard, spec)));
        Assert.Equal(8L * pairs.Count + 8L * (pairs.UserCount + 1), split.Bytes);                    // the split: 8 B/pair + 4 B/user a matrix, no times
        var stored = SplitPairs.Stored(pairs.UserIds, pairs.ItemIds, spec, [new ShardLengths(0, split.Train.RowLengths(), split.HeldOut!.RowLengths(), null)],
            new MemoryStore(split.Train), new MemoryStore(split.HeldOut!, 2));
        Assert.Equal(8L * (pairs.UserCount + 1), stored.Bytes);                                       // kept where the shards are: 4 B/user a matrix, no pair
        Assert.Equal(split.Train.RowPtr, stored.Train.RowPtr);
        var timed = new PairSplit(0.2, LastTimes: true, FirstTimes: true, Cuts: true);
        Assert.Equal(8L * pairs.Count + 8L * (pairs.UserCount + 1) + 16L * pairs.Count + 8L * pairs.UserCount, SplitPairs.Layout(pairs.UserIds, pairs.ItemIds, timed,
            PairAggregator.CombineShards([new PairSource(EventLog.From(log), null, null)], pairs.UserCount, CombineRule.Sum, consume: true, firstTimes: true,
                shard => TemporalSplit.Split(shard, timed))).Bytes);                                  // + 8 B/pair per kind of time, 8 B/user of cuts

        var matrix = pairs.ToUserItemMatrix();
        Assert.Equal(8L * matrix.NonZeros + 4L * (matrix.Rows + 1), matrix.Bytes);                  // 8 B/entry + 4 B/user

        var problem = AlsProblem.Build(matrix, new AlsSettings());
        Assert.True(problem.Bytes <= 12L * matrix.NonZeros + 4L * (matrix.Cols + 1),                 // confidences both ways
            $"{problem.Bytes} bytes for {matrix.NonZeros} entries");
        Assert.Same(matrix.ColIdx, problem.UserItemConf.ColIdx);                                     // the pattern is shared
        var weighted = AlsProblem.BuildRelMf(matrix, new AlsSettings(), Enumerable.Repeat(1f, matrix.Cols).ToArray());
        Assert.True(weighted.Bytes <= 20L * matrix.NonZeros + 4L * (matrix.Cols + 1));              // + preferences both ways
        var coordinator = AlsProblem.BuildRelMf(matrix, new AlsSettings(), Enumerable.Repeat(1f, matrix.Cols).ToArray(), new Als.EntriesElsewhereExecutor());
        Assert.Equal(8L * matrix.NonZeros + 4L * (matrix.Cols + 1), coordinator.Bytes);              // the user side's only, with an executor elsewhere
    }
}
