using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// jobs/job.schema.json against the code that loads job files: the schema's keys, types, ranges, enums, defaults
/// and descriptions are those of <see cref="JobDefinition.TopLevelKeys"/> and <see cref="JobSettings.Definitions"/>,
/// so the schema an editor validates with cannot drift from what a run accepts. The job files (jobs/, and
/// infra/compose/jobs/ for docker-compose.yml) point at the schema and conform to it.
/// </summary>
public class JobSchemaTests
{
    private static readonly string Root = FindRoot();
    private static readonly string SchemaPath = Path.Combine(Root, "jobs", "job.schema.json");
    private static JsonObject Schema => JsonNode.Parse(File.ReadAllText(SchemaPath))!.AsObject();
    private static JsonObject SettingsSchema => Schema["properties"]!["settings"]!["properties"]!.AsObject();

    [Fact]
    public void Top_level_properties_are_the_keys_a_job_file_may_hold()
    {
        Assert.Equal(JobDefinition.TopLevelKeys.Order(StringComparer.Ordinal), Schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.False((bool)Schema["additionalProperties"]!, "unknown top-level keys are errors in JobDefinition.Load, so the schema must reject them too");
    }

    [Fact]
    public void Settings_properties_equal_the_setting_definitions()
    {
        var inSchema = SettingsSchema.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var inCode = JobSettings.Definitions.Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        Assert.True(inSchema.SetEquals(inCode),
            $"settings in the code but not in {SchemaPath}: [{string.Join(", ", inCode.Except(inSchema))}]; in the schema but not in the code: [{string.Join(", ", inSchema.Except(inCode))}]");
        Assert.False((bool)Schema["properties"]!["settings"]!["additionalProperties"]!);
        foreach (var d in JobSettings.Definitions)
        {
            var expected = Expected(d);
            Assert.True(JsonNode.DeepEquals(expected, SettingsSchema[d.Key]),
                $"settings.{d.Key} in {SchemaPath} differs from JobSettings.Definitions; it should read:\n\"{d.Key}\": {expected.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
        }
    }

    [Fact]
    public void Choice_enums_match_the_choice_definitions()
    {
        foreach (var d in JobSettings.Definitions.Where(d => d.Kind == SettingKind.Choice))
        {
            var values = SettingsSchema[d.Key]!["enum"]!.AsArray().Select(v => (string)v!).ToList();
            Assert.Equal(d.Choices!, values);
            foreach (var v in values) Assert.Equal(v, d.Parse(v)); // every enum value is accepted by the code
            Assert.Contains(d.Default, values);
        }
        Assert.True(JobSettings.Definitions.Count(d => d.Kind == SettingKind.Choice) >= 10);
    }

    [Fact]
    public void Search_space_keys_are_the_settings()
    {
        var names = Schema["properties"]!["search_space"]!["propertyNames"]!["enum"]!.AsArray().Select(v => (string)v!);
        Assert.Equal(JobSettings.Definitions.Select(d => d.Key), names);
    }

    [Fact]
    public void The_job_files_point_at_the_schema_and_conform_to_it()
    {
        // jobs/ and the job files docker-compose.yml mounts.
        var files = new[] { "jobs", Path.Combine("infra", "compose", "jobs") }
            .SelectMany(d => Directory.GetFiles(Path.Combine(Root, d), "*.json"))
            .Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).ToList();
        Assert.True(files.Count >= 2);
        foreach (var f in files)
        {
            var job = JsonNode.Parse(File.ReadAllText(f), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
            string schemaRef = (string?)job["$schema"] ?? throw new Xunit.Sdk.XunitException($"{f} has no \"$schema\".");
            Assert.Equal(SchemaPath, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(f)!, schemaRef)));
            Assert.Empty(SchemaSubset.Errors(Schema, job));
            JobDefinition.Load(f);
        }
    }

    [Theory]
    [InlineData("""{ "settings": { "factor": 8 } }""", "/settings/factor")]
    [InlineData("""{ "settings": { "factors": 0 } }""", "/settings/factors")]
    [InlineData("""{ "settings": { "factors": 2.5 } }""", "/settings/factors")]
    [InlineData("""{ "settings": { "holdout_fraction": 1 } }""", "/settings/holdout_fraction")]
    [InlineData("""{ "settings": { "solver": "lu" } }""", "/settings/solver")]
    [InlineData("""{ "settings": { "user_blocks": "many" } }""", "/settings/user_blocks")]
    [InlineData("""{ "settings": { "quality_gate": "yes" } }""", "/settings/quality_gate")]
    [InlineData("""{ "event_weights": { "view": -1 } }""", "/event_weights/view")]
    [InlineData("""{ "name": "has space" }""", "/name")]
    [InlineData("""{ "shedule": "0 2 * * *" }""", "/shedule")]
    [InlineData("""{ "search_space": { "alpha": { "min": 1 } } }""", "/search_space/alpha")]
    [InlineData("""{ "search_space": { "alfa": { "values": [1, 2] } } }""", "/search_space/alfa")]
    public void The_schema_rejects_what_the_loader_rejects(string json, string path)
    {
        var errors = SchemaSubset.Errors(Schema, JsonNode.Parse(json)!);
        Assert.Contains(errors, e => e.StartsWith(path + ":", StringComparison.Ordinal));

        using var dir = new TempDirectory();
        File.WriteAllText(dir.Sub("job.json"), json);
        Assert.Throws<SettingsException>(() => JobDefinition.Load(dir.Sub("job.json")));
    }

    [Fact]
    public void The_schema_accepts_every_default_and_auto()
    {
        var settings = new JsonObject();
        foreach (var d in JobSettings.Definitions) settings[d.Key] = Typed(d, d.Default);
        settings["user_blocks"] = 4;
        var job = new JsonObject { ["name"] = "all-defaults", ["settings"] = settings, ["event_weights"] = new JsonObject { ["view"] = 1, ["purchase"] = 5.5 },
            ["search_space"] = new JsonObject { ["alpha"] = new JsonObject { ["min"] = 0.1, ["max"] = 100, ["scale"] = "log" }, ["factors"] = new JsonObject { ["values"] = new JsonArray(32, 64) } } };
        Assert.Empty(SchemaSubset.Errors(Schema, job));
    }

    /// <summary>The schema of one setting, as the code defines it.</summary>
    private static JsonObject Expected(SettingDefinition d)
    {
        var o = new JsonObject();
        switch (d.Kind)
        {
            case SettingKind.Int:
                o["type"] = "integer"; o["minimum"] = Number(d.Min!.Value); o["maximum"] = Number(d.Max!.Value); break;
            case SettingKind.Float:
                o["type"] = "number"; o["minimum"] = Number(d.Min!.Value); o[d.MaxExclusive ? "exclusiveMaximum" : "maximum"] = Number(d.Max!.Value); break;
            case SettingKind.Choice:
                o["type"] = "string"; o["enum"] = new JsonArray(d.Choices!.Select(c => (JsonNode)c).ToArray()); break;
            case SettingKind.Bool:
                o["type"] = "boolean"; break;
            case SettingKind.Text:
                o["type"] = "string"; break;
            case SettingKind.IntOrAuto:
                o["anyOf"] = new JsonArray(
                    new JsonObject { ["type"] = "integer", ["minimum"] = Number(d.Min!.Value), ["maximum"] = Number(d.Max!.Value) },
                    new JsonObject { ["const"] = "auto" });
                break;
            default: throw new InvalidOperationException($"no schema for {d.Kind}");
        }
        o["default"] = Typed(d, d.Default);
        o["description"] = d.Description;
        return o;
    }

    private static JsonNode? Typed(SettingDefinition d, string value) => d.Kind switch
    {
        SettingKind.Int => int.Parse(value, CultureInfo.InvariantCulture),
        SettingKind.Float => Number(double.Parse(value, CultureInfo.InvariantCulture)),
        SettingKind.Bool => value == "true",
        _ => value,
    };

    private static JsonNode Number(double v) => Math.Floor(v) == v && Math.Abs(v) < 1e15 ? JsonValue.Create((long)v) : JsonValue.Create(v);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "BatchRecs.sln"))) return d.FullName;
        throw new InvalidOperationException("BatchRecs.sln not found above the test binaries.");
    }
}
