using System.Globalization;

namespace BatchRecs.Engine.Settings;

/// <summary>One known setting: its key, default, description and a parser that rejects bad values.</summary>
public sealed record SettingDefinition(string Key, string Default, string Description, Func<string, object> Parse)
{
    /// <summary>The value's type; with <see cref="Min"/>, <see cref="Max"/> and <see cref="Choices"/> it is what jobs/job.schema.json states (a test keeps the two equal).</summary>
    public SettingKind Kind { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    /// <summary>True when <see cref="Max"/> itself is not allowed.</summary>
    public bool MaxExclusive { get; init; }

    /// <summary>The allowed values of a <see cref="SettingKind.Choice"/>.</summary>
    public IReadOnlyList<string>? Choices { get; init; }

    public static SettingDefinition Int(string key, int def, int min, int max, string description) =>
        new(key, def.ToString(CultureInfo.InvariantCulture), description, s =>
            int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
                ? v : throw new SettingsException(key, $"setting '{key}' must be an integer in [{min}, {max}] (got '{s}')."))
        { Kind = SettingKind.Int, Min = min, Max = max };

    public static SettingDefinition Float(string key, double def, double min, double max, string description, bool maxExclusive = false) =>
        new(key, def.ToString("R", CultureInfo.InvariantCulture), description, s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v >= min && (maxExclusive ? v < max : v <= max)
                ? v : throw new SettingsException(key, $"setting '{key}' must be a number in [{min}, {max}{(maxExclusive ? ")" : "]")} (got '{s}')."))
        { Kind = SettingKind.Float, Min = min, Max = max, MaxExclusive = maxExclusive };

    /// <summary>The typed value (an enum member) of each of <see cref="Choices"/>, by name; the typed accessors read it.</summary>
    internal IReadOnlyDictionary<string, object>? ChoiceValues { get; init; }

    /// <summary>One of <paramref name="choices"/>, named in the job file and read as its enum member.</summary>
    public static SettingDefinition Choice<T>(string key, string def, (string Name, T Value)[] choices, string description) where T : struct, Enum
    {
        string[] names = [.. choices.Select(c => c.Name)];
        return new(key, def, description, s => names.Contains(s, StringComparer.Ordinal)
            ? s : throw new SettingsException(key, $"setting '{key}' must be one of {string.Join(", ", names)} (got '{s}')."))
        { Kind = SettingKind.Choice, Choices = names, ChoiceValues = choices.ToDictionary(c => c.Name, c => (object)c.Value, StringComparer.Ordinal) };
    }

    public static SettingDefinition Bool(string key, bool def, string description) =>
        new(key, def ? "true" : "false", description, s => s switch
        {
            "true" => true,
            "false" => false,
            _ => throw new SettingsException(key, $"setting '{key}' must be true or false (got '{s}')."),
        })
        { Kind = SettingKind.Bool };

    /// <summary>Free text (a path, a name); empty means unset.</summary>
    public static SettingDefinition Text(string key, string def, string description) => new(key, def, description, s => s) { Kind = SettingKind.Text };

    /// <summary>An integer, or "auto" (parsed as 0).</summary>
    public static SettingDefinition IntOrAuto(string key, int min, int max, string description) =>
        new(key, "auto", description, s => s == "auto" ? 0
            : int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
                ? v : throw new SettingsException(key, $"setting '{key}' must be 'auto' or an integer in [{min}, {max}] (got '{s}')."))
        { Kind = SettingKind.IntOrAuto, Min = min, Max = max };
}
