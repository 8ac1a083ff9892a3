using DuckDB.NET.Data;

namespace BatchRecs.Tests;

/// <summary>Ad-hoc SQL through DuckDB (an independent reader of what the job wrote).</summary>
public static class DuckQuery
{
    public static List<object[]> Rows(string sql, string? database = null)
    {
        using var con = new DuckDBConnection(database is null ? "Data Source=:memory:" : $"Data Source={database};ACCESS_MODE=READ_ONLY");
        con.Open();
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<object[]>();
        while (r.Read()) { var row = new object[r.FieldCount]; r.GetValues(row); rows.Add(row); }
        return rows;
    }

    public static long Scalar(string sql, string? database = null) => Convert.ToInt64(Rows(sql, database)[0][0]);
}
