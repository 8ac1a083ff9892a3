using System.Security.Cryptography;

namespace BatchRecs.Analyses.Tests;

/// <summary>The SHA-256 of every file under a directory (hidden files and subfolders included), by relative path.</summary>
public static class LakeFingerprint
{
    public static SortedDictionary<string, string> Of(string dir)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            using var s = File.OpenRead(file);
            result[Path.GetRelativePath(dir, file)] = Convert.ToHexString(SHA256.HashData(s));
        }
        return result;
    }

    /// <summary>What differs between two fingerprints (added, removed, changed files), or an empty string.</summary>
    public static string Diff(SortedDictionary<string, string> before, SortedDictionary<string, string> after)
    {
        var lines = new List<string>();
        foreach (var (path, hash) in before)
            if (!after.TryGetValue(path, out var h)) lines.Add($"removed {path}");
            else if (h != hash) lines.Add($"changed {path}");
        foreach (var path in after.Keys.Where(p => !before.ContainsKey(p))) lines.Add($"added {path}");
        return string.Join("\n", lines);
    }
}
