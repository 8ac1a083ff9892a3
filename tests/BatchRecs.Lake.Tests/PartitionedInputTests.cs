using BatchRecs.Core.Data;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Tests;

/// <summary>
/// The read cut into read tasks gives the pairs of one file-by-file read, whatever the cut: ids interned per task and
/// merged, events combined task after task. Checked against <see cref="InteractionReader.ReadAsync"/> and one log combined
/// in one piece (the path every run took before read tasks).
/// </summary>
public class PartitionedInputTests
{
    private static readonly DateOnly RunDate = new(2026, 3, 10);

    private static long Micros(int day, int second) => new DateTimeOffset(2026, 3, day, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000 + second * 1_000_000L;

    /// <summary>Seven days of events, each day in 1–3 files; users and items overlap across files, and many events share a time.</summary>
    private static async Task WriteInput(string dir, bool strings, int seed)
    {
        var rng = new Random(seed);
        for (int day = 2; day <= 8; day++)
        {
            int files = 1 + rng.Next(3);
            for (int f = 0; f < files; f++)
            {
                int n = 200 + rng.Next(400);
                var users = Enumerable.Range(0, n).Select(_ => (long)rng.Next(150) * 7919).ToArray();
                var items = Enumerable.Range(0, n).Select(_ => (long)rng.Next(60) * 104_729).ToArray();
                var times = Enumerable.Range(0, n).Select(_ => Micros(day, rng.Next(5))).ToArray();
                var types = Enumerable.Range(0, n).Select(_ => rng.Next(3) == 0 ? "purchase" : "view").ToArray();
                var cols = strings
                    ? new InteractionColumns(null, users.Select(u => $"u{u}").ToArray(), null, items.Select(i => $"i{i}").ToArray(), times, types, null)
                    : new InteractionColumns(users, null, items, null, times, types, null);
                await Write(Path.Combine(dir, $"dt=2026-03-{day:D2}", $"part-{f}.parquet"), cols, Enumerable.Range(0, n).ToArray());
            }
        }
    }

    private static Task Write(string path, InteractionColumns cols, int[] rows)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return InteractionWriter.WriteFileAsync(path, cols, rows);
    }

    private static readonly EventRules Rules = new(new Dictionary<string, float> { ["view"] = 1, ["purchase"] = 4 }, HalfLifeDays: 3);

    [Theory]
    [InlineData(false, CombineRule.Sum)]
    [InlineData(true, CombineRule.Last)]
    [InlineData(false, CombineRule.Max)]
    public async Task Any_cut_into_read_tasks_gives_the_pairs_of_one_read(bool strings, CombineRule rule)
    {
        using var dir = new TempDirectory();
        await WriteInput(dir.Path, strings, seed: strings ? 3 : 4);
        var window = new ReadWindow(RunDate, 6);
        var whole = await InteractionReader.ReadAsync(dir.Path, window, Rules);
        var expected = PairAggregator.Combine(whole.Events, rule, consume: false, firstTimes: true);
        foreach (int tasks in new[] { 1, 2, 3, 7, 100 })
        {
            var plan = await ReadPlan.CreateAsync(dir.Path, window, Rules, tasks);
            Assert.Equal(whole.Files.Select(f => f.Path), plan.Tasks.SelectMany(t => t).Select(f => f.Path)); // contiguous, in order
            var read = await LocalRead.Instance.ReadAsync(plan, CancellationToken.None);
            Assert.Equal(whole.RowsRead, read.Stats.RowsRead);
            Assert.Equal(whole.RowsInWindow, read.Stats.RowsInWindow);
            Assert.Equal(whole.PrunedFiles, read.Stats.PrunedFiles);
            Assert.Equal(whole.Files.Select(f => (f.Path, f.Rows)), read.Stats.Files.Select(f => (f.Path, f.Rows)));
            var pairs = read.Combine(rule, firstTimes: true, CancellationToken.None);
            PairAssert.Same(expected, pairs, $"{tasks} read tasks");
        }
    }

    [Fact]
    public void A_split_is_contiguous_keeps_every_file_and_balances_bytes()
    {
        var files = Enumerable.Range(0, 10).Select(i => new InputFile($"/f{i:D2}", null, null) { Length = i == 3 ? 1000 : 100 }).ToList();
        var cut = ReadPlan.Split(files, 4);
        Assert.Equal(4, cut.Count);
        Assert.Equal(files, cut.SelectMany(t => t));
        Assert.All(cut, t => Assert.NotEmpty(t));
        Assert.Contains(cut, t => t.Count == 1 && t[0].Path == "/f03"); // the large file alone: the others share the rest
        Assert.Equal([3, 1, 1, 5], cut.Select(t => t.Count));
        Assert.Single(ReadPlan.Split(files, 1));
        Assert.Equal(10, ReadPlan.Split(files, 50).Count); // never more tasks than files
        Assert.Single(ReadPlan.Split([], 4));
    }

    [Fact]
    public async Task A_plan_survives_its_json_form()
    {
        using var dir = new TempDirectory();
        await WriteInput(dir.Path, strings: false, seed: 5);
        var plan = await ReadPlan.CreateAsync(dir.Path, new ReadWindow(RunDate, 4, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")), Rules with { EpochUnit = "ms" }, 3);
        var back = ReadPlan.FromJson(plan.ToJson());
        Assert.Equal(plan.InputDir, back.InputDir);
        Assert.Equal(plan.Window.Micros(), back.Window.Micros());
        Assert.Equal(plan.PrunedFiles, back.PrunedFiles);
        Assert.Equal(plan.Rules.EpochUnit, back.Rules.EpochUnit);
        Assert.Equal(plan.Rules.HalfLifeDays, back.Rules.HalfLifeDays);
        Assert.Equal(plan.Rules.EventWeights, back.Rules.EventWeights);
        Assert.Equal(plan.Tasks.Select(t => t.Select(f => (f.Path, f.Day, f.Problem, f.Length))), back.Tasks.Select(t => t.Select(f => (f.Path, f.Day, f.Problem, f.Length))));
    }

    [Fact]
    public async Task Id_kinds_that_differ_between_read_tasks_name_the_file()
    {
        using var dir = new TempDirectory();
        await Write(Path.Combine(dir.Path, "dt=2026-03-05", "a.parquet"), new InteractionColumns([1, 2], null, [5, 6], null, [Micros(5, 0), Micros(5, 1)]), new[] { 0, 1 });
        string second = Path.Combine(dir.Path, "dt=2026-03-06", "b.parquet");
        await Write(second, new InteractionColumns(null, ["x"], [5], null, [Micros(6, 0)]), new[] { 0 });
        var plan = await ReadPlan.CreateAsync(dir.Path, new ReadWindow(RunDate, 7), Rules, 2);
        Assert.Equal(2, plan.Tasks.Count);
        var e = await Assert.ThrowsAsync<LakeInputException>(() => LocalRead.Instance.ReadAsync(plan, CancellationToken.None));
        Assert.Contains(second, e.Message);
        Assert.Contains("'user_id' is STRING here but an integer in earlier files", e.Message);
    }

    [Fact]
    public async Task The_first_bad_file_in_read_order_is_the_one_reported()
    {
        using var dir = new TempDirectory();
        await WriteInput(dir.Path, strings: false, seed: 6);
        var files = Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        string early = files[1], late = files[^1];
        await File.WriteAllTextAsync(early, "not parquet");
        await File.WriteAllTextAsync(late, "not parquet either");
        var plan = await ReadPlan.CreateAsync(dir.Path, new ReadWindow(RunDate, 9), Rules, files.Count);
        var e = await Assert.ThrowsAsync<LakeInputException>(() => LocalRead.Instance.ReadAsync(plan, CancellationToken.None));
        Assert.Contains(early, e.Message);
        var skipping = await ReadPlan.CreateAsync(dir.Path, new ReadWindow(RunDate, 9), Rules with { SkipBadFiles = true }, 3);
        var read = await LocalRead.Instance.ReadAsync(skipping, CancellationToken.None);
        Assert.Equal([early, late], read.Stats.Skipped.Select(s => s.Path));
    }
}
