using System.Text.Json;
using System.Text.Json.Serialization;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Output;

/// <summary>
/// <c>manifest.json</c>, written last into each published partition: what the run produced (files with row counts
/// and SHA-256), its schema, the settings and metrics, and exactly which input files went in.
/// </summary>
public sealed record RunManifest(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("run_date")] string RunDate,
    [property: JsonPropertyName("created_utc")] DateTime CreatedUtc,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("schema")] IReadOnlyList<ManifestColumn> Schema,
    [property: JsonPropertyName("files")] IReadOnlyList<PartFile> Files,
    [property: JsonPropertyName("settings")] IReadOnlyDictionary<string, string> Settings,
    [property: JsonPropertyName("metrics")] IReadOnlyDictionary<string, double> Metrics,
    [property: JsonPropertyName("inputs")] IReadOnlyList<InputFileInfo> Inputs,
    [property: JsonPropertyName("skipped_inputs")] IReadOnlyList<SkippedFile> SkippedInputs)
{
    public const string FileName = "manifest.json";
    public const string SuccessMarker = "_SUCCESS";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static RunManifest Read(string path) =>
        JsonSerializer.Deserialize<RunManifest>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"{path}: empty manifest.");
}

public sealed record ManifestColumn(string Name, string Type);
