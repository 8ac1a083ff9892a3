namespace BatchRecs.Engine.Settings;

/// <summary>A bad setting: names the key, the value and where it came from. Not retried by schedulers.</summary>
public sealed class SettingsException(string key, string message) : Exception(message)
{
    public string Key { get; } = key;
}
