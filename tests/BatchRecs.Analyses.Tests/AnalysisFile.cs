using System.Text.RegularExpressions;

namespace BatchRecs.Analyses.Tests;

/// <summary>
/// An analysis in <c>analyses/</c> and its header: the leading comment lines <c>-- key: value</c> (question, inputs,
/// params, returns), where an indented <c>--</c> line continues the key above.
/// </summary>
public sealed partial class AnalysisFile
{
    public static string Folder => Path.Combine(DemoLakeFixture.RepositoryRoot, "analyses");

    public static IReadOnlyList<string> Names() =>
        Directory.GetFiles(Folder, "*.sql").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();

    public static AnalysisFile Load(string name) => new(name, File.ReadAllText(Path.Combine(Folder, name + ".sql")));

    private AnalysisFile(string name, string text)
    {
        Name = name;
        Text = text;
        string? key = null;
        foreach (var line in text.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (!line.StartsWith("--", StringComparison.Ordinal)) break;
            if (KeyLine().Match(line) is { Success: true } m) Header[key = m.Groups[1].Value] = m.Groups[2].Value.Trim();
            else if (key is not null && line.Length > 2 && char.IsWhiteSpace(line[2])) Header[key] += " " + line[2..].Trim();
        }
    }

    public string Name { get; }

    public string Text { get; }

    public Dictionary<string, string> Header { get; } = new(StringComparer.Ordinal);

    /// <summary>The declared result columns, in order: name and type (a DuckDB type name, or ID for a user or item id column).</summary>
    public IReadOnlyList<(string Name, string Type)> Returns => TopLevelParts(Header.GetValueOrDefault("returns", ""))
        .Select(p => p.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Select(p => (p[0], p.Length > 1 ? p[1] : "")).ToList();

    /// <summary>The declared parameters' names ("none" declares none).</summary>
    public IReadOnlyList<string> Params => Header.GetValueOrDefault("params", "") is "none" or "" ? []
        : TopLevelParts(Header["params"]).Select(p => p.Split(' ', 2)[0]).ToList();

    /// <summary>The variables the SQL reads with getvariable('…'), other than the <c>resolved_*</c> ones it sets itself.</summary>
    public IReadOnlyList<string> VariablesRead => GetVariable().Matches(Text).Select(m => m.Groups[1].Value)
        .Where(v => !v.StartsWith("resolved_", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether a result column's type name (DuckDB.NET's <c>GetDataTypeName</c>) is what the header declares.</summary>
    public static bool TypeMatches(string declared, string actual)
    {
        string a = actual.ToLowerInvariant(), d = declared.ToLowerInvariant();
        return d switch
        {
            "id" => a is "bigint" or "varchar",
            _ when d.EndsWith("[]", StringComparison.Ordinal) => a == "list",
            _ when d.StartsWith("decimal", StringComparison.Ordinal) => a == "decimal",
            _ => a == d,
        };
    }

    /// <summary>Splits at commas that are not inside parentheses.</summary>
    private static IEnumerable<string> TopLevelParts(string s)
    {
        int depth = 0, start = 0;
        for (int i = 0; i <= s.Length; i++)
        {
            if (i == s.Length || (s[i] == ',' && depth == 0))
            {
                if (s[start..i].Trim() is { Length: > 0 } part) yield return part;
                start = i + 1;
            }
            else if (s[i] == '(') depth++;
            else if (s[i] == ')') depth--;
        }
    }

    [GeneratedRegex(@"^--\s*([a-z_]+):\s*(.*)$")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"getvariable\('([A-Za-z_][A-Za-z0-9_]*)'\)")]
    private static partial Regex GetVariable();

    public override string ToString() => Name;
}
