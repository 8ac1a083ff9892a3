using DuckDB.NET.Data;

namespace BatchRecs.Hangfire.Tests;

/// <summary>Two lakes' catalogs attached read-only in one DuckDB session (as <c>a</c> and <c>b</c>), to compare what they published.</summary>
internal sealed class TwoLakes : IDisposable
{
    private readonly DuckDBConnection _con = new("Data Source=:memory:");

    public TwoLakes(string lakeA, string lakeB)
    {
        _con.Open();
        Scalar($"ATTACH '{Path.Combine(lakeA, "batchrecs.duckdb")}' AS a (READ_ONLY)");
        Scalar($"ATTACH '{Path.Combine(lakeB, "batchrecs.duckdb")}' AS b (READ_ONLY)");
    }

    public long Scalar(string sql)
    {
        using var cmd = _con.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    /// <summary>Both lakes publish the same rows of <paramref name="columns"/> from <paramref name="table"/>, and some.</summary>
    /// <param name="table">a catalog table.</param>
    /// <param name="columns">the columns compared (a SELECT list).</param>
    public void AssertSameRows(string table, string columns)
    {
        long rows = Scalar($"SELECT count(*) FROM a.{table}");
        Assert.True(rows > 0, $"a.{table} is empty");
        Assert.Equal(rows, Scalar($"SELECT count(*) FROM b.{table}"));
        Assert.Equal(0, Scalar($"SELECT count(*) FROM (SELECT {columns} FROM a.{table} EXCEPT SELECT {columns} FROM b.{table})"));
    }

    public void Dispose() => _con.Dispose();
}
