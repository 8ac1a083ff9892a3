using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Hangfire.Distributed;

namespace BatchRecs.Hangfire.Tests;

/// <summary>
/// The scoring step's scratch files (no PostgreSQL, no workers): bans and per-user rule exclusions survive the trip to a
/// worker, the worker's block lists equal the coordinator's and a brute force, and a block's RuleRemoved comes back.
/// </summary>
public class ScoringTaskFilesTests
{
    private const int K = 8, Users = 120, Items = 300, N = 10;

    private static ScoringStep Step(int seed, IvfBuildOptions? ivf, int nprobe, bool rules = true, bool bans = true)
    {
        var u = SeededData.Matrix(Users, K, seed);
        var v = SeededData.Matrix(Items, K, seed + 1);
        var history = SeededData.History(Users, Items, 8, seed + 2);
        var rng = new Random(seed + 3);
        // Bans on the items with the largest norms: they sit in many users' top N, so RuleRemoved is large.
        var banned = bans ? Enumerable.Range(0, Items).OrderByDescending(i => Norm(v, i)).Take(15).Append(rng.Next(Items)).ToHashSet() : null;
        var ruleRows = rules ? SeededData.History(Users, Items, 30, seed + 4) : null;
        return new ScoringStep(u, v, K, N, history, BlockPartitioner.Partition(history, 4, K), ivf, nprobe, banned, ruleRows);
    }

    private static double Norm(float[] v, int i)
    {
        double s = 0;
        for (int d = 0; d < K; d++) s += (double)v[i * K + d] * v[i * K + d];
        return s;
    }

    /// <summary>Brute force for one user: double-precision scores, history, bans and rule rows dropped, ties to the lower index.</summary>
    private static int[] Brute(ScoringStep s, int x, bool withRules = true)
    {
        return Enumerable.Range(0, Items)
            .Where(i => !s.Exclude.Contains(x, i))
            .Where(i => !withRules || ((s.Banned is null || !s.Banned.Contains(i)) && (s.RuleExclude is null || !s.RuleExclude.Contains(x, i))))
            .Select(i => (Item: i, Score: Enumerable.Range(0, K).Sum(d => (double)s.UserFactors[x * K + d] * s.ItemFactors[i * K + d])))
            .OrderByDescending(p => p.Score).ThenBy(p => p.Item).Take(N).Select(p => p.Item).ToArray();
    }

    private static void AssertSamePattern(CsrMatrix? expected, CsrMatrix? actual)
    {
        if (expected is null) { Assert.Null(actual); return; }
        Assert.NotNull(actual);
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Cols, actual.Cols);
        Assert.Equal(expected.RowPtr, actual.RowPtr);
        Assert.Equal(expected.ColIdx, actual.ColIdx);
    }

    [Theory]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    [InlineData(false, false, true)]
    [InlineData(false, true, false)]
    [InlineData(false, false, false)]
    public void A_scoring_step_read_back_holds_the_same_bans_and_rule_rows_and_scores_the_same_lists(bool ivf, bool bans, bool rules)
    {
        using var dir = new TempDirectory();
        var step = Step(11, ivf ? new IvfBuildOptions(Nlist: 12, Seed: 7, MaxThreads: 1) : null, ivf ? 12 : 0, rules, bans);
        Assert.True(BlockTaskFiles.WriteScoring(dir.Path, step) > 0);
        var (back, excludeCsr) = BlockTaskFiles.ReadScoring(dir.Path);
        Assert.Null(excludeCsr);

        Assert.Equal(step.K, back.K);
        Assert.Equal(step.N, back.N);
        Assert.Equal(step.Nprobe, back.Nprobe);
        Assert.Equal(step.Ivf, back.Ivf);
        Assert.Equal(step.UserFactors, back.UserFactors);
        Assert.Equal(step.ItemFactors, back.ItemFactors);
        AssertSamePattern(step.Exclude, back.Exclude);
        AssertSamePattern(step.RuleExclude, back.RuleExclude);
        if (step.Banned is null) Assert.True(back.Banned is null || back.Banned.Count == 0);
        else Assert.Equal(step.Banned.Order().ToArray(), back.Banned!.Order().ToArray());

        long total = 0, expectedTotal = 0;
        foreach (var block in step.UserBlocks)
        {
            var original = step.ScoreBlock(block);
            var worker = back.ScoreBlock(block);
            Assert.Equal(original.Counts, worker.Counts);
            Assert.Equal(original.Items, worker.Items);
            Assert.Equal(original.Scores, worker.Scores);
            Assert.Equal(original.RuleRemoved, worker.RuleRemoved);
            total += worker.RuleRemoved;
            for (int j = 0; j < block.Length; j++)
            {
                int x = block.Start + j;
                // Scores differ from the double brute force only by float rounding; the seeds give no near-ties here.
                Assert.Equal(Brute(step, x), worker.ItemsOf(j).ToArray());
                var unfiltered = Brute(step, x, withRules: false);
                expectedTotal += unfiltered.Count(i => (step.Banned?.Contains(i) ?? false) || (step.RuleExclude?.Contains(x, i) ?? false));
            }
        }
        Assert.Equal(expectedTotal, total);
        Assert.Equal(bans || rules, total > 0);
    }

    [Fact]
    public void Exclusions_referenced_as_a_fits_csr_file_are_read_block_by_block_from_it_and_the_step_is_smaller_by_their_pattern()
    {
        using var dir = new TempDirectory();
        var step = Step(13, null, 0, rules: true, bans: true);
        string csr = Path.Combine(dir.Path, "csr-fit.bin");
        var conf = step.Exclude.MapValues(v => 1 + 2 * v); // a fit's confidences: the exclusions' pattern, other values
        Lake.Scratch.BinaryArrays.WriteCsr(csr, conf, null);
        string inline = Path.Combine(dir.Path, "inline"), referenced = Path.Combine(dir.Path, "referenced");
        long inlineBytes = BlockTaskFiles.WriteScoring(inline, step);
        long referencedBytes = BlockTaskFiles.WriteScoring(referenced, step, csr);
        Assert.True(inlineBytes - referencedBytes >= 4L * step.Exclude.NonZeros, $"{inlineBytes} vs {referencedBytes}");
        var (back, excludeCsr) = BlockTaskFiles.ReadScoring(referenced);
        Assert.Equal(csr, excludeCsr);
        Assert.False(back.Exclude.HasEntries);
        Assert.Equal(step.Exclude.RowPtr, back.Exclude.RowPtr);
        // A worker reads each block's own rows of the file (the cache's ForScoring), and scores as the coordinator's step.
        var cache = new BlockTaskCache();
        foreach (var block in step.UserBlocks)
        {
            var (worker, _) = cache.ForScoring(referenced, block.Start, block.End);
            for (int u = 0; u < step.Users; u++)
                Assert.Equal(u >= block.Start && u < block.End ? step.Exclude.RowCols(u).ToArray() : [], worker.Exclude.RowCols(u).ToArray());
            Assert.Equal(step.ScoreBlock(block).Items, worker.ScoreBlock(block).Items);
        }
    }

    [Fact]
    public void A_workers_cache_holds_the_blocks_it_read_within_its_budget_and_drops_the_least_recently_used()
    {
        using var dir = new TempDirectory();
        var m = Step(17, null, 0, rules: false, bans: false).Exclude.MapValues(v => 1 + v);
        string csr = Path.Combine(dir.Path, "csr.bin");
        Lake.Scratch.BinaryArrays.WriteCsr(csr, m, null);
        long Block(int start, int end) => 4L * (end - start + 1) + 8L * (m.RowPtr[end] - m.RowPtr[start]);
        int half = m.Rows / 2;
        long budget = Block(0, half) + Block(half, m.Rows) - 1; // not both halves
        var cache = new BlockTaskCache(csrBytes: budget);
        var first = cache.CsrRows(csr, 0, half).Matrix;
        Assert.Same(first, cache.CsrRows(csr, 0, half).Matrix);                      // a hit: the same rows object
        Assert.Equal(Block(0, half), cache.CachedCsrBytes);
        var second = cache.CsrRows(csr, half, m.Rows).Matrix;
        Assert.Equal(Block(half, m.Rows), cache.CachedCsrBytes);                     // the first half went to make room
        Assert.NotSame(first, cache.CsrRows(csr, 0, half).Matrix);                    // read again, by range
        Assert.True(cache.CachedCsrBytes <= budget);
        for (int u = half; u < m.Rows; u++) Assert.Equal(m.RowCols(u).ToArray(), second.RowCols(u - half).ToArray());
    }

    [Fact]
    public void Block_lists_read_back_keep_their_rule_removed_count_and_gather_into_the_full_result()
    {
        using var dir = new TempDirectory();
        var step = Step(21, null, 0);
        var all = new TopNResult(Users, N);
        long sum = 0;
        foreach (var block in step.UserBlocks)
        {
            var part = step.ScoreBlock(block);
            Assert.True(part.RuleRemoved > 0);
            sum += part.RuleRemoved;
            BlockTaskFiles.WriteLists(dir.Path, block.Index, part);
            // Read straight into the block's rows of the whole result; the other rows stay empty.
            var back = new TopNResult(Users, N);
            BlockTaskFiles.ReadListsInto(dir.Path, block, back);
            for (int u = 0; u < Users; u++)
            {
                bool inBlock = u >= block.Start && u < block.End;
                Assert.Equal(inBlock ? part.ItemsOf(u - block.Start).ToArray() : [], back.ItemsOf(u).ToArray());
                Assert.Equal(inBlock ? part.ScoresOf(u - block.Start).ToArray() : [], back.ScoresOf(u).ToArray());
            }
            Assert.Equal(part.RuleRemoved, back.RuleRemoved);
            BlockTaskFiles.ReadListsInto(dir.Path, block, all);
        }
        Assert.Throws<InvalidDataException>(() => BlockTaskFiles.ReadListsInto(dir.Path, step.UserBlocks[0] with { End = step.UserBlocks[0].End + 1 }, all));
        // The gathered result equals one exact search over all users, RuleRemoved included.
        var whole = ExactTopN.Search(step.UserFactors, step.ItemFactors, K, step.Query(1));
        Assert.Equal(whole.Items, all.Items);
        Assert.Equal(whole.Counts, all.Counts);
        Assert.Equal(whole.RuleRemoved, all.RuleRemoved);
        Assert.Equal(sum, all.RuleRemoved);
    }
}
