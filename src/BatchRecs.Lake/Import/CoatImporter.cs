using System.Globalization;
using BatchRecs.Lake.Input;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Import;

/// <summary>Summary of a Coat import: the training ratings written as interactions, and the random test ratings.</summary>
public sealed record CoatImportResult(ImportResult Train, int TestRatings, int Users, int Items);

/// <summary>
/// Coat (Schnabel et al., ICML 2016; https://www.cs.cornell.edu/~schnabts/mnar/): two dense users × items matrices of
/// star ratings 1–5, 0 = not rated. <c>train.ascii</c> holds ratings of items the users chose (missing not at random),
/// <c>test.ascii</c> ratings of items drawn uniformly at random.
/// </summary>
/// <remarks>
/// Written as: every training rating is an interaction (<c>user_id</c> = 0-based row, <c>item_id</c> = 0-based column,
/// INT64; <c>value</c> = the rating 1–5; <c>event_type</c> "rating"; all at <see cref="EventTime"/>, since Coat has no
/// times — read it with a run date of 2016-01-02 or later). All ratings are imported, not only the positives, so the log
/// is the data set as published; whoever trains decides what is positive (the unbiased bench keeps ratings ≥ 4).
/// The test ratings go to <see cref="TestRelativePath"/> (<c>user_id</c>, <c>item_id</c>, <c>rating</c>), whose leading
/// underscore keeps it out of the interaction log.
/// </remarks>
public static class CoatImporter
{
    public const int CoatUsers = 290, CoatItems = 300;
    public const string TestRelativePath = "_coat/test.parquet";

    /// <summary>The time of every imported event: 2016-01-01T00:00Z (one day before the documented run date 2016-01-02).</summary>
    public static readonly DateTimeOffset EventTime = new(2016, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <param name="folder">the Coat folder holding <c>train.ascii</c> and <c>test.ascii</c>.</param>
    /// <param name="outDir">the input directory to write.</param>
    /// <param name="users">expected rows of both matrices (290 for Coat; tests use small matrices).</param>
    /// <param name="items">expected columns of both matrices (300 for Coat).</param>
    /// <param name="ct">cancels the import.</param>
    public static async Task<CoatImportResult> ImportAsync(string folder, string outDir, CancellationToken ct = default,
        int users = CoatUsers, int items = CoatItems)
    {
        if (!Directory.Exists(folder)) throw new LakeInputException($"'{folder}' is not a folder (the Coat folder holds train.ascii and test.ascii).", folder);
        var train = await ReadMatrixAsync(Path.Combine(folder, "train.ascii"), users, items, ct);
        var test = await ReadMatrixAsync(Path.Combine(folder, "test.ascii"), users, items, ct);
        if (train.Users.Length == 0) throw new LakeInputException($"{Path.Combine(folder, "train.ascii")}: no ratings (every cell is 0).", Path.Combine(folder, "train.ascii"));
        long time = EventTime.ToUnixTimeMilliseconds() * 1000;
        var cols = new InteractionColumns(train.Users, null, train.Items, null, Enumerable.Repeat(time, train.Users.Length).ToArray(),
            Enumerable.Repeat("rating", train.Users.Length).ToArray(), train.Ratings.Select(r => (double)r).ToArray());
        Directory.CreateDirectory(outDir);
        int parts = await InteractionWriter.WriteByDayAsync(outDir, cols, ct);
        await WriteTestAsync(Path.Combine(outDir, TestRelativePath), test, ct);
        return new CoatImportResult(new ImportResult(train.Users.Length, parts, false), test.Users.Length, users, items);
    }

    /// <summary>The non-zero cells of a dense rating matrix file, row-major.</summary>
    public sealed record RatingCells(long[] Users, long[] Items, int[] Ratings);

    /// <summary>Reads a dense whitespace-separated matrix of ratings 0–5 (0 = not rated); errors name the file, line and column.</summary>
    public static async Task<RatingCells> ReadMatrixAsync(string file, int rows, int cols, CancellationToken ct = default)
    {
        if (!File.Exists(file)) throw new LakeInputException($"'{file}' does not exist.", file);
        var us = new List<long>(); var its = new List<long>(); var rs = new List<int>();
        int row = 0, lineNo = 0;
        using var reader = new StreamReader(file);
        string? line;
        while ((line = await reader.ReadLineAsync(ct)) is not null)
        {
            lineNo++;
            var cells = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length == 0) continue;
            if (row >= rows) throw new LakeInputException($"{file}: line {lineNo}: more than the expected {rows} rows (users); the matrix must be {rows} × {cols}.", file);
            if (cells.Length != cols)
                throw new LakeInputException($"{file}: line {lineNo}: {cells.Length} columns, expected {cols} (one per item); the matrix must be {rows} × {cols}.", file);
            for (int c = 0; c < cells.Length; c++)
            {
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new LakeInputException($"{file}: line {lineNo}, column {c + 1}: '{cells[c]}' is not a number (ratings are 0–5, 0 = not rated).", file, (c + 1).ToString(CultureInfo.InvariantCulture));
                if (v != Math.Floor(v) || v < 0 || v > 5)
                    throw new LakeInputException($"{file}: line {lineNo}, column {c + 1}: rating {cells[c]} is outside 0–5 or not whole (0 = not rated).", file, (c + 1).ToString(CultureInfo.InvariantCulture));
                if (v == 0) continue;
                us.Add(row); its.Add(c); rs.Add((int)v);
            }
            row++;
        }
        if (row != rows) throw new LakeInputException($"{file}: {row} rows (users), expected {rows}; the matrix must be {rows} × {cols}.", file);
        return new RatingCells(us.ToArray(), its.ToArray(), rs.ToArray());
    }

    private static async Task WriteTestAsync(string path, RatingCells test, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var user = new DataField<long>("user_id"); var item = new DataField<long>("item_id"); var rating = new DataField<int>("rating");
        string tmp = path + ".tmp";
        await using (var s = File.Create(tmp))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(user, item, rating), s, cancellationToken: ct))
        {
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<long>(user, test.Users, null, null, ct);
            await rg.WriteAsync<long>(item, test.Items, null, null, ct);
            await rg.WriteAsync<int>(rating, test.Ratings, null, null, ct);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads the test ratings written by <see cref="ImportAsync"/> from an input directory.</summary>
    public static async Task<RatingCells> ReadTestAsync(string inputDir, CancellationToken ct = default)
    {
        string path = Path.Combine(inputDir, TestRelativePath);
        if (!File.Exists(path)) throw new LakeInputException($"'{path}' does not exist: import Coat with 'batchrecs import coat DIR --out {inputDir}'.", path);
        await using var s = File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(s, cancellationToken: ct);
        var us = new List<long>(); var its = new List<long>(); var rs = new List<int>();
        var fields = reader.Schema.DataFields;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = (int)rg.RowCount;
            var u = new long[n]; var i = new long[n]; var r = new int[n];
            await rg.ReadAsync<long>(fields.Single(f => f.Name == "user_id"), u.AsMemory(), null, ct);
            await rg.ReadAsync<long>(fields.Single(f => f.Name == "item_id"), i.AsMemory(), null, ct);
            await rg.ReadAsync<int>(fields.Single(f => f.Name == "rating"), r.AsMemory(), null, ct);
            us.AddRange(u); its.AddRange(i); rs.AddRange(r);
        }
        return new RatingCells(us.ToArray(), its.ToArray(), rs.ToArray());
    }
}
