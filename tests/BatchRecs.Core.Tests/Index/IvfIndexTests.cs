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
        var seen = SeededData.History(1200, 3000, 30, 4);
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
        var seen = SeededData.History(1200, 3000, 60, 8);
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
        var seen = SeededData.History(1200, 3000, 200, 5);
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
        var seen = SeededData.History(30, 70, 10, 6);
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

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void Search_is_assign_probes_then_search_preassigned(int nprobe)
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 3));
        // Long histories and many bans, so that some users' lists are extended by the over-fetch.
        var seen = SeededData.History(1200, 3000, 200, 5);
        var banned = Enumerable.Range(0, 3000).Where(i => i % 7 == 0).ToHashSet();
        int[] subset = Enumerable.Range(0, 1200).Where(u => u % 3 != 1).Reverse().ToArray();
        var options = new IvfSearchOptions(100, nprobe, seen, banned);

        var (whole, wholeStats) = index.Search(Data.Users, options, subset);
        var probes = index.AssignProbes(Data.Users, options, subset);
        var (split, splitStats) = index.SearchPreassigned(Data.Users, options, probes);

        TopNTestData.AssertSameLists(whole, split);
        Assert.Equal(wholeStats, splitStats);
        Assert.Equal(subset, probes.Users);
        Assert.True(probes.UsersExtended > 0, "no user was extended: the test does not reach the over-fetch");
        for (int j = 0; j < probes.Count; j++)
        {
            var lists = probes.ListsOf(j).ToArray();
            Assert.True(lists.Length >= nprobe, $"row {j}: {lists.Length} lists, fewer than nprobe {nprobe}");
            Assert.Equal(lists.Length, lists.Distinct().Count());
        }
        // A prefix of a larger nprobe's lists: recall cannot fall as nprobe grows.
        var more = index.AssignProbes(Data.Users, options with { Nprobe = nprobe + 3 }, subset);
        for (int j = 0; j < probes.Count; j++)
        {
            var a = probes.ListsOf(j);
            var b = more.ListsOf(j);
            Assert.True(a.Length <= b.Length && b[..a.Length].SequenceEqual(a), $"row {j}: nprobe {nprobe}'s lists are not a prefix of nprobe {nprobe + 3}'s");
        }
    }

    [Fact]
    public void Any_preassignment_is_searched_and_users_whose_lists_are_too_small_still_get_N()
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Seed: 3));
        var seen = SeededData.History(1200, 3000, 30, 4);
        var options = new IvfSearchOptions(50, 1, seen);
        // Users 0..59: user u probes every list, in an order of its own; users 60..79 probe nothing at all.
        int[] users = Enumerable.Range(0, 80).ToArray();
        var rows = users.Select(u => u < 60
            ? Enumerable.Range(0, index.Nlist).Select(l => (l * 7 + u) % index.Nlist).ToArray()
            : []).ToArray();
        var start = new int[users.Length + 1];
        for (int j = 0; j < users.Length; j++) start[j + 1] = start[j] + rows[j].Length;
        var probes = new ProbeAssignment(users, start, rows.SelectMany(r => r).ToArray());
        var (r, stats) = index.SearchPreassigned(Data.Users, options, probes);
        var exact = ExactTopN.Search(Data.Users, Data.Items, K, options.ToExactQuery(), users);
        for (int j = 0; j < 60; j++) Assert.Equal(exact.ItemsOf(j).ToArray(), r.ItemsOf(j).ToArray());
        TopNTestData.AssertWellFormed(r, 3000);
        for (int j = 60; j < 80; j++)
        {
            Assert.Equal(50, r.Counts[j]);
            Assert.All(r.ItemsOf(j).ToArray(), i => Assert.False(seen.Contains(users[j], i)));
        }
        Assert.True(stats.ListsScanned >= 60L * index.Nlist + 20, $"{stats.ListsScanned} lists scanned");
        Assert.Equal(20L * index.Nlist, stats.CentroidsScored); // only the 20 without lists ranked the centroids, to extend
    }

    [Fact]
    public void A_preassignment_with_a_repeated_or_unknown_list_is_rejected()
    {
        var index = IvfIndex.Build(Data.Items, K, new IvfBuildOptions(Nlist: 20));
        var options = new IvfSearchOptions(10, 1);
        var twice = new ProbeAssignment([4, 5], [0, 1, 3], [2, 7, 7]);
        Assert.Contains("list 7 twice", Assert.Throws<ArgumentException>(() => index.SearchPreassigned(Data.Users, options, twice)).Message);
        var unknown = new ProbeAssignment([4], [0, 1], [20]);
        Assert.Contains("outside 0..19", Assert.Throws<ArgumentException>(() => index.SearchPreassigned(Data.Users, options, unknown)).Message);
        Assert.Throws<ArgumentException>(() => new ProbeAssignment([4, 5], [0, 1], [3]));
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
