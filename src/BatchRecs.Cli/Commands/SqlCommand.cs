using BatchRecs.Core.Errors;
using System.CommandLine;
using System.Globalization;
using DuckDB.NET.Data;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs sql "SELECT ..." [--lake DIR | --db FILE]</c>: a read-only query on the run database, printed as a table.</summary>
internal static class SqlCommand
{
    public static Command Create()
    {
        var query = new Argument<string>("QUERY") { Description = "SQL to run (read-only)" };
        var lake = new Option<string?>("--lake") { Description = "lake directory (uses LAKE/batchrecs.duckdb)" };
        var db = new Option<string?>("--db") { Description = "DuckDB file (default: demo-out/lake/batchrecs.duckdb); ':memory:' for read_parquet queries" };
        var max = new Option<int>("--max-rows") { Description = "rows to print", DefaultValueFactory = _ => 50 };
        var cmd = new Command("sql", "Run a SQL query on the run's DuckDB database (read-only) and print the result.") { query, lake, db, max };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            using var con = Open(p.GetValue(db) ?? DatabasePath(p.GetValue(lake)));
            using var c = con.CreateCommand();
            c.CommandText = p.GetValue(query)!;
            try
            {
                using var r = c.ExecuteReader();
                Print(r, p.GetValue(max));
            }
            catch (DuckDBException e)
            {
                // A query mistake is the analyst's input: DuckDB's message (it points at the spot), exit code 2, no trace.
                throw new BadInputException($"the query failed: {e.Message}", e);
            }
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>The run database of a lake (default: the demo's).</summary>
    public static string DatabasePath(string? lake) => Path.Combine(lake ?? Path.Combine("demo-out", "lake"), "batchrecs.duckdb");

    /// <summary>Opens a run database read-only (never blocks the nightly publish), or an in-memory one for ':memory:'.</summary>
    public static DuckDBConnection Open(string path)
    {
        if (path != ":memory:" && !File.Exists(path)) throw new BadInputException($"database '{path}' does not exist; run a job first or pass --lake/--db.");
        var con = new DuckDBConnection(path == ":memory:" ? "Data Source=:memory:" : $"Data Source={path};ACCESS_MODE=READ_ONLY");
        con.Open();
        return con;
    }

    /// <summary>Runs a query with named parameters ($name) and prints the result as a table.</summary>
    public static void Query(DuckDBConnection con, string sql, int maxRows = 50, params (string Name, object Value)[] parameters)
    {
        using var c = con.CreateCommand();
        c.CommandText = sql;
        foreach (var (name, value) in parameters) c.Parameters.Add(new DuckDBParameter(name, value));
        using var r = c.ExecuteReader();
        Print(r, maxRows);
    }

    public static void Print(System.Data.Common.DbDataReader r, int maxRows)
    {
        var names = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToArray();
        var rows = new List<string[]>();
        int total = 0;
        while (r.Read())
        {
            if (++total > maxRows) continue;
            rows.Add(Enumerable.Range(0, r.FieldCount).Select(i => Format(r.IsDBNull(i) ? null : r.GetValue(i))).ToArray());
        }
        var widths = names.Select((n, i) => Math.Min(60, rows.Select(x => x[i].Length).Append(n.Length).Max())).ToArray();
        string Line(string[] cells) => string.Join(" | ", cells.Select((c, i) => (c.Length > widths[i] ? c[..(widths[i] - 1)] + "…" : c).PadRight(widths[i])));
        Console.WriteLine(Line(names));
        Console.WriteLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in rows) Console.WriteLine(Line(row));
        Console.WriteLine(total > maxRows ? $"({total} rows, {maxRows} shown)" : $"({total} rows)");
    }

    private static string Format(object? v) => v switch
    {
        null => "NULL",
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object>().Select(Format)) + "]",
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
