using System.Runtime.InteropServices;

namespace BatchRecs.Lake.Output;

/// <summary>
/// Atomic replacement of a directory by another. On Linux, <c>renameat2(RENAME_EXCHANGE)</c> swaps the two
/// names in one step, so a reader (or a crash) sees the old partition or the new one, never none or a mix.
/// Elsewhere it falls back to two renames, with the old directory kept under a recoverable name.
/// </summary>
public static partial class AtomicRename
{
    private const int AtFdCwd = -100;
    private const uint RenameExchange = 2;

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    /// <summary>
    /// Makes <paramref name="staged"/> visible as <paramref name="target"/>. Returns the path that now holds the
    /// previous content of <paramref name="target"/> (to delete), or null if there was none.
    /// </summary>
    public static string? ReplaceDirectory(string staged, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staged, target);
            return null;
        }
        if (OperatingSystem.IsLinux())
        {
            try
            {
                if (RenameAt2(AtFdCwd, staged, AtFdCwd, target, RenameExchange) == 0) return staged;
            }
            catch (EntryPointNotFoundException) { }
            catch (DllNotFoundException) { }
        }
        string old = target + ".old-" + Guid.NewGuid().ToString("N")[..8];
        Directory.Move(target, old);
        Directory.Move(staged, target);
        return old;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>
    /// Makes the renames inside <paramref name="dir"/> durable (POSIX: a rename is on disk once its directory is
    /// fsynced). A no-op where directories cannot be opened.
    /// </summary>
    public static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY
        int fd = Open(dir, ReadOnlyDirectory);
        if (fd < 0) return;
        try { Fsync(fd); }
        finally { Close(fd); }
    }

    /// <summary>Writes a small file durably: temp file, flush to disk, rename over the target.</summary>
    public static void WriteFile(string path, ReadOnlySpan<byte> content)
    {
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
