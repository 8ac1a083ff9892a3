using DuckDB.NET.Data;

namespace BatchRecs.Lake.Output;

/// <summary>
/// A read-only connection to the live catalog for the pipeline's own reads (last accepted metrics, last factors,
/// id kinds, running runs). A session that opened the catalog read-write holds DuckDB's file lock, which refuses even
/// read-only opens by other processes; the run must not fail because an analyst forgot <c>-readonly</c>. Then the
/// file is copied to a private temporary snapshot (without any write-ahead log: the published state) and read there.
/// </summary>
public sealed class CatalogSnapshot : IDisposable
{
    private readonly string? _copy;

    /// <summary>The open read-only connection.</summary>
    public DuckDBConnection Connection { get; }

    private CatalogSnapshot(DuckDBConnection connection, string? copy) => (Connection, _copy) = (connection, copy);

    /// <summary>Opens the live catalog of <paramref name="lakeDir"/> read-only, or null when the lake has none yet.</summary>
    public static CatalogSnapshot? Open(string lakeDir)
    {
        string live = Path.Combine(lakeDir, DuckDbCatalog.FileName);
        if (!File.Exists(live)) return null;
        var con = new DuckDBConnection($"Data Source={live};ACCESS_MODE=READ_ONLY");
        try
        {
            con.Open();
            return new CatalogSnapshot(con, null);
        }
        catch (DuckDBException e) when (e.Message.Contains("Could not set lock", StringComparison.Ordinal))
        {
            con.Dispose();
            string copy = Path.Combine(Path.GetTempPath(), $"batchrecs-catalog-{Guid.NewGuid():N}.duckdb");
            File.Copy(live, copy);
            var snapshot = new DuckDBConnection($"Data Source={copy};ACCESS_MODE=READ_ONLY");
            snapshot.Open();
            return new CatalogSnapshot(snapshot, copy);
        }
    }

    public void Dispose()
    {
        Connection.Dispose();
        if (_copy is not null) File.Delete(_copy);
    }
}
