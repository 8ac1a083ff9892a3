using BatchRecs.Engine.Settings;


namespace BatchRecs.Engine.Tests;

public class JobSettingsTests
{
    [Fact]
    public void Overrides_apply_after_the_job_file_and_defaults()
    {
        var s = JobSettings.Create(new Dictionary<string, string> { ["factors"] = "32", ["alpha"] = "5" }, ["alpha=7.5", "top_n=3"]);
        Assert.Equal(32, s.Factors);
        Assert.Equal(7.5, s.Fit.Alpha);
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

    [Fact]
    public void Every_setting_is_read_by_exactly_one_typed_property()
    {
        var read = JobSettings.Defaults().KeysRead;
        Assert.Equal(read.Count, read.Distinct().Count());
        Assert.Equal(JobSettings.Definitions.Select(d => d.Key).Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_choice_maps_to_an_enum_member_and_reads_as_it()
    {
        foreach (var d in JobSettings.Definitions.Where(d => d.Kind == SettingKind.Choice))
        {
            Assert.Equal(d.Choices!, d.ChoiceValues!.Keys);
            Assert.Equal(d.Choices!.Count, d.ChoiceValues.Values.Distinct().Count());
        }
        var s = JobSettings.Create(null, ["index=exact", "debias=ipw-rerank", "propensity=exposure", "reader=duckdb", "combine=last",
            "epoch_unit=ms", "warm_start=last_run", "checkpoints=off", "tune_metric=map", "solver=cholesky", "confidence=log", "mode=explicit"]);
        Assert.Equal(IndexKind.Exact, s.Retrieval.Index);
        Assert.Equal(DebiasMode.IpwRerank, s.Debias.Mode);
        Assert.True(s.Debias.RerankWithIpw);
        Assert.False(s.Debias.TrainWithIpw);
        Assert.Equal(PropensityModel.Exposure, s.Debias.Propensity);
        Assert.Equal(ReaderKind.DuckDb, s.Input.Reader);
        Assert.Equal(BatchRecs.Core.Data.CombineRule.Last, s.Input.Combine);
        Assert.Equal(EpochUnit.Milliseconds, s.Input.EpochUnit);
        Assert.Equal("ms", s.Input.EpochUnitSymbol);
        Assert.Equal(WarmStart.LastRun, s.Fit.WarmStart);
        Assert.Equal(CheckpointMode.Off, s.Fit.Checkpoints);
        Assert.Equal(TuneMetric.Map, s.Tuning.Metric);
        Assert.Equal("map", s.Tuning.MetricName);
        Assert.Equal(BatchRecs.Core.Als.AlsSolver.Cholesky, s.ToAls().Solver);
        Assert.Equal(BatchRecs.Core.Als.ConfidenceKind.Log, s.ToAls().Confidence);
        Assert.Equal(BatchRecs.Core.Als.AlsMode.Explicit, s.ToAls().Mode);
        foreach (var unit in new[] { "s", "ms", "us", "ns" })
            Assert.Equal(unit, JobSettings.Create(null, [$"epoch_unit={unit}"]).Input.EpochUnitSymbol);
        foreach (var metric in new[] { "ndcg", "recall", "map" })
            Assert.Equal(metric, JobSettings.Create(null, [$"tune_metric={metric}"]).Tuning.MetricName);
    }

    [Fact]
    public void Empty_text_settings_read_as_unset()
    {
        Assert.Null(JobSettings.Defaults().Input.ItemsInput);
        Assert.Equal("/x", JobSettings.Create(null, ["exposure_input=/x"]).Input.ExposureInput);
    }
}
