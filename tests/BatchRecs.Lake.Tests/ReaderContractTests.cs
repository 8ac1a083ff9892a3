using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Tests;

/// <summary>
/// What every interaction reader must do with hostile input, written once and run through each reader: the same bad
/// files fail with the same located error, are skipped (and listed) under <c>skip_bad_files</c>, and the input tree is
/// walked without reading a file twice or opening anything that is not a regular file.
/// </summary>
public abstract class ReaderContractTests
{
    protected abstract Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules);

    private static readonly ReadWindow Window = new(BadInputs.RunDate, BadInputs.LookbackDays);

    /// <summary>Reads on another thread, failing after a minute instead of hanging (a FIFO blocks in open()).</summary>
    private async Task<ReadResult> Guarded(string dir, EventRules rules)
    {
        var read = Task.Run(() => ReadAsync(dir, Window, rules));
        try
        {
            return await read.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // Unblock a reader stuck opening a FIFO (a writer's open completes its open; the close gives it end of file).
            foreach (var fifo in BadInputs.All["fifo"].BadFiles.Select(f => Path.Combine(dir, f)).Where(File.Exists))
                _ = Task.Run(() => { using var w = File.OpenWrite(fifo); });
            throw new Xunit.Sdk.XunitException($"reading '{dir}' hung for a minute");
        }
    }

    [Theory]
    [MemberData(nameof(BadInputs.Names), MemberType = typeof(BadInputs))]
    public async Task Bad_input_fails_naming_the_file_and_where_in_it(string name)
    {
        var c = BadInputs.All[name];
        using var dir = new TempDirectory();
        await BadInputs.WriteGood(dir.Path);
        await c.Write(dir.Path);
        var e = await Assert.ThrowsAsync<LakeInputException>(() => Guarded(dir.Path, new EventRules()));
        string bad = Path.Combine(dir.Path, c.BadFiles[0]);
        Assert.Contains(bad, e.Message);
        Assert.Equal(bad, e.File);
        foreach (var expected in c.Expected) Assert.Contains(expected, e.Message);
    }

    [Theory]
    [MemberData(nameof(BadInputs.Names), MemberType = typeof(BadInputs))]
    public async Task Under_skip_bad_files_a_bad_file_is_listed_and_none_of_it_is_kept(string name)
    {
        var c = BadInputs.All[name];
        using var dir = new TempDirectory();
        await BadInputs.WriteGood(dir.Path);
        await c.Write(dir.Path);
        var r = await Guarded(dir.Path, new EventRules(SkipBadFiles: true));
        Assert.Equal(c.BadFiles.Select(f => Path.Combine(dir.Path, f)), r.Skipped.Select(s => s.Path));
        Assert.All(r.Skipped, s => Assert.Contains(s.Path, s.Reason));
        Assert.Equal([Path.Combine(dir.Path, BadInputs.GoodFile)], r.Files.Select(f => f.Path));
        Assert.Equal(BadInputs.GoodRows, r.Events.Count);
        Assert.Equal(new long[] { 1, 2, 3 }, r.Events.UserIds.Int64Ids.ToArray());
        Assert.Equal(new long[] { 10, 11, 12 }, r.Events.ItemIds.Int64Ids.ToArray());
    }

    [Fact]
    public async Task Symlinks_are_followed_once_a_loop_is_not_walked_and_no_file_is_read_twice()
    {
        using var dir = new TempDirectory();
        using var elsewhere = new TempDirectory();
        await BadInputs.WriteGood(dir.Path);
        var day = Path.Combine(dir.Path, "dt=2026-03-05");
        await BadInputs.Write(Path.Combine(day, "part-00000.parquet"),
            [BadInputs.Col("user_id", new[] { 4L }), BadInputs.Col("item_id", new[] { 13L }), BadInputs.Times(BadInputs.In)]);
        Directory.CreateSymbolicLink(Path.Combine(day, "loop"), "..");                 // a cycle back to the input root
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "dt=2026-03-04"), day);   // a second name for a directory (its own name wins)
        File.CreateSymbolicLink(Path.Combine(dir.Path, "same.parquet"), BadInputs.GoodFile); // a second name for a file
        // A partition kept elsewhere and linked in is input like any other.
        await BadInputs.Write(Path.Combine(elsewhere.Path, "day6", "part-00000.parquet"),
            [BadInputs.Col("user_id", new[] { 5L }), BadInputs.Col("item_id", new[] { 14L }), BadInputs.Times(BadInputs.In + 86_400)]);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "dt=2026-03-06"), Path.Combine(elsewhere.Path, "day6"));

        var r = await Guarded(dir.Path, new EventRules());
        Assert.Equal(["dt=2026-03-05/part-00000.parquet", "dt=2026-03-06/part-00000.parquet", "good.parquet"],
            r.Files.Select(f => Path.GetRelativePath(dir.Path, f.Path)));
        Assert.Equal(BadInputs.GoodRows + 2, r.Events.Count);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, r.Events.UserIds.Int64Ids.ToArray());
    }

    /// <summary>Reads 3 events of 2026-03-05 stored as epoch seconds × <paramref name="scale"/>, as epoch seconds.</summary>
    private async Task<string> EmptyWindowMessage(TempDirectory dir, long scale)
    {
        await BadInputs.Write(Path.Combine(dir.Path, "events.parquet"),
            [BadInputs.Col("user_id", new[] { 1L, 2, 3 }), BadInputs.Col("item_id", new[] { 10L, 11, 12 }),
             BadInputs.Times(BadInputs.In * scale, (BadInputs.In + 60) * scale, (BadInputs.In + 120) * scale)]);
        var r = await Guarded(dir.Path, new EventRules());
        Assert.Equal(0, r.Events.Count);
        Assert.Equal(3, r.RowsRead);
        return EmptyWindow.Explain(r, Window, "s");
    }

    [Fact]
    public async Task Millisecond_epochs_read_as_seconds_are_explained_with_the_dates_seen_and_epoch_unit_ms()
    {
        using var dir = new TempDirectory();
        string m = await EmptyWindowMessage(dir, 1_000);
        // 1772700000000 and 1772700120000 s after 1970 are 58144-08-17 and 58144-08-18 (GNU date -u -d @… +%F).
        Assert.StartsWith("no events in the run's window [2026-02-08, 2026-03-10): the 3 rows read have INT64 event_time values from 58144-08-17 to 58144-08-18 taken as seconds (epoch_unit=s)", m);
        Assert.EndsWith("as milliseconds they are 2026-03-05 … 2026-03-05: are the INT64 event_time values in milliseconds? set epoch_unit=ms.", m);
    }

    [Fact]
    public async Task Microsecond_epochs_read_as_seconds_do_not_wrap_into_the_window_and_point_to_epoch_unit_us()
    {
        using var dir = new TempDirectory();
        // 1.77e15 s overflows microseconds: wrapped, it could land anywhere, in the window too.
        string m = await EmptyWindowMessage(dir, 1_000_000);
        Assert.Contains("from 56176596-10-01 to 56176600-07-22 taken as seconds", m); // GNU date -u -d @1772700000000000 (and @1772700120000000) +%F
        Assert.EndsWith("set epoch_unit=us.", m);
    }

    [Fact]
    public async Task Timestamps_outside_the_window_are_explained_with_their_dates()
    {
        using var dir = new TempDirectory();
        await BadInputs.Write(Path.Combine(dir.Path, "old.parquet"), [BadInputs.Col("user_id", new[] { 1L, 2 }), BadInputs.Col("item_id", new[] { 10L, 11 }),
            BadInputs.Timestamps([new DateTime(2025, 12, 31, 23, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc)])]);
        var r = await Guarded(dir.Path, new EventRules());
        Assert.Equal("no events in the run's window [2026-02-08, 2026-03-10): the 2 rows read have TIMESTAMP event_time values from 2025-12-31 to 2026-01-02; " +
            "check the run date and lookback_days.", EmptyWindow.Explain(r, Window, "s"));
    }
}

public sealed class ParquetNetReaderContractTests : ReaderContractTests
{
    protected override Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules) => InteractionReader.ReadAsync(inputDir, window, rules);
}

public sealed class DuckDbReaderContractTests : ReaderContractTests
{
    protected override Task<ReadResult> ReadAsync(string inputDir, ReadWindow window, EventRules rules) => DuckDbInteractionReader.ReadAsync(inputDir, window, rules);
}
