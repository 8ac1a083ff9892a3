using System.Globalization;
using DuckDB.NET.Data;

namespace BatchRecs.Analyses.Tests;

/// <summary>The last result of a SQL script run through DuckDB.NET, as any DuckDB client would run it: columns, their types, rows.</summary>
public sealed record SqlResult(IReadOnlyList<string> Columns, IReadOnlyList<string> Types, IReadOnlyList<object?[]> Rows)
{
    /// <summary>Runs <paramref name="sql"/> (one or many statements) on <paramref name="con"/> and keeps the last result set.</summary>
    public static SqlResult Run(DuckDBConnection con, string sql)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        SqlResult? last = null;
        do
        {
            var columns = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToList();
            var types = Enumerable.Range(0, r.FieldCount).Select(r.GetDataTypeName).ToList();
            var rows = new List<object?[]>();
            while (r.Read()) rows.Add(Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? null : r.GetValue(i)).ToArray());
            if (columns.Count > 0) last = new SqlResult(columns, types, rows);
        } while (r.NextResult());
        return last ?? throw new InvalidOperationException("the script returned no result set");
    }

    /// <summary>The value of a column as invariant text ("" for NULL).</summary>
    public string Text(int row, string column) => Rows[row][Index(column)] switch
    {
        null => "",
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var v => v.ToString() ?? "",
    };

    public double Number(int row, string column) => Convert.ToDouble(Rows[row][Index(column)], CultureInfo.InvariantCulture);

    public int Index(string column) => Columns.ToList().IndexOf(column) is >= 0 and var i ? i : throw new KeyNotFoundException(column);
}
