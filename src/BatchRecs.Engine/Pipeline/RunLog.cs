using System.Globalization;
using System.Text;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// Structured run events as single lines: <c>2026-11-27T02:30:00Z run.stage stage=fit seconds=3.2</c>.
/// Plain text on purpose: readable on a terminal, greppable under a scheduler or in CI.
/// </summary>
public sealed class RunLog(TextWriter? writer)
{
    public static RunLog Null { get; } = new(null);

    /// <summary>Every event as it happens (for progress displays); called on the thread that logs it.</summary>
    public event Action<string, (string Key, object? Value)[]>? Observed;

    public void Event(string name, params (string Key, object? Value)[] fields)
    {
        Observed?.Invoke(name, fields);
        if (writer is null) return;
        var sb = new StringBuilder();
        sb.Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)).Append(' ').Append(name);
        foreach (var (k, v) in fields)
        {
            sb.Append(' ').Append(k).Append('=');
            string s = v switch
            {
                double d => d.ToString("G6", CultureInfo.InvariantCulture),
                float f => f.ToString("G6", CultureInfo.InvariantCulture),
                IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
                null => "",
                _ => v.ToString() ?? "",
            };
            sb.Append(s.Contains(' ') ? "\"" + s.Replace("\"", "'") + "\"" : s);
        }
        lock (writer) writer.WriteLine(sb.ToString());
    }
}
