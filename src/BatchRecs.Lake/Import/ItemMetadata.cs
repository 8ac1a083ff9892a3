using System.Text;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Import;

/// <summary>
/// Item metadata (<c>item_id</c> INT64, <c>title</c>, <c>category</c>) as a Parquet file, by convention
/// <c>INPUT/_items/items.parquet</c> (the leading underscore keeps it out of the interaction log). Runs load it into
/// the DuckDB <c>items</c> table so analysts and <c>batchrecs recommend</c> see titles.
/// </summary>
public static class ItemMetadata
{
    public const string DefaultRelativePath = "_items/items.parquet";

    /// <summary>MovieLens <c>u.item</c> (id|title|…|19 genre flags) or <c>movies.csv</c> (movieId,title,genres) beside the ratings; null if neither.</summary>
    public static async Task<int?> ImportMovieLensAsync(string folder, string outDir, CancellationToken ct = default)
    {
        var ids = new List<long>(); var titles = new List<string>(); var cats = new List<string>();
        string uItem = Path.Combine(folder, "u.item"), movies = Path.Combine(folder, "movies.csv");
        if (File.Exists(uItem))
        {
            string[] genres = File.Exists(Path.Combine(folder, "u.genre"))
                ? File.ReadAllLines(Path.Combine(folder, "u.genre"), Encoding.Latin1).Where(l => l.Contains('|')).Select(l => l.Split('|')[0]).ToArray()
                : [];
            foreach (var line in File.ReadLines(uItem, Encoding.Latin1))
            {
                var f = line.Split('|');
                if (f.Length < 2 || !long.TryParse(f[0], out long id)) continue;
                ids.Add(id); titles.Add(f[1]);
                cats.Add(string.Join('|', f.Skip(5).Select((flag, g) => flag == "1" && g < genres.Length ? genres[g] : null).Where(x => x is not null)));
            }
        }
        else if (File.Exists(movies))
        {
            foreach (var line in File.ReadLines(movies).Skip(1))
            {
                var f = CsvLine.Split(line, ',');
                if (f.Count < 3 || !long.TryParse(f[0], out long id)) continue;
                ids.Add(id); titles.Add(f[1]); cats.Add(f[2]);
            }
        }
        else return null;
        await WriteAsync(Path.Combine(outDir, DefaultRelativePath), ids.ToArray(), titles.ToArray(), cats.ToArray(), ct);
        return ids.Count;
    }

    public static async Task WriteAsync(string path, long[] ids, string[] titles, string[] categories, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var id = new DataField<long>("item_id"); var title = new DataField<string>("title"); var cat = new DataField<string>("category");
        string tmp = path + ".tmp";
        await using (var s = File.Create(tmp))
        await using (var w = await ParquetWriter.CreateAsync(new ParquetSchema(id, title, cat), s, cancellationToken: ct))
        {
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<long>(id, ids, null, null, ct);
            await rg.WriteAsync(title, titles, null);
            await rg.WriteAsync(cat, categories, null);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
