using System.Globalization;
using System.Text.Json;
using BatchRecs.Core.Tuning;

namespace BatchRecs.Engine.Settings;

/// <summary>
/// Reads a job file's <c>search_space</c>:
/// <code>
/// "search_space": {
///   "alpha":          { "min": 0.1, "max": 100, "scale": "log" },
///   "factors":        { "values": [32, 64, 128] },
///   "confidence":     { "values": ["linear", "log"] },
///   "iterations":     { "min": 5, "max": 20, "integer": true } }
/// </code>
/// Every key must be a known setting and every value valid for it; errors name <c>search_space.KEY</c>.
/// </summary>
public static class SearchSpaceParser
{
    public static SearchSpace Parse(JsonElement e, string file)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new SettingsException("search_space", $"job file '{file}': 'search_space' must be an object.");
        var dims = new List<SearchDimension>();
        foreach (var p in e.EnumerateObject())
        {
            string key = "search_space." + p.Name;
            SettingsException Bad(string why) => new(key, $"job file '{file}': {key} {why}");
            var def = JobSettings.Definitions.FirstOrDefault(d => d.Key == p.Name) ?? throw Bad("is not a known setting.");
            if (p.Value.ValueKind != JsonValueKind.Object) throw Bad("must be an object with min/max or values.");
            if (p.Value.TryGetProperty("values", out var values))
            {
                if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0) throw Bad("values must be a non-empty array.");
                var choices = values.EnumerateArray().Select(v => JobSettings.JsonScalar(v, key)).ToArray();
                foreach (var c in choices) Validate(def, c, Bad);
                dims.Add(new SearchDimension(p.Name, Choices: choices));
                continue;
            }
            if (!p.Value.TryGetProperty("min", out var minE) || !p.Value.TryGetProperty("max", out var maxE)
                || minE.ValueKind != JsonValueKind.Number || maxE.ValueKind != JsonValueKind.Number)
                throw Bad("needs numeric min and max (or values).");
            double min = minE.GetDouble(), max = maxE.GetDouble();
            string scale = p.Value.TryGetProperty("scale", out var sc) ? sc.GetString() ?? "linear" : "linear";
            if (scale is not ("log" or "linear")) throw Bad($"scale must be log or linear (got '{scale}').");
            if (!(min < max)) throw Bad($"min ({min}) must be below max ({max}).");
            if (scale == "log" && min <= 0) throw Bad("a log scale needs min > 0.");
            bool integer = p.Value.TryGetProperty("integer", out var ie) && ie.ValueKind == JsonValueKind.True
                || def.Default.All(char.IsDigit) && def.Default.Length > 0;
            Validate(def, integer ? ((long)min).ToString(CultureInfo.InvariantCulture) : min.ToString("R", CultureInfo.InvariantCulture), Bad);
            Validate(def, integer ? ((long)max).ToString(CultureInfo.InvariantCulture) : max.ToString("R", CultureInfo.InvariantCulture), Bad);
            dims.Add(new SearchDimension(p.Name, min, max, scale == "log", integer));
        }
        if (dims.Count == 0) throw new SettingsException("search_space", $"job file '{file}': 'search_space' is empty.");
        return new SearchSpace(dims);
    }

    private static void Validate(SettingDefinition def, string value, Func<string, SettingsException> bad)
    {
        try { def.Parse(value); }
        catch (SettingsException e) { throw bad($"holds a bad value: {e.Message}"); }
    }
}
