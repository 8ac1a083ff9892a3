using BatchRecs.Core.Data;
using BatchRecs.Lake.Input;
using static BatchRecs.Lake.Tests.BadInputs;

namespace BatchRecs.Lake.Tests;

/// <summary>
/// <see cref="SideTable"/> over real Parquet files (Parquet.Net with chosen row groups, and DuckDB as an independent
/// writer): values in file and row order, directories, id kinds, and errors that locate the bad value.
/// </summary>
public class SideTableTests
{
    private const string Setting = "exclude_input";

    private static LakeInputException Refused(Func<object> read) => Assert.Throws<LakeInputException>(() => read());

    private static void AssertLocated(LakeInputException e, string file, string column, int rowGroup, int row, string what)
    {
        Assert.Contains(Setting, e.Message);
        Assert.Contains(file, e.Message);
        Assert.Contains($"column '{column}', row group {rowGroup}, row {row}", e.Message);
        Assert.Contains(what, e.Message);
        Assert.Equal(file, e.File);
        Assert.Equal(column, e.Column);
    }

    [Fact]
    public async Task A_file_is_read_whatever_its_name_and_a_missing_location_is_named()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("items.pq"); // Parquet, not named so
        await Write(file, [Col("item_id", new[] { 3L, 1L })]);
        var t = await SideTable.ReadAsync(Setting, file);
        Assert.Equal(2, t.Rows);
        var e = await Assert.ThrowsAsync<LakeInputException>(() => SideTable.ReadAsync(Setting, dir.Sub("nothing")));
        Assert.Contains($"{Setting} '{dir.Sub("nothing")}' does not exist", e.Message);
    }

    [Fact]
    public async Task Reads_int64_ids_booleans_and_texts_of_one_file_across_row_groups_in_order()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("side.parquet");
        var rng = new Random(5);
        var g0 = Enumerable.Range(0, 7).Select(_ => rng.NextInt64(-1_000_000, 1_000_000)).ToArray();
        var g1 = Enumerable.Range(0, 4).Select(_ => rng.NextInt64(-1_000_000, 1_000_000)).ToArray();
        var b0 = g0.Select(x => x % 2 == 0).ToArray();
        var b1 = g1.Select(x => x % 3 == 0).ToArray();
        await Write(file,
            [Col("user_id", g0), Col("available", b0), Col("score", g0.Select(x => x / 7.0).ToArray())],
            [Col("user_id", g1), Col("available", b1), Col("score", g1.Select(x => x / 7.0).ToArray())]);

        var t = await SideTable.ReadAsync(Setting, file);
        Assert.Equal(11, t.Rows);
        Assert.Equal(new[] { "user_id", "available", "score" }, t.Columns);
        Assert.True(t.Has("available"));
        Assert.False(t.Has("Available"));
        var ids = t.Ids("user_id", IdKind.Int64);
        Assert.Equal(g0.Concat(g1).ToArray(), ids.Longs);
        Assert.Null(ids.Strings);
        Assert.Equal(b0.Concat(b1).ToArray(), t.Bools("available"));
        Assert.Equal(g0.Concat(g1).Select(x => (x / 7.0).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), t.Texts("score"));
        Assert.Equal(g0.Concat(g1).Distinct().Order().ToArray(), ids.ToMap().Int64Ids.ToArray());
    }

    [Fact]
    public async Task Reads_every_parquet_file_of_a_directory_in_path_order_skipping_underscore_and_dot_names()
    {
        using var dir = new TempDirectory();
        string root = dir.Sub("exclusions");
        await Write(Path.Combine(root, "b.parquet"), [Strings("user_id", ["u3", "u4"]), Strings("item_id", ["i3", "i4"])]);
        await Write(Path.Combine(root, "a.parquet"), [Strings("user_id", ["u1"]), Strings("item_id", ["i1"])], [Strings("user_id", ["u2"]), Strings("item_id", ["i2"])]);
        // A nested partition written by DuckDB (an independent writer), with an extra column the other files lack.
        Directory.CreateDirectory(Path.Combine(root, "day=2"));
        string nested = Path.Combine(root, "day=2", "part-0.parquet");
        DuckQuery.Rows($"COPY (SELECT * FROM (VALUES ('u5', 'i5', 1), ('u6', 'i6', 2)) t(user_id, item_id, extra)) TO '{nested}' (FORMAT parquet)");
        // Skipped: names starting with '_' or '.', at any depth, and files that are not *.parquet.
        await Write(Path.Combine(root, "_tmp.parquet"), [Strings("user_id", ["bad"]), Strings("item_id", ["bad"])]);
        await Write(Path.Combine(root, ".hidden.parquet"), [Strings("user_id", ["bad"]), Strings("item_id", ["bad"])]);
        await Write(Path.Combine(root, "_staging", "c.parquet"), [Strings("user_id", ["bad"]), Strings("item_id", ["bad"])]);
        await Write(Path.Combine(root, ".git", "d.parquet"), [Strings("user_id", ["bad"]), Strings("item_id", ["bad"])]);
        await File.WriteAllTextAsync(Path.Combine(root, "notes.txt"), "not parquet");

        var t = await SideTable.ReadAsync(Setting, root);
        Assert.Equal(6, t.Rows);
        // Columns every file has, in the first file's order.
        Assert.Equal(new[] { "user_id", "item_id" }, t.Columns);
        var users = t.Ids("user_id", IdKind.String);
        Assert.Equal(new[] { "u1", "u2", "u3", "u4", "u5", "u6" }, users.Strings);
        Assert.Equal(new[] { "i1", "i2", "i3", "i4", "i5", "i6" }, t.Ids("item_id", IdKind.String).Strings);
        var e = Refused(() => t.Texts("extra"));
        Assert.Contains("'extra'", e.Message);
    }

    [Fact]
    public async Task Int32_ids_are_widened_and_ids_map_to_indices_with_minus_one_for_unknown_ids()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("users.parquet");
        await Write(file, [Col("user_id", new[] { 7, -3, 1_000_000, 7 })]);
        var t = await SideTable.ReadAsync(Setting, file);
        var ids = t.Ids("user_id", IdKind.Int64);
        Assert.Equal(new long[] { 7, -3, 1_000_000, 7 }, ids.Longs);
        var map = IdMap.FromInt64([7, 1_000_000, 42]);
        Assert.Equal(new[] { 0, -1, 2, 0 }, SideTable.IndicesOf(ids, map)); // map order: 7, 42, 1000000
    }

    [Fact]
    public async Task A_null_id_is_refused_naming_setting_file_column_row_group_and_row()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("nulls.parquet");
        await Write(file,
            [Nullable("user_id", new long?[] { 1, 2, 3 })],
            [Nullable("user_id", new long?[] { 4, 5, null, 6 })]);
        var t = await SideTable.ReadAsync(Setting, file);
        var e = Refused(() => t.Ids("user_id", IdKind.Int64));
        AssertLocated(e, file, "user_id", 1, 2, "null id");

        // Where nulls are allowed they are kept and left out of the map.
        var kept = t.Ids("user_id", IdKind.Int64, allowNull: true);
        Assert.Equal(new[] { false, false, false, false, false, true, false }, kept.IsNull);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, kept.ToMap().Int64Ids.ToArray());
        Assert.Equal(-1, SideTable.IndicesOf(kept, IdMap.FromInt64([0L]))[5]);
    }

    [Fact]
    public async Task A_null_string_id_in_a_directory_names_the_file_it_is_in()
    {
        using var dir = new TempDirectory();
        string root = dir.Sub("users");
        string good = Path.Combine(root, "a.parquet"), bad = Path.Combine(root, "b.parquet");
        await Write(good, [Strings("user_id", ["x", "y"])]);
        await Write(bad, [Strings("user_id", ["z"])], [Strings("user_id", ["w", null])]);
        var t = await SideTable.ReadAsync(Setting, root);
        var e = Refused(() => t.Ids("user_id", IdKind.String));
        AssertLocated(e, bad, "user_id", 1, 1, "null id");
        Assert.DoesNotContain(good, e.Message);
    }

    [Fact]
    public async Task A_null_boolean_is_refused_naming_the_row()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("items.parquet");
        await Write(file,
            [Col("item_id", new long[] { 1, 2 }), Nullable("available", new bool?[] { true, false })],
            [Col("item_id", new long[] { 3, 4, 5 }), Nullable("available", new bool?[] { true, true, null })]);
        var t = await SideTable.ReadAsync(Setting, file);
        AssertLocated(Refused(() => t.Bools("available")), file, "available", 1, 2, "null");
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, t.Ids("item_id", IdKind.Int64).Longs);
    }

    [Fact]
    public async Task A_boolean_column_of_another_type_is_refused_naming_the_row()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("items.parquet");
        await Write(file, [Col("available", new long[] { 1, 0 })]);
        var t = await SideTable.ReadAsync(Setting, file);
        AssertLocated(Refused(() => t.Bools("available")), file, "available", 0, 0, "BOOLEAN");
    }

    [Fact]
    public async Task String_ids_where_the_log_has_int64_ids_are_refused_naming_the_row_and_the_reverse_too()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("users.parquet");
        await Write(file, [Strings("user_id", ["17", "18"])], [Strings("user_id", ["19"])]);
        var t = await SideTable.ReadAsync(Setting, file);
        var e = Refused(() => t.Ids("user_id", IdKind.Int64));
        AssertLocated(e, file, "user_id", 0, 0, "integers");

        string ints = dir.Sub("ints.parquet");
        await Write(ints, [Col("user_id", new long[] { 17 })]);
        var u = await SideTable.ReadAsync(Setting, ints);
        AssertLocated(Refused(() => u.Ids("user_id", IdKind.String)), ints, "user_id", 0, 0, "strings");
    }

    [Fact]
    public async Task A_missing_column_is_refused_listing_the_columns_there_are()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("users.parquet");
        DuckQuery.Rows($"COPY (SELECT 1::BIGINT AS customer, 'a' AS segment) TO '{file}' (FORMAT parquet)");
        var t = await SideTable.ReadAsync(Setting, file);
        var e = Refused(() => t.Ids("user_id", IdKind.Int64));
        Assert.Contains(Setting, e.Message);
        Assert.Contains(file, e.Message);
        Assert.Contains("'user_id'", e.Message);
        Assert.Contains("missing", e.Message);
        Assert.Contains("customer, segment", e.Message);
        Assert.Equal("user_id", e.Column);
    }

    [Fact]
    public async Task A_missing_path_or_an_empty_directory_is_refused_naming_the_setting()
    {
        using var dir = new TempDirectory();
        var missing = await Assert.ThrowsAsync<LakeInputException>(() => SideTable.ReadAsync(Setting, dir.Sub("nope")));
        Assert.Contains(Setting, missing.Message);
        Assert.Contains(dir.Sub("nope"), missing.Message);
        Directory.CreateDirectory(dir.Sub("empty"));
        await Write(Path.Combine(dir.Sub("empty"), "_only_hidden.parquet"), [Col("user_id", new long[] { 1 })]);
        var empty = await Assert.ThrowsAsync<LakeInputException>(() => SideTable.ReadAsync(Setting, dir.Sub("empty")));
        Assert.Contains("no .parquet files", empty.Message);
    }
}
