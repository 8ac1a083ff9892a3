using BatchRecs.Core.Data;
using BatchRecs.Lake.Import;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Tests;

public class CoatImporterTests
{
    private static readonly ReadWindow Everything = new(new DateOnly(2030, 1, 1), 365 * 40);

    private static async Task<string> Folder(TempDirectory dir, string train, string test)
    {
        var folder = dir.Sub("coat");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "train.ascii"), train);
        await File.WriteAllTextAsync(Path.Combine(folder, "test.ascii"), test);
        return folder;
    }

    [Fact]
    public async Task A_small_matrix_imports_training_ratings_as_interactions_and_test_ratings_beside_them()
    {
        using var dir = new TempDirectory();
        // 3 users × 4 items; 0 = not rated. Train: 5 ratings; test: 4 ratings.
        var folder = await Folder(dir, "5 0 0 3\n0  1 0 0\n0 0 4 2\n", "0 4 0 0\n1 0 0 5\n0 0 0 3\n");
        var r = await CoatImporter.ImportAsync(folder, dir.Sub("in"), users: 3, items: 4);
        Assert.Equal(5, r.Train.Rows);
        Assert.Equal(1, r.Train.Partitions);
        Assert.Equal(4, r.TestRatings);
        Assert.True(Directory.Exists(Path.Combine(dir.Sub("in"), "dt=2016-01-01")));
        var log = (await InteractionReader.ReadAsync(dir.Sub("in"), Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(5, log.Count); // _coat/test.parquet is not read as interactions
        Assert.Equal(new long[] { 0, 1, 2 }, log.UserIds.Int64Ids.ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 3 }, log.ItemIds.Int64Ids.ToArray());
        int e = Enumerable.Range(0, log.Count).Single(i => log.UserIds.Int64At(log.Users[i]) == 2 && log.ItemIds.Int64At(log.Items[i]) == 3);
        Assert.Equal(2f, log.Values[e]);
        Assert.Equal(CoatImporter.EventTime.ToUnixTimeMilliseconds() * 1000, log.Times[e]);
        var test = await CoatImporter.ReadTestAsync(dir.Sub("in"));
        Assert.Equal(new long[] { 0, 1, 1, 2 }, test.Users);
        Assert.Equal(new long[] { 1, 0, 3, 3 }, test.Items);
        Assert.Equal(new[] { 4, 1, 5, 3 }, test.Ratings);
    }

    [Theory]
    [InlineData("1 0 0 0\n0 1 0\n0 0 1 0\n", "train.ascii", "line 2", "3 columns, expected 4")]
    [InlineData("1 0 0 0\n0 1 0 0\n", "train.ascii", "2 rows", "3 × 4")]
    [InlineData("1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n", "train.ascii", "line 4", "more than the expected 3 rows")]
    [InlineData("1 0 0 0\n0 x 0 0\n0 0 1 0\n", "train.ascii", "line 2, column 2", "'x' is not a number")]
    [InlineData("1 0 0 0\n0 1 0 0\n0 0 6 0\n", "train.ascii", "line 3, column 3", "outside 0–5")]
    [InlineData("1 0 0 0\n0 1 0 0\n0 0 -1 0\n", "train.ascii", "line 3, column 3", "outside 0–5")]
    public async Task Bad_matrices_are_reported_with_file_line_and_column(string train, string file, string where, string what)
    {
        using var dir = new TempDirectory();
        var folder = await Folder(dir, train, "0 1 0 0\n0 0 0 0\n1 0 0 0\n");
        var e = await Assert.ThrowsAsync<LakeInputException>(() => CoatImporter.ImportAsync(folder, dir.Sub("in"), users: 3, items: 4));
        Assert.Contains(Path.Combine(folder, file), e.Message);
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public async Task A_bad_test_matrix_names_test_ascii_and_a_missing_folder_says_so()
    {
        using var dir = new TempDirectory();
        var folder = await Folder(dir, "1 0\n0 1\n", "0 1\n0 7\n");
        var e = await Assert.ThrowsAsync<LakeInputException>(() => CoatImporter.ImportAsync(folder, dir.Sub("in"), users: 2, items: 2));
        Assert.Contains(Path.Combine(folder, "test.ascii"), e.Message);
        Assert.Contains("line 2, column 2", e.Message);
        var missing = await Assert.ThrowsAsync<LakeInputException>(() => CoatImporter.ImportAsync(dir.Sub("nope"), dir.Sub("in")));
        Assert.Contains("train.ascii and test.ascii", missing.Message);
    }

    [Fact]
    public async Task Shared_Coat_imports_completely()
    {
        var file = SharedData.File("coat/train.ascii");
        if (file is null) { Console.WriteLine("coat/train.ascii is not in the shared data folder: the Coat import check does not run here."); return; }
        using var dir = new TempDirectory();
        var r = await CoatImporter.ImportAsync(Path.GetDirectoryName(file)!, dir.Path);
        Assert.Equal(6_960, r.Train.Rows);
        Assert.Equal(4_640, r.TestRatings);
        var log = (await InteractionReader.ReadAsync(dir.Path, Everything, new EventRules())).Events.ToInteractionLog();
        Assert.Equal(6_960, log.Count);
        Assert.Equal(290, log.UserCount);
        Assert.Equal(300, log.ItemCount);
        Assert.Equal(1_905, log.Values.Count(v => v >= 4));
        var test = await CoatImporter.ReadTestAsync(dir.Path);
        Assert.Equal(290, test.Users.Distinct().Count());
        Assert.Equal(860, test.Ratings.Count(v => v >= 4));
    }
}
