using BatchRecs.Core.Data;
using BatchRecs.Lake.Import;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Tests;

public class RatingImporterTests
{
    private static readonly ReadWindow Everything = new(new DateOnly(2030, 1, 1), 365 * 40);

    [Fact]
    public async Task MovieLens_u_data_becomes_daily_partitions_with_ratings_as_values()
    {
        using var dir = new TempDirectory();
        var file = dir.Sub("u.data");
        // 881250949 = 1997-12-04T15:55:49Z, 891717742 = 1998-04-05T19:22:22Z
        await File.WriteAllTextAsync(file, "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250950\n");
        var r = await RatingImporter.ImportMovieLensAsync(file, dir.Sub("out"));
        Assert.Equal(3, r.Rows);
        Assert.Equal(2, r.Partitions);
        Assert.True(File.Exists(Path.Combine(dir.Sub("out"), "dt=1997-12-04", "part-00000.parquet")));
        var log = (await InteractionReader.ReadAsync(dir.Sub("out"), Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(new long[] { 186, 196 }, log.UserIds.Int64Ids.ToArray());
        int e = Enumerable.Range(0, 3).Single(i => log.UserIds.Int64At(log.Users[i]) == 196 && log.ItemIds.Int64At(log.Items[i]) == 302);
        Assert.Equal(5f, log.Values[e]);
        Assert.Equal(881250950L * 1_000_000, log.Times[e]);
    }

    [Fact]
    public async Task Csv_with_quotes_string_ids_and_iso_times_imports()
    {
        using var dir = new TempDirectory();
        var file = dir.Sub("events.csv");
        await File.WriteAllTextAsync(file, "who;what;when;score\n\"u;1\";\"book \"\"A\"\"\";2024-05-01T10:00:00Z;4.5\nu2;b;2024-05-02T10:00:00Z;1\n");
        var r = await RatingImporter.ImportDelimitedAsync(file, dir.Sub("out"), new DelimitedLayout(';', true, "who", "what", "when", "score"));
        Assert.True(r.StringIds);
        var log = (await InteractionReader.ReadAsync(dir.Sub("out"), Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(IdKind.String, log.UserIds.Kind);
        Assert.Equal(new[] { "u2", "u;1" }, log.UserIds.StringIds.ToArray());
        Assert.Contains("book \"A\"", log.ItemIds.StringIds.ToArray());
    }

    [Fact]
    public async Task A_bad_line_is_reported_with_file_line_and_column()
    {
        using var dir = new TempDirectory();
        var file = dir.Sub("r.csv");
        await File.WriteAllTextAsync(file, "u,i,t,v\n1,2,100,5\n1,3,100,abc\n");
        var e = await Assert.ThrowsAsync<LakeInputException>(() =>
            RatingImporter.ImportDelimitedAsync(file, dir.Sub("out"), new DelimitedLayout(',', true, "u", "i", "t", "v")));
        Assert.Contains(file, e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("'v'", e.Message);
        var missing = await Assert.ThrowsAsync<LakeInputException>(() =>
            RatingImporter.ImportDelimitedAsync(file, dir.Sub("out"), new DelimitedLayout(',', true, "user", "i", "t", null)));
        Assert.Contains("'user'", missing.Message);
    }

    [Fact]
    public async Task Shared_MovieLens_100k_imports_completely()
    {
        var file = SharedData.File("ml-100k/u.data");
        if (file is null) return; // SharedData.File said why on stdout
        using var dir = new TempDirectory();
        var r = await RatingImporter.ImportMovieLensAsync(Path.GetDirectoryName(file)!, dir.Path);
        Assert.Equal(100_000, r.Rows);
        var log = (await InteractionReader.ReadAsync(dir.Path, Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(100_000, log.Count);
        Assert.Equal(943, log.UserCount);
        Assert.Equal(1682, log.ItemCount);
    }

    [Fact]
    public async Task Shared_Last_fm_play_counts_import_without_times_on_one_day()
    {
        var file = SharedData.File("hetrec2011-lastfm-2k/user_artists.dat");
        if (file is null) return;
        using var dir = new TempDirectory();
        var layout = new DelimitedLayout('\t', true, "userID", "artistID", null, "weight", "play", DefaultTime: new DateTimeOffset(2011, 5, 1, 0, 0, 0, TimeSpan.Zero));
        var r = await RatingImporter.ImportDelimitedAsync(file, dir.Path, layout);
        Assert.Equal(1, r.Partitions);
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "dt=2011-05-01")));
        var log = (await InteractionReader.ReadAsync(dir.Path, Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(92_834, log.Count);
        Assert.Equal(1_892, log.UserCount);
        Assert.Equal(17_632, log.ItemCount);
        Assert.Equal(352_698f, log.Values.Max());
    }

    [Fact]
    public async Task Shared_MovieLens_latest_small_csv_imports_completely()
    {
        var file = SharedData.File("ml-latest-small/ratings.csv");
        if (file is null) return;
        using var dir = new TempDirectory();
        var r = await RatingImporter.ImportMovieLensAsync(file, dir.Path);
        Assert.Equal(100_836, r.Rows);
        var log = (await InteractionReader.ReadAsync(dir.Path, Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(610, log.UserCount);
        Assert.Equal(9_724, log.ItemCount);
        Assert.Equal(0.5f, log.Values.Min());
    }

    [Fact]
    public async Task MovieLens_item_metadata_is_imported_beside_the_log_and_never_read_as_interactions()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.Sub("u.data"), "1\t10\t5\t881250949\n2\t20\t4\t881250949\n");
        await File.WriteAllTextAsync(dir.Sub("u.genre"), "unknown|0\nAction|1\nComedy|2\n\n");
        await File.WriteAllTextAsync(dir.Sub("u.item"), "10|Heat (1995)|01-Jan-1995||http://x|0|1|0\n20|Babe (1995)|01-Jan-1995||http://y|0|0|1\n", System.Text.Encoding.Latin1);
        var r = await RatingImporter.ImportMovieLensAsync(dir.Path, dir.Sub("out"));
        Assert.Equal(2, r.Items);
        string items = Path.Combine(dir.Sub("out"), ItemMetadata.DefaultRelativePath);
        await using (var reader = await Parquet.ParquetReader.CreateAsync(items))
        {
            using var rg = reader.OpenRowGroupReader(0);
            var cat = new string?[2];
            await rg.ReadAsync(reader.Schema.DataFields.Single(f => f.Name == "category"), cat.AsMemory());
            Assert.Equal(new[] { "Action", "Comedy" }, cat);
        }
        var log = (await InteractionReader.ReadAsync(dir.Sub("out"), Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(2, log.Count); // _items/items.parquet is not an interaction file
    }
}
