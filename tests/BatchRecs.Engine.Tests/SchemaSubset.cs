using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// A JSON Schema validator for the keywords jobs/job.schema.json uses, so the tests can check job files against it
/// without a schema package. A keyword it does not know is an error, never silently ignored: a schema edit that uses
/// more of JSON Schema must extend this class (or bring in a full validator).
/// </summary>
public static class SchemaSubset
{
    private static readonly HashSet<string> Annotations = ["$schema", "$id", "$comment", "title", "description", "default", "examples", "markdownDescription"];

    /// <summary>Every violation as "/json/pointer: what is wrong"; empty when <paramref name="value"/> conforms.</summary>
    public static List<string> Errors(JsonNode schema, JsonNode? value)
    {
        var errors = new List<string>();
        Check(schema.AsObject(), value, "", errors);
        return errors;
    }

    private static void Check(JsonObject s, JsonNode? v, string path, List<string> errors)
    {
        void Fail(string why) => errors.Add($"{path}: {why}");
        foreach (var (keyword, arg) in s)
        {
            switch (keyword)
            {
                case var a when Annotations.Contains(a): break;
                case "type":
                    var types = arg is JsonArray arr ? arr.Select(t => (string)t!).ToList() : [(string)arg!];
                    if (!types.Any(t => IsType(v, t))) Fail($"expected {string.Join(" or ", types)}, got {Kind(v)}");
                    break;
                case "enum":
                    if (!arg!.AsArray().Any(e => JsonNode.DeepEquals(e, v))) Fail($"{v?.ToJsonString()} is not one of {arg.ToJsonString()}");
                    break;
                case "const":
                    if (!JsonNode.DeepEquals(arg, v)) Fail($"expected {arg!.ToJsonString()}");
                    break;
                case "minimum":
                    if (Number(v) is { } n1 && n1 < Number(arg)) Fail($"{n1} is below the minimum {arg}");
                    break;
                case "maximum":
                    if (Number(v) is { } n2 && n2 > Number(arg)) Fail($"{n2} is above the maximum {arg}");
                    break;
                case "exclusiveMaximum":
                    if (Number(v) is { } n3 && n3 >= Number(arg)) Fail($"{n3} must be below {arg}");
                    break;
                case "pattern":
                    if (v is JsonValue sv && sv.GetValueKind() == JsonValueKind.String && !Regex.IsMatch((string)sv!, (string)arg!)) Fail($"does not match {arg}");
                    break;
                case "minLength":
                    if (v is JsonValue lv && lv.GetValueKind() == JsonValueKind.String && ((string)lv!).Length < (int)arg!) Fail($"shorter than {arg}");
                    break;
                case "minItems":
                    if (v is JsonArray items && items.Count < (int)arg!) Fail($"fewer than {arg} items");
                    break;
                case "items":
                    if (v is JsonArray list) for (int i = 0; i < list.Count; i++) Check(arg!.AsObject(), list[i], $"{path}/{i}", errors);
                    break;
                case "required":
                    if (v is JsonObject ro) foreach (var r in arg!.AsArray()) if (!ro.ContainsKey((string)r!)) Fail($"'{r}' is required");
                    break;
                case "properties":
                    if (v is JsonObject po) foreach (var (k, pv) in po) if (arg!.AsObject()[k] is JsonObject ps) Check(ps, pv, $"{path}/{k}", errors);
                    break;
                case "additionalProperties":
                    if (v is JsonObject ao)
                    {
                        var known = s["properties"]?.AsObject();
                        foreach (var (k, av) in ao)
                        {
                            if (known?.ContainsKey(k) == true) continue;
                            if (arg is JsonObject extra) Check(extra, av, $"{path}/{k}", errors);
                            else if (arg is JsonValue b && !(bool)b) errors.Add($"{path}/{k}: unknown key '{k}'");
                        }
                    }
                    break;
                case "propertyNames":
                    if (v is JsonObject no) foreach (var (k, _) in no) Check(arg!.AsObject(), JsonValue.Create(k), $"{path}/{k}", errors);
                    break;
                case "anyOf":
                    var branches = arg!.AsArray().Select(b => { var e = new List<string>(); Check(b!.AsObject(), v, path, e); return e; }).ToList();
                    if (branches.All(b => b.Count > 0)) Fail($"matches none of the alternatives: {string.Join(" | ", branches.Select(b => string.Join("; ", b)))}");
                    break;
                default:
                    throw new NotSupportedException($"{path}: keyword '{keyword}' is not supported by {nameof(SchemaSubset)}; extend it or keep the schema to its subset.");
            }
        }
    }

    // Through the JSON text: a node built in memory from an int does not convert to double directly.
    private static double? Number(JsonNode? v) =>
        v is JsonValue n && n.GetValueKind() == JsonValueKind.Number ? double.Parse(n.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : null;

    private static string Kind(JsonNode? v) => v switch { null => "null", JsonObject => "object", JsonArray => "array", _ => v.GetValueKind().ToString().ToLowerInvariant() };

    private static bool IsType(JsonNode? v, string type) => type switch
    {
        "object" => v is JsonObject,
        "array" => v is JsonArray,
        "string" => v is JsonValue s && s.GetValueKind() == JsonValueKind.String,
        "boolean" => v is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "number" => Number(v) is not null,
        "integer" => Number(v) is { } d && Math.Floor(d) == d,
        "null" => v is null,
        _ => throw new NotSupportedException($"type '{type}'"),
    };
}
