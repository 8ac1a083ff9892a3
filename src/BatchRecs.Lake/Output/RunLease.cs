namespace BatchRecs.Lake.Output;

/// <summary>
/// A running run's lease: the file <c>LAKE/_leases/RUN_ID</c>, whose modification time the run renews every
/// <see cref="Renewal"/> while it lives (a heartbeat that works for a coordinator on any host that shares the lake).
/// A run killed without recording its outcome stops renewing; once the lease is older than <see cref="Expiry"/>, the
/// next run or <c>batchrecs runs</c> records it as <c>abandoned</c> (<see cref="DuckDbCatalog.AbandonExpired"/>).
/// </summary>
public sealed class RunLease : IDisposable
{
    public const string Dir = "_leases";
    public static readonly TimeSpan Renewal = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(60);

    private readonly string _path;
    private readonly Timer _timer;

    private RunLease(string path)
    {
        _path = path;
        Renew();
        _timer = new Timer(_ => Renew(), null, Renewal, Renewal);
    }

    /// <summary>Takes the lease of <paramref name="runId"/> (before the run is recorded as running).</summary>
    public static RunLease Take(string lakeDir, string runId)
    {
        string dir = Path.Combine(lakeDir, Dir);
        Directory.CreateDirectory(dir);
        return new RunLease(PathOf(lakeDir, runId));
    }

    /// <summary>True when <paramref name="runId"/> has no lease renewed within <see cref="Expiry"/> before <paramref name="nowUtc"/>.</summary>
    public static bool IsExpired(string lakeDir, string runId, DateTime nowUtc)
    {
        var file = new FileInfo(PathOf(lakeDir, runId));
        return !file.Exists || nowUtc - file.LastWriteTimeUtc > Expiry;
    }

    /// <summary>When the lease was last renewed, or null if there is none.</summary>
    public static DateTime? LastRenewed(string lakeDir, string runId)
    {
        var file = new FileInfo(PathOf(lakeDir, runId));
        return file.Exists ? file.LastWriteTimeUtc : null;
    }

    /// <summary>Deletes the lease file of a run whose outcome is recorded.</summary>
    public static void Remove(string lakeDir, string runId) => File.Delete(PathOf(lakeDir, runId));

    private static string PathOf(string lakeDir, string runId) =>
        Path.Combine(lakeDir, Dir, string.Concat(runId.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')));

    private void Renew()
    {
        try
        {
            if (!File.Exists(_path)) File.WriteAllBytes(_path, []);
            File.SetLastWriteTimeUtc(_path, DateTime.UtcNow);
        }
        catch (IOException)
        {
            // A missed beat is harmless unless it lasts for the whole expiry; the next one retries.
        }
    }

    /// <summary>Stops renewing and deletes the lease (the run's outcome is recorded by then).</summary>
    public void Dispose()
    {
        _timer.Dispose();
        try { File.Delete(_path); } catch (IOException) { }
    }
}
