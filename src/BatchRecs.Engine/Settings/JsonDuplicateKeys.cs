using System.Text.Json;

namespace BatchRecs.Engine.Settings;

/// <summary>
/// Finds a key written twice in one JSON object. <see cref="JsonDocument"/> keeps both and a lookup answers with one
/// of them, so <c>{ "factors": 16, …, "factors": 64 }</c> would run with a value its author may not have meant.
/// (.NET's own <c>AllowDuplicateProperties = false</c> refuses too, but its error names neither the object nor the line.)
/// </summary>
public static class JsonDuplicateKeys
{
    /// <summary>The dotted path of the first key that repeats within its object (<c>settings.factors</c>), or null.</summary>
    public static string? Find(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal); // JSON keys are case-sensitive
                foreach (var p in element.EnumerateObject())
                {
                    string at = path.Length == 0 ? p.Name : path + "." + p.Name;
                    if (!seen.Add(p.Name)) return at;
                    if (Find(p.Value, at) is { } inner) return inner;
                }
                return null;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray())
                    if (Find(item, $"{path}[{i++}]") is { } inner) return inner;
                return null;
            default:
                return null;
        }
    }
}
