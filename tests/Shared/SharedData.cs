namespace BatchRecs.Tests;

/// <summary>
/// The public rating data sets in ../shared/data (never copied into the repository). Tests that need them
/// run when the folder exists and print plainly when it does not.
/// </summary>
public static class SharedData
{
    public static string? Root { get; } = Find();

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("BATCHRECS_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate) && System.IO.File.Exists(System.IO.Path.Combine(candidate, "README.md"))) return candidate;
        }
        return null;
    }

    /// <summary>The path of a file in the shared data, or null (with a line on stdout saying the test is not checking it).</summary>
    public static string? File(string relative)
    {
        if (Root is null)
        {
            Console.WriteLine($"shared data folder not found: the check on {relative} does not run here (set BATCHRECS_SHARED_DATA or provide ../shared/data).");
            return null;
        }
        var p = System.IO.Path.Combine(Root, relative);
        return System.IO.File.Exists(p) ? p : null;
    }
}
