using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BatchRecs.Engine.Settings;

/// <summary>
/// Keeps <c>jobs/job.schema.json</c> equal to the code: rewrites its <c>settings</c> properties and the
/// <c>search_space</c> key list from <see cref="JobSettings.Definitions"/> (<c>batchrecs settings --write-schema</c>).
/// </summary>
public static class JobSchema
{
    public static void Update(string schemaPath)
    {
        var root = JsonNode.Parse(File.ReadAllText(schemaPath))!.AsObject();
        var settings = root["properties"]!["settings"]!.AsObject();
        var props = new JsonObject();
        foreach (var d in JobSettings.Definitions) props[d.Key] = Property(d);
        settings["properties"] = props;
        var keys = new JsonArray(JobSettings.Definitions.Select(d => (JsonNode)JsonValue.Create(d.Key)!).ToArray());
        root["properties"]!["search_space"]!["propertyNames"] = new JsonObject { ["enum"] = keys };
        File.WriteAllText(schemaPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    private static JsonObject Property(SettingDefinition d)
    {
        JsonNode Num(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15 ? JsonValue.Create((long)v) : JsonValue.Create(v);
        JsonObject Range(string type)
        {
            var o = new JsonObject { ["type"] = type };
            if (d.Min is { } min) o["minimum"] = Num(min);
            if (d.Max is { } max) o[d.MaxExclusive ? "exclusiveMaximum" : "maximum"] = Num(max);
            return o;
        }
        JsonObject p = d.Kind switch
        {
            SettingKind.Int => Range("integer"),
            SettingKind.Float => Range("number"),
            SettingKind.Choice => new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(d.Choices!.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()) },
            SettingKind.Bool => new JsonObject { ["type"] = "boolean" },
            SettingKind.IntOrAuto => new JsonObject { ["anyOf"] = new JsonArray(Range("integer"), new JsonObject { ["const"] = "auto" }) },
            _ => new JsonObject { ["type"] = "string" },
        };
        p["default"] = d.Kind switch
        {
            SettingKind.Int => JsonValue.Create(long.Parse(d.Default, CultureInfo.InvariantCulture)),
            SettingKind.Float => Num(double.Parse(d.Default, CultureInfo.InvariantCulture)),
            SettingKind.Bool => JsonValue.Create(d.Default == "true"),
            _ => JsonValue.Create(d.Default),
        };
        p["description"] = d.Description;
        return p;
    }
}
