using BatchRecs.Core.Data;
using BatchRecs.Lake.Input;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Tests;

public class InteractionReaderTests
{
    private static readonly DateOnly RunDate = new(2026, 3, 10);

    private static long Micros(int day, int hour = 12) =>
        new DateTimeOffset(2026, 3, day, hour, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;

    [Fact]
    public async Task Int64_ids_and_timestamps_round_trip_through_the_writer_and_reader()
    {
        using var dir = new TempDirectory();
        var cols = new InteractionColumns([7, 7, 3, 1_000_000_000_000], null, [100, 200, 100, 300], null,
            [Micros(5), Micros(6, 1), Micros(6, 23), Micros(9)], ["view", "purchase", "view", "cart"], null);
        Assert.Equal(3, await InteractionWriter.WriteByDayAsync(dir.Path, cols));
        Assert.True(File.Exists(Path.Combine(dir.Path, "dt=2026-03-06", "part-00000.parquet")));

        var weights = new Dictionary<string, float> { ["view"] = 1, ["purchase"] = 5 };
        var r = await InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules(weights, DefaultEventWeight: 2));
        var log = r.Events.ToInteractionLog();
        Assert.Equal(4, log.Count);
        Assert.Equal(IdKind.Int64, log.UserIds.Kind);
        var rows = Enumerable.Range(0, log.Count)
            .Select(e => (U: log.UserIds.Int64At(log.Users[e]), I: log.ItemIds.Int64At(log.Items[e]), T: log.Times[e], V: log.Values[e]))
            .OrderBy(x => x.T).ToList();
        Assert.Equal((7L, 100L, Micros(5), 1f), rows[0]);
        Assert.Equal((7L, 200L, Micros(6, 1), 5f), rows[1]);
        Assert.Equal((3L, 100L, Micros(6, 23), 1f), rows[2]);
        Assert.Equal((1_000_000_000_000L, 300L, Micros(9), 2f), rows[3]); // 'cart' has no weight: the default
    }

    [Fact]
    public async Task String_ids_round_trip()
    {
        using var dir = new TempDirectory();
        var cols = new InteractionColumns(null, ["alice", "bob", "alice"], null, ["sku-1", "sku-2", "sku-ü"], [Micros(1), Micros(2), Micros(3)]);
        await InteractionWriter.WriteByDayAsync(dir.Path, cols);
        var log = (await InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules())).Events.ToInteractionLog();
        Assert.Equal(IdKind.String, log.UserIds.Kind);
        var pairs = Enumerable.Range(0, log.Count).Select(e => (log.UserIds.StringAt(log.Users[e]), log.ItemIds.StringAt(log.Items[e]))).Order().ToList();
        Assert.Equal([("alice", "sku-1"), ("alice", "sku-ü"), ("bob", "sku-2")], pairs);
    }

    [Fact]
    public async Task Partitions_outside_the_window_are_not_opened_and_events_outside_it_are_dropped()
    {
        using var dir = new TempDirectory();
        // Days 1..9 of March; window for run date 10 with look-back 3 is [7, 10).
        var times = Enumerable.Range(1, 9).Select(d => Micros(d)).ToArray();
        var cols = new InteractionColumns(Enumerable.Range(1, 9).Select(i => (long)i).ToArray(), null, Enumerable.Repeat(1L, 9).ToArray(), null, times);
        await InteractionWriter.WriteByDayAsync(dir.Path, cols);
        // An unpartitioned file is always read, but only its in-window rows count.
        await InteractionWriter.WriteFileAsync(Path.Combine(dir.Path, "extra.parquet"),
            new InteractionColumns([50, 51], null, [1, 1], null, [Micros(2), Micros(8)]), new[] { 0, 1 });
        var r = await InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 3), new EventRules());
        var opened = r.Files.Select(f => Path.GetRelativePath(dir.Path, f.Path)).ToList();
        Assert.Equal(["dt=2026-03-07/part-00000.parquet", "dt=2026-03-08/part-00000.parquet", "dt=2026-03-09/part-00000.parquet", "extra.parquet"], opened);
        Assert.Equal(6, r.PrunedFiles);
        Assert.Equal(4, r.Events.Count);
        Assert.Equal(new long[] { 7, 8, 9, 51 }, r.Events.UserIds.Int64Ids.ToArray());
    }

    [Fact]
    public async Task A_missing_required_column_names_the_file_and_the_column()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "dt=2026-03-05", "part-00000.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var user = new DataField<long>("user_id");
        var time = new DateTimeDataField("event_time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros);
        await using (var s = File.Create(path))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(user, time), s))
        {
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<long>(user, new long[] { 1 });
            await rg.WriteAsync<DateTime>(time, new[] { new DateTime(2026, 3, 5, 0, 0, 0, DateTimeKind.Utc) });
        }
        var e = await Assert.ThrowsAsync<LakeInputException>(() => InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules()));
        Assert.Contains(path, e.Message);
        Assert.Contains("'item_id'", e.Message);
        Assert.Equal("item_id", e.Column);
    }

    [Fact]
    public async Task A_null_id_names_file_column_row_group_and_row()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "part.parquet");
        var user = new DataField<long?>("user_id");
        var item = new DataField<long>("item_id");
        var time = new DataField<long>("event_time");
        await using (var s = File.Create(path))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(user, item, time), s))
        {
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<long>(user, new long?[] { 1, 2, null, 4 });
            await rg.WriteAsync<long>(item, new long[] { 1, 2, 3, 4 });
            await rg.WriteAsync<long>(time, new long[] { 1772700000, 1772700000, 1772700000, 1772700000 });
        }
        var e = await Assert.ThrowsAsync<LakeInputException>(() => InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules()));
        Assert.Contains(path, e.Message);
        Assert.Contains("column 'user_id', row group 0, row 2", e.Message);
    }

    [Fact]
    public async Task A_corrupt_file_is_reported_by_name()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "broken.parquet");
        await File.WriteAllTextAsync(path, "this is not parquet");
        var e = await Assert.ThrowsAsync<LakeInputException>(() => InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules()));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public async Task Mixed_integer_widths_across_files_are_one_id_space()
    {
        using var dir = new TempDirectory();
        async Task Write<T>(string name, T[] users) where T : struct
        {
            var user = new DataField<T>("user_id");
            var item = new DataField<int>("item_id");
            var time = new DataField<long>("event_time");
            await using var s = File.Create(Path.Combine(dir.Path, name));
            await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(user, item, time), s);
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<T>(user, users);
            await rg.WriteAsync<int>(item, Enumerable.Repeat(5, users.Length).ToArray());
            await rg.WriteAsync<long>(time, Enumerable.Repeat(1772700000L, users.Length).ToArray());
        }
        await Write("a.parquet", new[] { 1, 2 });
        await Write("b.parquet", new[] { 2L, 3L });
        var log = (await InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules())).Events.ToInteractionLog();
        Assert.Equal(new long[] { 1, 2, 3 }, log.UserIds.Int64Ids.ToArray());
        Assert.Equal(4, log.Count);
    }

    private static async Task WriteValuesFile(string path, double[] values, long userBase = 1)
    {
        var user = new DataField<long>("user_id");
        var item = new DataField<long>("item_id");
        var time = new DataField<long>("event_time");
        var value = new DataField<double>("value");
        await using var s = File.Create(path);
        await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(user, item, time, value), s);
        using var rg = w.CreateRowGroup();
        await rg.WriteAsync<long>(user, values.Select((_, i) => userBase + i).ToArray());
        await rg.WriteAsync<long>(item, values.Select((_, i) => 100L + i).ToArray());
        await rg.WriteAsync<long>(time, values.Select(_ => 1772700000L).ToArray());
        await rg.WriteAsync<double>(value, values);
    }

    [Fact]
    public async Task A_non_finite_value_names_file_column_and_row()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "v.parquet");
        await WriteValuesFile(path, [1, 2, 3, double.NaN]);
        var e = await Assert.ThrowsAsync<LakeInputException>(() => InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules()));
        Assert.Contains($"{path}: column 'value', row group 0, row 3", e.Message);
    }

    [Fact]
    public async Task An_unsupported_id_type_names_the_column()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "d.parquet");
        var user = new DataField<double>("user_id");
        var item = new DataField<long>("item_id");
        var time = new DataField<long>("event_time");
        await using (var s = File.Create(path))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(user, item, time), s))
        {
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<double>(user, new[] { 1.5 });
            await rg.WriteAsync<long>(item, new[] { 1L });
            await rg.WriteAsync<long>(time, new[] { 1772700000L });
        }
        var e = await Assert.ThrowsAsync<LakeInputException>(() => InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules()));
        Assert.Contains(path, e.Message);
        Assert.Contains("'user_id'", e.Message);
        Assert.Contains("unsupported type", e.Message);
    }

    [Fact]
    public async Task Skip_bad_files_lists_them_and_keeps_none_of_their_rows_or_ids()
    {
        using var dir = new TempDirectory();
        await WriteValuesFile(Path.Combine(dir.Path, "a.parquet"), [1, 2], userBase: 1);
        await WriteValuesFile(Path.Combine(dir.Path, "b.parquet"), [1, 2, double.PositiveInfinity], userBase: 50); // bad at row 2
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "c.parquet"), "garbage");
        await WriteValuesFile(Path.Combine(dir.Path, "d.parquet"), [4], userBase: 9);
        var r = await InteractionReader.ReadAsync(dir.Path, new ReadWindow(RunDate, 30), new EventRules(SkipBadFiles: true));
        Assert.Equal(["b.parquet", "c.parquet"], r.Skipped.Select(s => Path.GetFileName(s.Path)).ToArray());
        Assert.Contains("row 2", r.Skipped[0].Reason);
        Assert.Equal(new long[] { 1, 2, 9 }, r.Events.UserIds.Int64Ids.ToArray());
        Assert.Equal(3, r.Events.Count);
        Assert.Equal(2, r.Files.Count);
    }
}
