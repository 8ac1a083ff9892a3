namespace BatchRecs.Lake.Input;

/// <summary>
/// The input directory and the lake must be apart. A lake inside the input is read back as input by the next run
/// (its <c>recommendations/*.parquet</c> look like interaction files), and an input inside the lake is the lake's own
/// output or scratch. Runs and tunings check this before they write anything.
/// </summary>
public static class InputLayout
{
    public static void RequireApart(string inputDir, string lakeDir)
    {
        bool inputRemote = Storage.LakeLocation.IsObjectStore(inputDir), lakeRemote = Storage.LakeLocation.IsObjectStore(lakeDir);
        if (inputRemote != lakeRemote) return; // one on the disk, one in object storage: apart
        string input = inputRemote ? inputDir.TrimEnd('/') : Storage.LocalDirectoryStore.RealPath(inputDir);
        string lake = lakeRemote ? lakeDir.TrimEnd('/') : Storage.LocalDirectoryStore.RealPath(lakeDir);
        if (IsWithin(lake, input))
            throw new LakeInputException($"the lake '{lakeDir}' is inside the input directory '{inputDir}'{Same(input, lake)}: the next run would read " +
                "its recommendations back as input. Put the lake outside the input directory.", lakeDir);
        if (IsWithin(input, lake))
            throw new LakeInputException($"the input directory '{inputDir}' is inside the lake '{lakeDir}': a run would read the lake's own files " +
                "as input. Put the input outside the lake.", inputDir);
    }

    private static string Same(string input, string lake) => input == lake ? " (they are the same directory)" : "";

    /// <summary>Whether <paramref name="path"/> is <paramref name="dir"/> or under it (both real, absolute paths).</summary>
    private static bool IsWithin(string path, string dir) =>
        path == dir || path.StartsWith(Path.EndsInDirectorySeparator(dir) ? dir : dir + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        || path.StartsWith(dir + "/", StringComparison.Ordinal);
}
