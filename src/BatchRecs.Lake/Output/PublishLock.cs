using BatchRecs.Core.Errors;

namespace BatchRecs.Lake.Output;

/// <summary>
/// An exclusive lock on a lake's publish (<c>LAKE/.publish.lock</c>, an advisory file lock that the OS
/// releases when the holder dies). Two jobs publishing into one lake take turns, so neither loses the
/// other's DuckDB update, and leftovers found while holding it belong to dead publishers.
/// </summary>
public sealed class PublishLock : IDisposable
{
    private readonly FileStream _stream;

    private PublishLock(FileStream stream) => _stream = stream;

    public static async Task<PublishLock> AcquireAsync(string lakeDir, TimeSpan timeout, CancellationToken ct = default, Action<string>? onWait = null)
    {
        Directory.CreateDirectory(lakeDir);
        var started = DateTime.UtcNow;
        var deadline = started + timeout;
        var nextSay = started;
        while (true)
        {
            try
            {
                return Open(lakeDir);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (onWait is not null && DateTime.UtcNow >= nextSay)
                {
                    onWait($"waiting for the publish lock of '{lakeDir}' (another run or tuning is publishing); gives up after {timeout.TotalSeconds:F0} s (lock_timeout_seconds), {(deadline - DateTime.UtcNow).TotalSeconds:F0} s from now");
                    nextSay = DateTime.UtcNow + WaitReport;
                }
                await Task.Delay(200, ct);
            }
            catch (IOException e)
            {
                throw new TransientFailureException($"another process has held the publish lock of '{lakeDir}' for {timeout.TotalSeconds:F0} s (lock_timeout_seconds).", e);
            }
        }
    }

    /// <summary>The lock if it is free now, else null (for readers that repair only when no publisher is at work).</summary>
    /// <summary>How often a wait for the lock is reported again.</summary>
    public static readonly TimeSpan WaitReport = TimeSpan.FromSeconds(30);

    public static PublishLock? TryAcquire(string lakeDir)
    {
        try
        {
            return Open(lakeDir);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null; // a read-only lake: nothing a reader could repair anyway
        }
    }

    private static PublishLock Open(string lakeDir) =>
        new(new FileStream(Path.Combine(lakeDir, ".publish.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));

    public void Dispose() => _stream.Dispose();
}
