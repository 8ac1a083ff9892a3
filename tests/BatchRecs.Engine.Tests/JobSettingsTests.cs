using BatchRecs.Engine.Settings;


namespace BatchRecs.Engine.Tests;

public class JobSettingsTests
{
    [Fact]
    public void Overrides_apply_after_the_job_file_and_defaults()
    {
        var s = JobSettings.Create(new Dictionary<string, string> { ["factors"] = "32", ["alpha"] = "5" }, ["alpha=7.5", "top_n=3"]);
        Assert.Equal(32, s.Factors);
        Assert.Equal(7.5, s.GetDouble("alpha"));
        Assert.Equal(3, s.TopN);
        Assert.Equal(15, s.Iterations);
        Assert.Equal(32, s.ToAls().Factors);
        Assert.Equal(7.5f, s.ToAls().Alpha);
    }

    [Theory]
    [InlineData("factors=0", "factors")]
    [InlineData("factors=abc", "factors")]
    [InlineData("regularization=-1", "regularization")]
    [InlineData("alpha=NaN", "alpha")]
    [InlineData("holdout_fraction=1", "holdout_fraction")]
    [InlineData("solver=lu", "solver")]
    [InlineData("event_weights.view=-2", "event_weights.view")]
    [InlineData("iterationz=3", "iterationz")]
    public void Bad_values_and_unknown_keys_name_the_key(string setting, string key)
    {
        var e = Assert.Throws<SettingsException>(() => JobSettings.Create(null, [setting]));
        Assert.Equal(key, e.Key);
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void Job_files_are_validated_on_load()
    {
        using var dir = new TempDirectory();
        var good = dir.Sub("good.json");
        File.WriteAllText(good, """{ "name": "n1", "timeZone": "Europe/Berlin", "settings": { "factors": 16, "solver": "cholesky" }, "event_weights": { "buy": 4 } }""");
        var job = JobDefinition.Load(good);
        Assert.Equal("n1", job.Name);
        var s = job.ResolveSettings(["factors=8"]);
        Assert.Equal(8, s.Factors);
        Assert.Equal(4f, s.EventWeights["buy"]);

        var bad = dir.Sub("bad.json");
        File.WriteAllText(bad, """{ "settings": { "lookback": 3 } }""");
        var e = Assert.Throws<SettingsException>(() => JobDefinition.Load(bad));
        Assert.Equal("lookback", e.Key);
        Assert.Contains("job file", e.Message);

        var zone = dir.Sub("zone.json");
        File.WriteAllText(zone, """{ "timeZone": "Mars/Olympus" }""");
        Assert.Equal("timeZone", Assert.Throws<SettingsException>(() => JobDefinition.Load(zone)).Key);
    }

    [Fact]
    public void The_shipped_job_file_is_valid()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BatchRecs.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        foreach (var f in Directory.GetFiles(Path.Combine(dir!.FullName, "jobs"), "*.json").Where(f => !f.EndsWith(".schema.json")))
            JobDefinition.Load(f);
    }

    [Fact]
    public void The_readme_documents_every_setting()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BatchRecs.sln"))) dir = dir.Parent;
        var readme = File.ReadAllText(Path.Combine(dir!.FullName, "README.md"));
        Assert.All(JobSettings.Definitions, d => Assert.Contains($"| `{d.Key}` | {d.Default} |", readme));
    }
}
