using System.Text.Json;
using System.Text.Json.Serialization;

namespace BatchRecs.Lake.Tuning;

/// <summary>A tuning's outcome for a job: the settings it found, how they scored against the current ones, and whether they were adopted.</summary>
public sealed record TunedSettings(
    [property: JsonPropertyName("tuning_id")] string TuningId,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("created_utc")] DateTime CreatedUtc,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("settings")] IReadOnlyDictionary<string, string> Settings,
    [property: JsonPropertyName("tuned_value")] double TunedValue,
    [property: JsonPropertyName("current_value")] double CurrentValue,
    [property: JsonPropertyName("adopted")] bool Adopted,
    [property: JsonPropertyName("trials")] int Trials,
    [property: JsonPropertyName("cost_in_fits")] double CostInFits);

/// <summary>
/// Tuned settings in the lake: <c>LAKE/tuning/JOB/latest.json</c> (the last tuning, adopted or not) and
/// <c>LAKE/tuning/JOB/adopted.json</c> (the last adopted one, which runs use). Written by rename, so a run reads
/// either the old or the new file.
/// </summary>
public static class TunedSettingsStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private static string Dir(string lakeDir, string job) => Path.Combine(lakeDir, "tuning", job);

    public static void Save(string lakeDir, TunedSettings tuned)
    {
        Directory.CreateDirectory(Dir(lakeDir, tuned.Job));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(tuned, Json);
        Output.AtomicRename.WriteFile(Path.Combine(Dir(lakeDir, tuned.Job), "latest.json"), bytes);
        if (tuned.Adopted) Output.AtomicRename.WriteFile(Path.Combine(Dir(lakeDir, tuned.Job), "adopted.json"), bytes);
    }

    /// <summary>The job's last adopted tuning, or null.</summary>
    public static TunedSettings? LoadAdopted(string lakeDir, string job)
    {
        string path = Path.Combine(Dir(lakeDir, job), "adopted.json");
        return File.Exists(path) ? JsonSerializer.Deserialize<TunedSettings>(File.ReadAllBytes(path), Json) : null;
    }
}
