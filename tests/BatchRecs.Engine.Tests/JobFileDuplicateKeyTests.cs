using BatchRecs.Engine.Settings;

namespace BatchRecs.Engine.Tests;

/// <summary>A key written twice in a job file is refused: JSON readers keep one of the two silently, and which one is not what the author meant.</summary>
public sealed class JobFileDuplicateKeyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("""{ "settings": { "factors": 16, "alpha": 2, "factors": 64 } }""", "settings.factors")]
    [InlineData("""{ "lake": "/srv/lake-a", "input": "in", "lake": "/srv/lake-b" }""", "lake")]
    [InlineData("""{ "event_weights": { "view": 1, "view": 5 } }""", "event_weights.view")]
    [InlineData("""{ "search_space": { "factors": { "values": [16, 32] }, "factors": { "values": [64] } } }""", "search_space.factors")]
    [InlineData("""{ "search_space": { "alpha": { "values": [1, 2], "values": [4] } } }""", "search_space.alpha.values")]
    public void A_key_written_twice_is_an_error_naming_the_file_and_the_key(string json, string key)
    {
        string file = _dir.Sub("twice.json");
        File.WriteAllText(file, json);
        var e = Assert.Throws<SettingsException>(() => JobDefinition.Load(file));
        Assert.Equal(key, e.Key);
        Assert.Contains(file, e.Message);
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void The_same_name_in_different_objects_is_no_duplicate()
    {
        // "factors" as a setting and as a search-space axis are two keys.
        string file = _dir.Sub("fine.json");
        File.WriteAllText(file, """{ "settings": { "factors": 16 }, "search_space": { "factors": { "values": [16, 32] } } }""");
        Assert.Equal(16, JobDefinition.Load(file).ResolveSettings([]).Factors);
    }
}
