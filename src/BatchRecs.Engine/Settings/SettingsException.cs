using BatchRecs.Core.Errors;

namespace BatchRecs.Engine.Settings;

/// <summary>A bad setting: names the key, the value and where it came from. Not retried by schedulers; exit code 2.</summary>
public sealed class SettingsException(string key, string message) : BadInputException(message)
{
    /// <summary>The setting key at fault (a job file's top-level key, or a settings key).</summary>
    public string Key { get; } = key;
}
