using System.Diagnostics;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Tests;

/// <summary>
/// Hostile input for the reader contract, one case per way a file can break it. Every case writes its bad file(s) beside
/// <see cref="GoodFile"/> (3 events in the window of <see cref="RunDate"/>, look-back <see cref="LookbackDays"/>) and says
/// which files are bad and what the error must say about them.
/// </summary>
public static class BadInputs
{
    public static readonly DateOnly RunDate = new(2026, 3, 10);
    public const int LookbackDays = 30;
    public const string GoodFile = "good.parquet";
    public const int GoodRows = 3;

    /// <summary>2026-03-05 08:40 UTC (in the window) and 2023-11-14 (outside it), as epoch seconds.</summary>
    public const long In = 1_772_700_000, Out = 1_700_000_000;

    /// <param name="BadFiles">the bad files, relative to the input directory, in the order a reader meets them.</param>
    /// <param name="Expected">what the error must contain besides the first bad file's full path.</param>
    public sealed record Case(string Name, string[] BadFiles, string[] Expected, Func<string, Task> Write);

    public static readonly IReadOnlyDictionary<string, Case> All = new[]
    {
        new Case("fractional_double_user_id", ["ids.parquet"], ["column 'user_id'", "ids must be INT64, INT32 or STRING"],
            dir => Write(Path.Combine(dir, "ids.parquet"), [Col("user_id", new[] { 1.0, 630.5, 2.0 }), Col("item_id", new[] { 1L, 2, 3 }), Times(In, In, In)])),
        new Case("integral_double_item_id", ["ids.parquet"], ["column 'item_id'", "ids must be INT64, INT32 or STRING"],
            dir => Write(Path.Combine(dir, "ids.parquet"), [Col("user_id", new[] { 1L, 2 }), Col("item_id", new[] { 5.0, 6.0 }), Times(In, In)])),
        new Case("uint64_user_id", ["ids.parquet"], ["column 'user_id'", "ids must be INT64, INT32 or STRING"],
            dir => Write(Path.Combine(dir, "ids.parquet"), [Col("user_id", new[] { 1UL, ulong.MaxValue }), Col("item_id", new[] { 1L, 2 }), Times(In, In)])),
        new Case("null_user_id_in_a_later_row_group", ["nulls.parquet"], ["column 'user_id', row group 1, row 2", "null id"],
            dir => Write(Path.Combine(dir, "nulls.parquet"),
                [Nullable("user_id", new long?[] { 1, 2, 3 }), Col("item_id", new[] { 1L, 2, 3 }), Times(In, In, In)],
                [Nullable("user_id", new long?[] { 4, 5, null }), Col("item_id", new[] { 1L, 2, 3 }), Times(In, In, In)])),
        new Case("null_item_id_outside_the_window", ["nulls.parquet"], ["column 'item_id', row group 0, row 1", "null id"],
            dir => Write(Path.Combine(dir, "nulls.parquet"), [Col("user_id", new[] { 1L, 2 }), Nullable("item_id", new long?[] { 1, null }), Times(In, Out)])),
        new Case("null_epoch_event_time", ["nulls.parquet"], ["column 'event_time', row group 0, row 1", "null event_time"],
            dir => Write(Path.Combine(dir, "nulls.parquet"), [Col("user_id", new[] { 1L, 2 }), Col("item_id", new[] { 1L, 2 }), Nullable("event_time", new long?[] { In, null })])),
        new Case("null_timestamp_event_time", ["nulls.parquet"], ["column 'event_time', row group 0, row 0", "null event_time"],
            dir => Write(Path.Combine(dir, "nulls.parquet"), [Col("user_id", new[] { 1L, 2 }), Col("item_id", new[] { 1L, 2 }),
                Timestamps([null, DateTime.UnixEpoch.AddSeconds(In)])])),
        new Case("double_event_time", ["times.parquet"], ["column 'event_time'", "event_time must be a TIMESTAMP or an INT64 epoch"],
            dir => Write(Path.Combine(dir, "times.parquet"), [Col("user_id", new[] { 1L }), Col("item_id", new[] { 1L }), Col("event_time", new[] { (double)In })])),
        new Case("string_event_time", ["times.parquet"], ["column 'event_time'", "event_time must be a TIMESTAMP or an INT64 epoch"],
            dir => Write(Path.Combine(dir, "times.parquet"), [Col("user_id", new[] { 1L }), Col("item_id", new[] { 1L }), Strings("event_time", ["2026-03-05"])])),
        new Case("missing_item_id", ["cols.parquet"], ["required column 'item_id' is missing"],
            dir => Write(Path.Combine(dir, "cols.parquet"), [Col("user_id", new[] { 1L }), Times(In)])),
        new Case("negative_value", ["values.parquet"], ["column 'value', row group 0, row 1", "is not a finite number ≥ 0"],
            dir => Write(Path.Combine(dir, "values.parquet"), [.. Ids(3), Times(In, In, In), Col("value", new[] { 1.0, -2, 3 })])),
        new Case("nan_value", ["values.parquet"], ["column 'value', row group 0, row 2", "is not a finite number ≥ 0"],
            dir => Write(Path.Combine(dir, "values.parquet"), [.. Ids(3), Times(In, In, In), Col("value", new[] { 1.0, 2, double.NaN })])),
        new Case("infinite_float_value", ["values.parquet"], ["column 'value', row group 0, row 0", "is not a finite number ≥ 0"],
            dir => Write(Path.Combine(dir, "values.parquet"), [.. Ids(2), Times(In, In), Col("value", new[] { float.PositiveInfinity, 1f })])),
        new Case("negative_int_value_outside_the_window", ["values.parquet"], ["column 'value', row group 0, row 1", "is not a finite number ≥ 0"],
            dir => Write(Path.Combine(dir, "values.parquet"), [.. Ids(2), Times(In, Out), Col("value", new[] { 1L, -1 })])),
        new Case("string_value", ["values.parquet"], ["column 'value'", "value must be numeric"],
            dir => Write(Path.Combine(dir, "values.parquet"), [.. Ids(2), Times(In, In), Strings("value", ["1", "2"])])),
        new Case("integer_event_type", ["types.parquet"], ["column 'event_type'", "event_type must be STRING"],
            dir => Write(Path.Combine(dir, "types.parquet"), [.. Ids(2), Times(In, In), Col("event_type", new[] { 1, 2 })])),
        new Case("mixed_id_kinds_across_files", ["mixed.parquet"], ["column 'user_id'", "one id column must have one kind"],
            dir => Write(Path.Combine(dir, "mixed.parquet"), [Strings("user_id", ["u1", "u2"]), Col("item_id", new[] { 1L, 2 }), Times(In, In)])),
        new Case("malformed_partition_name", ["dt=2026-13-45/part-00000.parquet"], ["dt=2026-13-45", "dt=YYYY-MM-DD"],
            dir => Write(Path.Combine(dir, "dt=2026-13-45", "part-00000.parquet"), [.. Ids(2), Times(In, In)])),
        new Case("not_parquet", ["text.parquet"], ["not a readable Parquet file"],
            dir => File.WriteAllTextAsync(Path.Combine(dir, "text.parquet"), "this is not parquet")),
        new Case("empty_file", ["empty.parquet"], ["0 bytes", "not opened"],
            dir => File.WriteAllBytesAsync(Path.Combine(dir, "empty.parquet"), [])),
        new Case("fifo", ["pipe/part.parquet"], ["not a regular file", "not opened"],
            dir => { Directory.CreateDirectory(Path.Combine(dir, "pipe")); MakeFifo(Path.Combine(dir, "pipe", "part.parquet")); return Task.CompletedTask; }),
        new Case("dangling_symlink", ["link.parquet"], ["symbolic link", "does not exist"],
            dir => { File.CreateSymbolicLink(Path.Combine(dir, "link.parquet"), "gone.parquet"); return Task.CompletedTask; }),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string> Names => new(All.Keys);

    /// <summary>Writes <see cref="GoodFile"/>: users 1–3, items 10–12, epoch-second times in the window.</summary>
    public static Task WriteGood(string dir) =>
        Write(Path.Combine(dir, GoodFile), [Col("user_id", new[] { 1L, 2, 3 }), Col("item_id", new[] { 10L, 11, 12 }), Times(In, In + 60, In + 120)]);

    /// <summary>A real named pipe (.NET has no mkfifo; coreutils does).</summary>
    public static void MakeFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"mkfifo {path} exited with {p.ExitCode}");
    }

    /// <summary>One column of one row group.</summary>
    public sealed record Column(DataField Field, Func<ParquetRowGroupWriter, DataField, Task> WriteTo);

    public static Column Col<T>(string name, T[] values) where T : struct
    {
        var f = new DataField<T>(name);
        return new Column(f, (rg, field) => rg.WriteAsync<T>(field, values));
    }

    public static Column Nullable<T>(string name, T?[] values) where T : struct
    {
        var f = new DataField<T?>(name);
        return new Column(f, (rg, field) => rg.WriteAsync<T>(field, values));
    }

    public static Column Strings(string name, string?[] values)
    {
        var f = new DataField<string>(name);
        return new Column(f, (rg, field) => rg.WriteAsync(field, values));
    }

    public static Column Times(params long[] epochSeconds) => Col("event_time", epochSeconds);

    public static Column Timestamps(DateTime?[] values)
    {
        var f = new DateTimeDataField("event_time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true);
        return new Column(f, (rg, field) => rg.WriteAsync<DateTime>(field, values));
    }

    private static Column[] Ids(int n) =>
        [Col("user_id", Enumerable.Range(1, n).Select(i => (long)i).ToArray()), Col("item_id", Enumerable.Range(1, n).Select(i => 100L + i).ToArray())];

    /// <summary>Writes one Parquet file with one row group per argument (the same columns in each, typed as in the first).</summary>
    public static async Task Write(string path, params Column[][] groups)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var s = File.Create(path);
        await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(groups[0].Select(c => (Field)c.Field).ToArray()), s);
        foreach (var group in groups)
        {
            using var rg = w.CreateRowGroup();
            for (int c = 0; c < group.Length; c++) await group[c].WriteTo(rg, groups[0][c].Field);
        }
    }
}
