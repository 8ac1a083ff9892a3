using System.CommandLine;
using BatchRecs.Core.Data;
using BatchRecs.Core.Errors;
using BatchRecs.Lake.Import;
using BatchRecs.Lake.Input;

namespace BatchRecs.Bench;

/// <summary>
/// The public rating data sets the quality and tuning benches read from <c>--shared</c> (default <c>../shared/data</c>):
/// MovieLens 100k and latest-small, and Last.fm (hetrec2011-lastfm-2k), through the job's own importer and reader.
/// </summary>
internal static class PublicDataSets
{
    /// <summary>The <c>--data</c> option of the benches that read a public data set.</summary>
    public static Option<string> DataOption() =>
        new("--data") { Description = "ml-100k, ml-latest-small or lastfm (read from --shared)", Required = true };

    /// <summary>The <c>--shared</c> option: the folder of the public data sets.</summary>
    public static Option<string> SharedOption() =>
        new("--shared") { Description = "folder of the public data sets", DefaultValueFactory = _ => Path.Combine("..", "shared", "data") };

    /// <summary>Imports a public data set into the Parquet input contract (Last.fm, which has no times, on 2011-05-01).</summary>
    public static Task ImportAsync(string name, string sharedDir, string outDir, CancellationToken ct) => name switch
    {
        "ml-100k" or "ml-latest-small" => RatingImporter.ImportMovieLensAsync(Path.Combine(sharedDir, name), outDir, ct),
        "lastfm" => RatingImporter.ImportDelimitedAsync(Path.Combine(sharedDir, "hetrec2011-lastfm-2k", "user_artists.dat"), outDir,
            new DelimitedLayout('\t', true, "userID", "artistID", null, "weight", "play", DefaultTime: new DateTimeOffset(2011, 5, 1, 0, 0, 0, TimeSpan.Zero)), ct),
        _ => throw new BadInputException($"unknown data set '{name}' (ml-100k, ml-latest-small, lastfm)."),
    };

    /// <summary>Loads a public data set through the importer and reader (the job's own input path) as pairs.</summary>
    public static async Task<InteractionLog> LoadAsync(string name, string sharedDir, CancellationToken ct)
    {
        string tmp = Path.Combine(Path.GetTempPath(), $"batchrecs-data-{name}-{Guid.NewGuid():N}");
        try
        {
            await ImportAsync(name, sharedDir, tmp, ct);
            var read = await InteractionReader.ReadAsync(tmp, new ReadWindow(new DateOnly(2100, 1, 1), 365 * 200), new EventRules(), ct);
            var pairs = PairAggregator.Combine(read.Events, CombineRule.Max);
            if (name.StartsWith("ml-", StringComparison.Ordinal))
            {
                // Ratings ≥ 4 are the positives (strength 1); the rest are dropped.
                var keep = pairs.Values.Select(v => v >= 4f).ToArray();
                var pos = pairs.Where(keep);
                Array.Fill(pos.Values, 1f);
                return pos;
            }
            return pairs;
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }
}
