using System.Globalization;

namespace BatchRecs.Lake.Input;

/// <summary>Hive-style partition directories (<c>dt=YYYY-MM-DD</c> or <c>date=YYYY-MM-DD</c>) in a file path.</summary>
public static class PartitionPath
{
    /// <summary>The partition date named by the innermost <c>dt=</c>/<c>date=</c> directory, or null if none.</summary>
    public static DateOnly? DateOf(string relativePath)
    {
        var parts = relativePath.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        for (int i = parts.Length - 2; i >= 0; i--)
        {
            var p = parts[i];
            string? value = p.StartsWith("dt=", StringComparison.Ordinal) ? p[3..]
                : p.StartsWith("date=", StringComparison.Ordinal) ? p[5..] : null;
            if (value is null) continue;
            if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return d;
            throw new InvalidDataException($"partition directory '{p}' in '{relativePath}' is not a date of the form dt=YYYY-MM-DD.");
        }
        return null;
    }

    public static string DirectoryFor(DateOnly day) => "dt=" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
