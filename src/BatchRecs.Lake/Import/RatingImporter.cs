using System.Globalization;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Import;

/// <summary>Where the columns of a delimited rating file are, and how to read it.</summary>
/// <param name="TimeColumn">epoch seconds, or an ISO-8601 date/time; null when the file has no time (all events at <see cref="DefaultTime"/>).</param>
/// <param name="Separator">the field separator.</param>
/// <param name="HasHeader">the first line names the columns; without one, columns are given by 0-based position.</param>
/// <param name="UserColumn">the user id column (name, or position without a header).</param>
/// <param name="ItemColumn">the item id column (name, or position without a header).</param>
/// <param name="ValueColumn">the strength column (e.g. a rating), or null for none.</param>
/// <param name="EventType">the <c>event_type</c> written for every row.</param>
/// <param name="MultiCharSeparator">a separator of more than one character (e.g. <c>::</c>), used instead of <paramref name="Separator"/> when not empty.</param>
/// <param name="DefaultTime">the time of every event when there is no time column (null: 2000-01-01 UTC).</param>
public sealed record DelimitedLayout(char Separator, bool HasHeader, string UserColumn, string ItemColumn, string? TimeColumn,
    string? ValueColumn, string EventType = "rating", string MultiCharSeparator = "", DateTimeOffset? DefaultTime = null);

/// <summary>Summary of an import.</summary>
public sealed record ImportResult(long Rows, int Partitions, bool StringIds, int? Items = null);

/// <summary>
/// Turns public rating files (MovieLens <c>u.data</c>, <c>ratings.csv</c>, <c>ratings.dat</c>; any delimited file)
/// into the Parquet input contract, partitioned by day. Errors name the file, the line and the column.
/// </summary>
public static class RatingImporter
{
    public static Task<ImportResult> ImportMovieLensAsync(string path, string outDir, CancellationToken ct = default)
    {
        string file = path;
        if (Directory.Exists(path))
        {
            file = new[] { "ratings.csv", "ratings.dat", "u.data" }.Select(f => Path.Combine(path, f)).FirstOrDefault(File.Exists)
                ?? throw new LakeInputException($"'{path}' holds none of u.data, ratings.csv or ratings.dat.", path);
        }
        var name = Path.GetFileName(file);
        DelimitedLayout layout = name switch
        {
            "u.data" => new('\t', false, "0", "1", "3", "2"),
            "ratings.dat" => new(':', false, "0", "1", "3", "2", MultiCharSeparator: "::"),
            _ when name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) => new(',', true, "userId", "movieId", "timestamp", "rating"),
            _ => throw new LakeInputException($"'{file}' is not a MovieLens ratings file (u.data, ratings.csv or ratings.dat).", file),
        };
        return ImportWithItemsAsync(file, outDir, layout, ct);
    }

    private static async Task<ImportResult> ImportWithItemsAsync(string file, string outDir, DelimitedLayout layout, CancellationToken ct)
    {
        var result = await ImportDelimitedAsync(file, outDir, layout, ct);
        var items = await ItemMetadata.ImportMovieLensAsync(Path.GetDirectoryName(Path.GetFullPath(file))!, outDir, ct);
        return result with { Items = items };
    }

    public static async Task<ImportResult> ImportDelimitedAsync(string file, string outDir, DelimitedLayout layout, CancellationToken ct = default)
    {
        if (!File.Exists(file)) throw new LakeInputException($"'{file}' does not exist.", file);
        using var reader = new StreamReader(file);
        string? line;
        int lineNo = 0;
        int userIx, itemIx, timeIx = -1, valueIx = -1;
        if (layout.HasHeader)
        {
            line = await reader.ReadLineAsync(ct) ?? throw new LakeInputException($"{file}: the file is empty.", file);
            lineNo++;
            var header = Split(line.TrimEnd('\r'), layout).Select(h => h.Trim()).ToList();
            int Find(string col) => header.IndexOf(col) is int i and >= 0 ? i
                : throw new LakeInputException($"{file}: column '{col}' is not in the header ({string.Join(", ", header)}).", file, col);
            userIx = Find(layout.UserColumn); itemIx = Find(layout.ItemColumn);
            if (layout.TimeColumn is not null) timeIx = Find(layout.TimeColumn);
            if (layout.ValueColumn is not null) valueIx = Find(layout.ValueColumn);
        }
        else
        {
            userIx = int.Parse(layout.UserColumn, CultureInfo.InvariantCulture); itemIx = int.Parse(layout.ItemColumn, CultureInfo.InvariantCulture);
            if (layout.TimeColumn is not null) timeIx = int.Parse(layout.TimeColumn, CultureInfo.InvariantCulture);
            if (layout.ValueColumn is not null) valueIx = int.Parse(layout.ValueColumn, CultureInfo.InvariantCulture);
        }
        var users = new List<string>(); var items = new List<string>(); var times = new List<long>(); var values = new List<double>();
        long defaultTime = (layout.DefaultTime ?? new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToUnixTimeMilliseconds() * 1000;
        while ((line = await reader.ReadLineAsync(ct)) is not null)
        {
            lineNo++;
            line = line.TrimEnd('\r');
            if (line.Length == 0) continue;
            List<string> f;
            try { f = Split(line, layout); }
            catch (FormatException e) { throw new LakeInputException($"{file}: line {lineNo}: {e.Message}.", file); }
            string Field(int ix, string what) => ix < f.Count ? f[ix].Trim()
                : throw new LakeInputException($"{file}: line {lineNo}: column '{what}' (field {ix + 1}) is missing; the line has {f.Count} fields.", file, what);
            var u = Field(userIx, layout.UserColumn); var it = Field(itemIx, layout.ItemColumn);
            if (u.Length == 0) throw new LakeInputException($"{file}: line {lineNo}: column '{layout.UserColumn}' is empty.", file, layout.UserColumn);
            if (it.Length == 0) throw new LakeInputException($"{file}: line {lineNo}: column '{layout.ItemColumn}' is empty.", file, layout.ItemColumn);
            users.Add(u); items.Add(it);
            times.Add(timeIx < 0 ? defaultTime : ParseTime(Field(timeIx, layout.TimeColumn!), file, lineNo, layout.TimeColumn!));
            if (valueIx >= 0)
            {
                var s = Field(valueIx, layout.ValueColumn!);
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new LakeInputException($"{file}: line {lineNo}: column '{layout.ValueColumn}' value '{s}' is not a finite number.", file, layout.ValueColumn);
                values.Add(v);
            }
        }
        if (users.Count == 0) throw new LakeInputException($"{file}: no data rows.", file);
        var userLongs = TryLongs(users); var itemLongs = TryLongs(items);
        var cols = new InteractionColumns(userLongs, userLongs is null ? users.ToArray() : null, itemLongs, itemLongs is null ? items.ToArray() : null,
            times.ToArray(), Enumerable.Repeat(layout.EventType, users.Count).ToArray(), valueIx >= 0 ? values.ToArray() : null);
        Directory.CreateDirectory(outDir);
        int parts = await InteractionWriter.WriteByDayAsync(outDir, cols, ct);
        return new ImportResult(users.Count, parts, userLongs is null || itemLongs is null);
    }

    private static List<string> Split(string line, DelimitedLayout layout) =>
        layout.MultiCharSeparator.Length > 0 ? line.Split(layout.MultiCharSeparator).ToList() : CsvLine.Split(line, layout.Separator);

    private static long[]? TryLongs(List<string> ids)
    {
        var result = new long[ids.Count];
        for (int i = 0; i < ids.Count; i++)
            if (!long.TryParse(ids[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result[i])) return null;
        return result;
    }

    private static long ParseTime(string s, string file, int line, string column)
    {
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long epoch)) return epoch * 1_000_000;
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto))
            return dto.ToUnixTimeMilliseconds() * 1000;
        throw new LakeInputException($"{file}: line {line}: column '{column}' value '{s}' is neither epoch seconds nor an ISO-8601 date/time.", file, column);
    }
}
