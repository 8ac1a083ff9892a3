using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

public class IvfIndexTests
{
    private const int K = 16;
    private static readonly FactorSet Data = SyntheticFactors.Generate(1200, 3000, K, seed: 7);

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void Probing_every_list_equals_exact_search_with_history_and_bans(int normRanges)
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 3, NormRanges: normRanges));
        Assert.Equal(IvfIndex.DefaultNlist(3000), index.Nlist);
        Assert.Equal(3000, index.ListSizes.Sum());
        var seen = TopNTestData.History(1200, 3000, 30, 4);
        var banned = new HashSet<int> { 1, 2, 2999 };
        var (ivf, stats) = index.Search(Data.Users, new IvfSearchOptions(50, index.Nlist, seen, banned));
        var exact = ExactTopN.Search(Data.Users, Data.Items, K, new TopNQuery(50, seen, banned));
        TopNTestData.AssertSameLists(exact, ivf);
        Assert.Equal(1200L * index.Nlist, stats.ListsScanned);
        Assert.Equal(1200L * 3000, stats.CandidatesScored);
    }

    [Fact]
    public void Auto_tuned_nprobe_meets_the_target_on_users_it_was_not_tuned_on()
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 3));
        var options = new IvfSearchOptions(20, 1);
        int[] tuneUsers = Enumerable.Range(0, 600).ToArray(), checkUsers = Enumerable.Range(600, 600).ToArray();
        var tuning = index.AutoTuneNprobe(Data.Users, Data.Items, options, targetRecall: 0.9, sampleUsers: 600, candidateUsers: tuneUsers);
        Assert.True(tuning.Recall.Mean >= 0.9);
        Assert.True(tuning.Nprobe < index.Nlist / 2, $"nprobe {tuning.Nprobe} of {index.Nlist}: the index does not prune");
        // the tuned nprobe is the smallest meeting the target among the trials
        Assert.All(tuning.Trials.Where(t => t.Nprobe < tuning.Nprobe), t => Assert.True(t.Recall.Mean < 0.9));
        var check = RecallMeasurement.Measure(index, Data.Users, Data.Items, options with { Nprobe = tuning.Nprobe },
            canaryUsers: 600, candidateUsers: checkUsers);
        // Expected ≈ 0.9 or a little above; a 600-user sample mean has a standard error of about 0.005.
        Assert.True(check.Mean >= 0.89, $"held-out recall {check.Mean:F3} at nprobe {tuning.Nprobe}");
    }

    [Fact]
    public void Recall_never_falls_as_nprobe_grows_even_where_lists_are_over_fetched()
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 3));
        var seen = TopNTestData.History(1200, 3000, 60, 8);
        var exact = ExactTopN.Search(Data.Users, Data.Items, K, new TopNQuery(100, seen));
        double last = 0;
        foreach (int nprobe in new[] { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, index.Nlist })
        {
            var r = RecallMeasurement.Compare(exact, index.Search(Data.Users, new IvfSearchOptions(100, nprobe, seen)).Result);
            Assert.True(r.Mean >= last, $"recall fell from {last:F4} to {r.Mean:F4} at nprobe {nprobe}");
            last = r.Mean;
        }
        Assert.Equal(1.0, last);
    }

    [Fact]
    public void Every_user_gets_N_unseen_unbanned_distinct_items_even_with_one_probe()
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 3));
        var seen = TopNTestData.History(1200, 3000, 200, 5);
        var banned = Enumerable.Range(0, 3000).Where(i => i % 7 == 0).ToHashSet();
        var (r, stats) = index.Search(Data.Users, new IvfSearchOptions(100, 1, seen, banned));
        TopNTestData.AssertWellFormed(r, 3000);
        Assert.True(stats.UsersExtended > 0);
        for (int u = 0; u < 1200; u++)
        {
            Assert.Equal(100, r.Counts[u]);
            foreach (int i in r.ItemsOf(u))
            {
                Assert.False(seen.Contains(u, i), $"user {u} got seen item {i}");
                Assert.DoesNotContain(i, banned);
            }
        }
    }

    [Fact]
    public void N_larger_than_the_catalogue_returns_each_eligible_item_once()
    {
        var small = SyntheticFactors.Generate(30, 70, K, seed: 9);
        var index = IvfIndex.Build(small.Items, K, new IvfBuildOptions(Nlist: 9, NormRanges: 3));
        var seen = TopNTestData.History(30, 70, 10, 6);
        var (r, _) = index.Search(small.Users, new IvfSearchOptions(500, 2, seen));
        TopNTestData.AssertSameLists(ExactTopN.Search(small.Users, small.Items, K, new TopNQuery(500, seen)), r);
        for (int u = 0; u < 30; u++) Assert.Equal(70 - seen.RowLength(u), r.Counts[u]);
    }

    [Fact]
    public void Same_seed_gives_the_same_index_and_results_whatever_the_thread_count()
    {
        var a = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 11, MaxThreads: 1));
        var b = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 11, MaxThreads: 4));
        Assert.Equal(a.ListSizes, b.ListSizes);
        var ra = a.Search(Data.Users, new IvfSearchOptions(30, 5, MaxThreads: 1)).Result;
        var rb = b.Search(Data.Users, new IvfSearchOptions(30, 5, MaxThreads: 4)).Result;
        TopNTestData.AssertSameLists(ra, rb);
        var c = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 12));
        Assert.NotEqual(a.ListSizes, c.ListSizes);
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_setting_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Nlist: 5000)));
        Assert.Contains("nlist", e.Message);
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Nlist: 20));
        Assert.Contains("nprobe", Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(Data.Users, new IvfSearchOptions(10, 0))).Message);
    }
}
