using System.Text.Json;

namespace BatchRecs.Engine.Settings;

/// <summary>
/// A job file (<c>jobs/*.json</c>): its name, schedule and settings.
/// <code>
/// { "name": "nightly", "schedule": "30 2 * * *", "timeZone": "UTC", "input": "/lake/interactions", "lake": "/lake",
///   "settings": { "factors": 64, "alpha": 2 }, "event_weights": { "view": 1, "purchase": 5 } }
/// </code>
/// <c>input</c> and <c>lake</c> (relative to the job file's folder) are what the scheduler runs the job on;
/// <c>batchrecs run --input/--lake</c> override them.
/// </summary>
public sealed record JobDefinition(string Name, string? Schedule, string TimeZone, IReadOnlyDictionary<string, string> Settings,
    IReadOnlyDictionary<string, float> EventWeights, string? Path, string? Input = null, string? Lake = null,
    Core.Tuning.SearchSpace? SearchSpace = null, string? TuneSchedule = null)
{
    /// <summary>The keys a job file may hold (jobs/job.schema.json lists the same; a test keeps the two equal).</summary>
    public static IReadOnlyList<string> TopLevelKeys { get; } = ["name", "description", "schedule", "timeZone", "input", "lake", "settings", "event_weights", "search_space", "tune_schedule", "$schema"];

    public static JobDefinition Default { get; } = new("default", null, "UTC", new Dictionary<string, string>(), new Dictionary<string, float>(), null);

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    public JobSettings ResolveSettings(IEnumerable<string> overrides) => JobSettings.Create(Settings, overrides, EventWeights);

    /// <summary>Settings for a run on <paramref name="lakeDir"/>: the job's last adopted tuning applies (between the file and --set).</summary>
    public JobSettings ResolveSettings(IEnumerable<string> overrides, string lakeDir) =>
        BatchRecs.Lake.Tuning.TunedSettingsStore.LoadAdopted(lakeDir, Name) is { } t
            ? JobSettings.Create(Settings, overrides, EventWeights, (t.TuningId, t.Settings))
            : ResolveSettings(overrides);

    public static JobDefinition Load(string path)
    {
        if (!File.Exists(path)) throw new SettingsException("job", $"job file '{path}' does not exist.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new SettingsException("job", $"job file '{path}' is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new SettingsException("job", $"job file '{path}' must hold a JSON object.");
            if (JsonDuplicateKeys.Find(root) is { } twice)
                throw new SettingsException(twice, $"job file '{path}': key '{twice}' is written more than once; keep one.");
            foreach (var p in root.EnumerateObject())
                if (!TopLevelKeys.Contains(p.Name)) throw new SettingsException(p.Name, $"job file '{path}': unknown key '{p.Name}' (known: {string.Join(", ", TopLevelKeys)}).");
            string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : System.IO.Path.GetFileNameWithoutExtension(path);
            string? schedule = root.TryGetProperty("schedule", out var s) ? s.GetString() : null;
            string zone = root.TryGetProperty("timeZone", out var z) ? z.GetString() ?? "UTC" : "UTC";
            try { TimeZoneInfo.FindSystemTimeZoneById(zone); }
            catch (TimeZoneNotFoundException) { throw new SettingsException("timeZone", $"job file '{path}': time zone '{zone}' is not a known IANA zone."); }
            var settings = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("settings", out var st))
            {
                if (st.ValueKind != JsonValueKind.Object) throw new SettingsException("settings", $"job file '{path}': 'settings' must be an object.");
                foreach (var p in st.EnumerateObject()) settings[p.Name] = JobSettings.JsonScalar(p.Value, p.Name);
            }
            var weights = new Dictionary<string, float>(StringComparer.Ordinal);
            if (root.TryGetProperty("event_weights", out var ew))
            {
                if (ew.ValueKind != JsonValueKind.Object) throw new SettingsException("event_weights", $"job file '{path}': 'event_weights' must be an object.");
                foreach (var p in ew.EnumerateObject()) weights[p.Name] = JobSettings.ParseWeight("event_weights." + p.Name, JobSettings.JsonScalar(p.Value, p.Name));
            }
            string baseDir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            string? Dir(string key) => root.TryGetProperty(key, out var d) && d.GetString() is { Length: > 0 } v ? System.IO.Path.GetFullPath(v, baseDir) : null;
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_.-]+$"))
                throw new SettingsException("name", $"job file '{path}': name '{name}' may only hold letters, digits, '_', '.' and '-'.");
            var space = root.TryGetProperty("search_space", out var ss) ? SearchSpaceParser.Parse(ss, path) : null;
            string? tuneSchedule = root.TryGetProperty("tune_schedule", out var ts) ? ts.GetString() : null;
            var job = new JobDefinition(name, schedule, zone, settings, weights, System.IO.Path.GetFullPath(path), Dir("input"), Dir("lake"), space, tuneSchedule);
            job.ResolveSettings([]); // validate now, naming the file's bad key
            return job;
        }
    }
}
