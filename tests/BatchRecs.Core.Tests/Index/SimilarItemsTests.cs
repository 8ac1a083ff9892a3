using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

public class SimilarItemsTests
{
    /// <summary>Float cosines against the double reference: normalizing and a k-term float sum stay well inside this.</summary>
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(300, 8, 10, false)]
    [InlineData(97, 3, 40, true)]  // small integer factors: many exactly tied cosines
    [InlineData(20, 5, 30, false)] // n above the other items: every row holds all 19
    public void Equals_a_brute_force_double_precision_cosine_top_n(int items, int k, int n, bool integers)
    {
        var factors = SeededData.Matrix(items, k, seed: items + k, integers);
        factors.AsSpan(5 * k, k).Clear(); // one item without direction: all its cosines are 0
        var result = SimilarItems.Compute(factors, k, n);
        AssertMatchesBruteForce(factors, k, n, null, result);
    }

    [Fact]
    public void An_item_is_never_its_own_neighbour_even_when_it_has_twins()
    {
        const int k = 4;
        var factors = SeededData.Matrix(50, k, seed: 3);
        factors.AsSpan(0, k).CopyTo(factors.AsSpan(7 * k, k)); // item 7 = item 0: cosine 1
        var result = SimilarItems.Compute(factors, k, 49);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(49, result.Counts[i]);
            Assert.DoesNotContain(i, result.ItemsOf(i).ToArray());
        }
        Assert.Equal(7, result.ItemsOf(0)[0]);
        Assert.Equal(0, result.ItemsOf(7)[0]);
    }

    [Fact]
    public void Banned_items_are_nobodys_neighbour_and_have_no_list()
    {
        const int k = 6, items = 200, n = 15;
        var factors = SeededData.Matrix(items, k, seed: 11);
        var banned = new HashSet<int> { 0, 17, 18, 199 };
        var result = SimilarItems.Compute(factors, k, n, banned);
        foreach (int b in banned) Assert.Equal(0, result.Counts[b]);
        for (int i = 0; i < items; i++) Assert.DoesNotContain(result.ItemsOf(i).ToArray(), banned.Contains);
        AssertMatchesBruteForce(factors, k, n, banned, result);
    }

    [Fact]
    public void Ivf_probing_every_list_equals_exact_search()
    {
        const int k = 8, items = 1500, n = 20;
        var factors = SeededData.Matrix(items, k, seed: 21);
        var banned = new HashSet<int> { 3, 4, 1000 };
        var build = new IvfBuildOptions(Seed: 5);
        int nlist = IvfIndex.DefaultNlist(items);
        var exact = SimilarItems.Compute(factors, k, n, banned);
        var ivf = SimilarItems.Compute(factors, k, n, banned, build, nprobe: nlist);
        TopNTestData.AssertSameLists(exact, ivf);
    }

    [Fact]
    public void Ivf_with_auto_tuned_nprobe_reaches_its_recall_target()
    {
        const int k = 8, items = 1500, n = 20;
        var factors = SeededData.Matrix(items, k, seed: 22);
        var exact = SimilarItems.Compute(factors, k, n);
        var ivf = SimilarItems.Compute(factors, k, n, ivf: new IvfBuildOptions(Seed: 5), targetRecall: 0.9);
        TopNTestData.AssertWellFormed(ivf, items);
        // Tuned to 0.9 on a 1,000-item sample; over all items expect about the same (standard error ≈ 0.005).
        Assert.True(RecallMeasurement.Compare(exact, ivf).Mean >= 0.88);
    }

    [Fact]
    public void Bad_arguments_name_what_is_wrong()
    {
        var e = Assert.Throws<ArgumentException>(() => SimilarItems.Compute(new float[7], 2, 5));
        Assert.Contains("not a multiple of k = 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SimilarItems.Compute(new float[8], 2, -1));
        Assert.Equal(0, SimilarItems.Compute([], 2, 5).Users);
    }

    /// <summary>
    /// The oracle, computed independently in double precision: for each non-banned item, every other non-banned item's
    /// cosine (0 with a zero vector), sorted descending. With ties (or near-ties below float precision) the order within
    /// a tie is not pinned, so rank r must hold an item whose true cosine equals the oracle's r-th best, within tolerance.
    /// </summary>
    private static void AssertMatchesBruteForce(float[] factors, int k, int n, IReadOnlySet<int>? banned, TopNResult result)
    {
        int items = factors.Length / k;
        Assert.Equal(items, result.Users);
        Assert.Equal(n, result.N);
        TopNTestData.AssertWellFormed(result, items);
        for (int i = 0; i < items; i++)
        {
            if (banned?.Contains(i) == true) { Assert.Equal(0, result.Counts[i]); continue; }
            var others = Enumerable.Range(0, items).Where(j => j != i && banned?.Contains(j) != true).ToArray();
            var best = others.Select(j => Cosine(factors, k, i, j)).OrderDescending().Take(n).ToArray();
            Assert.Equal(best.Length, result.Counts[i]);
            var got = result.ItemsOf(i);
            var scores = result.ScoresOf(i);
            for (int r = 0; r < best.Length; r++)
            {
                Assert.NotEqual(i, got[r]);
                Assert.True(Math.Abs(Cosine(factors, k, i, got[r]) - best[r]) <= Tolerance,
                    $"item {i} rank {r + 1}: item {got[r]} has cosine {Cosine(factors, k, i, got[r]):F7}, the {r + 1}-th best is {best[r]:F7}");
                Assert.True(Math.Abs(scores[r] - best[r]) <= Tolerance, $"item {i} rank {r + 1}: score {scores[r]:F7}, expected {best[r]:F7}");
            }
        }
    }

    private static double Cosine(float[] f, int k, int a, int b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < k; d++)
        {
            double x = f[a * k + d], y = f[b * k + d];
            dot += x * y; na += x * x; nb += y * y;
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
