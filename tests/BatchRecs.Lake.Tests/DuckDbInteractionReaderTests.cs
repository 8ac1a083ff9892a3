using BatchRecs.Core.Data;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Tests;

/// <summary>The DuckDB reader must produce exactly what the Parquet.Net reader produces, and the same errors.</summary>
public class DuckDbInteractionReaderTests
{
    private static readonly DateOnly RunDate = new(2026, 4, 1);

    private static void AssertSameLog(InteractionLog a, InteractionLog b)
    {
        Assert.Equal(a.UserIds.Kind, b.UserIds.Kind);
        Assert.Equal(a.UserCount, b.UserCount);
        Assert.Equal(a.ItemCount, b.ItemCount);
        Assert.Equal(a.Count, b.Count);
        // Same multiset of (user, item, time, value) rows: compare sorted.
        static (int, int, long, float)[] Rows(InteractionLog l) =>
            Enumerable.Range(0, l.Count).Select(e => (l.Users[e], l.Items[e], l.Times[e], l.Values[e])).Order().ToArray();
        Assert.Equal(Rows(a), Rows(b));
    }

    [Fact]
    public async Task Both_readers_agree_on_int_ids_with_event_weights_decay_and_a_window()
    {
        using var dir = new TempDirectory();
        var log = SyntheticInteractions.Generate(new SyntheticSpec(300, 120, 8000, 20, 5, RunDate.AddDays(-1)));
        var cols = new InteractionColumns(log.UserIds, null, log.ItemIds, null, log.TimesMicros,
            log.EventTypes.Select(t => SyntheticLog.EventTypeNames[t]).ToArray(), null);
        await InteractionWriter.WriteByDayAsync(dir.Path, cols);
        var window = new ReadWindow(RunDate, 9);
        var rules = new EventRules(new Dictionary<string, float> { ["cart"] = 3, ["purchase"] = 5 }, HalfLifeDays: 4);
        var a = await InteractionReader.ReadAsync(dir.Path, window, rules);
        var b = await DuckDbInteractionReader.ReadAsync(dir.Path, window, rules);
        AssertSameLog(a.Events.ToInteractionLog(), b.Events.ToInteractionLog());
        Assert.Equal(a.Files.Select(f => (f.Path, f.Rows)), b.Files.Select(f => (f.Path, f.Rows)));
    }

    [Fact]
    public async Task Both_readers_agree_on_string_ids_and_values()
    {
        using var dir = new TempDirectory();
        long t0 = new DateTimeOffset(2026, 3, 20, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        var cols = new InteractionColumns(null, ["a", "b", "a", "c"], null, ["x", "y", "y", "x"],
            [t0, t0 + 1000, t0 + 86_400_000_000, t0 + 2 * 86_400_000_000], null, [1.5, 2, 4, 0.5]);
        await InteractionWriter.WriteByDayAsync(dir.Path, cols);
        var a = await InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules());
        var b = await DuckDbInteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules());
        AssertSameLog(a.Events.ToInteractionLog(), b.Events.ToInteractionLog());
    }

    [Fact]
    public async Task Both_readers_agree_on_optional_columns_values_and_rows_outside_the_window()
    {
        // Spark writes every column OPTIONAL; with no nulls in it, and values ≥ 0 everywhere, nothing is wrong.
        using var dir = new TempDirectory();
        long inWindow = 1_774_000_000, before = 1_700_000_000; // 2026-03-20 and 2023-11-14, epoch seconds
        await BadInputs.Write(Path.Combine(dir.Path, "a.parquet"),
            [BadInputs.Nullable("user_id", new long?[] { 1, 2, 3, 4 }), BadInputs.Nullable("item_id", new int?[] { 7, 8, 7, 9 }),
             BadInputs.Nullable("event_time", new long?[] { inWindow, before, inWindow + 5, inWindow + 9 }), BadInputs.Nullable("value", new double?[] { 2.5, 1, null, 0 })],
            [BadInputs.Nullable("user_id", new long?[] { 5 }), BadInputs.Nullable("item_id", new int?[] { 7 }),
             BadInputs.Nullable("event_time", new long?[] { inWindow + 60 }), BadInputs.Nullable("value", new double?[] { 4 })]);
        var window = new ReadWindow(RunDate, 30);
        var a = await InteractionReader.ReadAsync(dir.Path, window, new EventRules());
        var b = await DuckDbInteractionReader.ReadAsync(dir.Path, window, new EventRules());
        Assert.Equal(4, a.Events.Count);
        AssertSameLog(a.Events.ToInteractionLog(), b.Events.ToInteractionLog());
        Assert.Equal(a.RowsRead, b.RowsRead);
    }

    [Theory]
    [MemberData(nameof(BadInputs.Names), MemberType = typeof(BadInputs))]
    public async Task Both_readers_fail_on_bad_input_with_the_same_message(string name)
    {
        if (name == "fifo") return; // the contract tests read a FIFO under a timeout; a message compare adds nothing
        using var dir = new TempDirectory();
        await BadInputs.WriteGood(dir.Path);
        await BadInputs.All[name].Write(dir.Path);
        var window = new ReadWindow(BadInputs.RunDate, BadInputs.LookbackDays);
        var a = await Assert.ThrowsAsync<LakeInputException>(() => InteractionReader.ReadAsync(dir.Path, window, new EventRules()));
        var b = await Assert.ThrowsAsync<LakeInputException>(() => DuckDbInteractionReader.ReadAsync(dir.Path, window, new EventRules()));
        Assert.Equal(a.Message, b.Message);
        Assert.Equal((a.File, a.Column), (b.File, b.Column));
    }

    [Fact]
    public async Task Bad_input_gets_the_located_message_of_the_row_group_reader()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "bad.parquet"), "not parquet");
        var e = await Assert.ThrowsAsync<LakeInputException>(() => DuckDbInteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules()));
        Assert.Contains("bad.parquet", e.Message);
    }
}
