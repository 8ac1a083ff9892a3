using BatchRecs.Core.Errors;
using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// <c>batchrecs sql ("SELECT ..." | --file FILE) [--set-var name=value …] [--lake DIR | --db FILE|:memory:]</c>: reads the
/// lake with SQL and prints the last statement's result as a table. It only reads: see <see cref="Open"/> and <see cref="Run"/>.
/// </summary>
internal static partial class SqlCommand
{
    public static Command Create()
    {
        var query = new Argument<string?>("QUERY") { Description = "SQL to run (read-only); or use --file", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file") { Description = "a SQL file to run (e.g. analyses/exposure.sql): its statements in order, the last one's result printed" };
        var vars = new Option<string[]>("--set-var")
        {
            Description = "a DuckDB variable name=value set before the SQL runs, read with getvariable('name') (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var lake = new Option<string?>("--lake") { Description = "lake directory (uses LAKE/batchrecs.duckdb; with --db :memory:, the directory read_parquet may read)" };
        var db = new Option<string?>("--db") { Description = "DuckDB file (default: demo-out/lake/batchrecs.duckdb); ':memory:' for read_parquet queries on the lake" };
        var max = new Option<int>("--max-rows") { Description = "rows to print", DefaultValueFactory = _ => 50 };
        var cmd = new Command("sql", "Read the lake with SQL (the catalog opened read-only, no file access outside the lake, no network, no extensions) and print the result.")
        {
            query, file, vars, lake, db, max,
        };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            var (text, source) = (p.GetValue(query), p.GetValue(file)) switch
            {
                ({ } q, null) => (q, "the query"),
                (null, { } f) => (ReadFile(f), f),
                (null, null) => throw new BadInputException("give a query, e.g. batchrecs sql \"SELECT * FROM runs\", or --file FILE."),
                _ => throw new BadInputException("give either a query or --file, not both."),
            };
            string database = p.GetValue(db) ?? DatabasePath(p.GetValue(lake));
            using var con = Open(database, database == ":memory:" ? p.GetValue(lake) : null);
            foreach (var assignment in p.GetValue(vars) ?? []) SetVariable(con, assignment);
            Run(con, text, source, p.GetValue(max));
            return Task.FromResult(0);
        }));
        return cmd;
    }

    private const string DefaultLake = "demo-out/lake";

    /// <summary>The run database of a lake (default: the demo's).</summary>
    /// <summary>The catalog of <paramref name="lake"/> (default: the demo's); of an az:// lake, the working copy refreshed from its snapshot.</summary>
    public static string DatabasePath(string? lake) => Path.Combine(lake is null ? DefaultLake : BatchRecs.Lake.Output.RemoteLake.ForReading(lake), "batchrecs.duckdb");

    /// <summary>
    /// Opens a run database read-only, or an in-memory one for ':memory:', locked down for reading the lake: DuckDB may
    /// touch files only under the lake (the database's own directory, or <paramref name="lake"/> for ':memory:'), reaches
    /// no network, installs and loads no extension, spills to a private temporary folder outside the lake, and no SQL
    /// can change any of that (<c>lock_configuration</c>).
    /// </summary>
    /// <remarks>
    /// The catalog opened read-only cannot be changed, and the rest of the lake is protected by <see cref="Run"/>, which
    /// refuses COPY, ATTACH and every other statement kind that could write inside the allowed directory. An analyst
    /// session that opened the catalog read-write would leave a WAL beside it that the next publish does not copy.
    /// </remarks>
    public static DuckDBConnection Open(string path, string? lake = null)
    {
        bool inMemory = path == ":memory:";
        if (!inMemory && !File.Exists(path)) throw new BadInputException($"database '{path}' does not exist; run a job first or pass --lake/--db.");
        string lakeDir = Path.GetFullPath(inMemory ? lake ?? DefaultLake : Path.GetDirectoryName(Path.GetFullPath(path))!);
        string spill = Path.Combine(Path.GetTempPath(), $"batchrecs-sql-{Environment.ProcessId}-{Guid.NewGuid():N}");

        var con = new DuckDBConnection(inMemory ? "Data Source=:memory:" : $"Data Source={path};ACCESS_MODE=READ_ONLY");
        con.Open();
        con.Disposed += (_, _) => DeleteEmptyFolder(spill);
        try
        {
            // Order matters: the allowed directory and the spill folder are set while external access is still on, and
            // lock_configuration comes last, so no statement can undo the rest (SET VARIABLE is not configuration).
            Execute(con, $"""
                SET allowed_directories = [{Literal(lakeDir.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar)}];
                SET temp_directory = {Literal(spill)};
                SET enable_external_access = false;
                SET autoinstall_known_extensions = false;
                SET autoload_known_extensions = false;
                SET allow_community_extensions = false;
                SET lock_configuration = true;
                """);
        }
        catch
        {
            con.Dispose();
            throw;
        }
        return con;
    }

    /// <summary>
    /// Runs a script's statements in order on a connection from <see cref="Open"/> and prints the last one's result.
    /// Each statement is first prepared and classified by DuckDB itself; only reads (SELECT and what DuckDB turns into one:
    /// DESCRIBE, SHOW, SUMMARIZE, PRAGMA table_info, …) and SET (variables; the configuration is locked) may run.
    /// </summary>
    /// <remarks>
    /// <see cref="SqlScript.Split"/> only decides where each statement starts: DuckDB must parse every piece as exactly one
    /// statement and says what kind it is, so a piece split wrongly is refused, never run unchecked. Statements are
    /// classified one at a time, after the ones before them ran (a statement may read a variable an earlier one set).
    /// EXPLAIN is refused too: EXPLAIN ANALYZE executes the statement it explains.
    /// </remarks>
    public static void Run(DuckDBConnection con, string sql, string source, int maxRows)
    {
        var statements = SqlScript.Split(sql);
        if (statements.Count == 0) throw new BadInputException($"{source} holds no SQL statement.");
        for (int i = 0; i < statements.Count; i++)
        {
            var s = statements[i];
            string where = statements.Count == 1 ? source : $"statement {i + 1} of {source} (line {s.Line})";
            var kind = Classify(con, s.Text, where);
            if (kind is not (StatementKind.Select or StatementKind.Set or StatementKind.VariableSet))
                throw new BadInputException(
                    $"{where} is {KindName(kind)} and was refused: batchrecs sql only reads the lake (SELECT, DESCRIBE, SUMMARIZE, " +
                    "SET VARIABLE). To copy results out, use a DuckDB client of your own, outside the lake, with the catalog attached READ_ONLY.");
            try
            {
                using var c = con.CreateCommand();
                c.CommandText = s.Text;
                if (i < statements.Count - 1) c.ExecuteNonQuery();
                else
                {
                    using var r = c.ExecuteReader();
                    if (r.FieldCount > 0) Print(r, maxRows);
                }
            }
            catch (DuckDBException e)
            {
                // A query mistake is the analyst's input: DuckDB's message (it points at the spot), exit code 2, no trace.
                throw new BadInputException($"{where} failed: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// <c>--set-var name=value</c> as <c>SET VARIABLE name = $value</c>: the name must be an identifier, and the value is a
    /// bound parameter (never spliced into SQL), typed BIGINT for a plain integer, DATE for YYYY-MM-DD, BOOLEAN for
    /// true/false, VARCHAR otherwise. The analyses cast what they read (<c>CAST(getvariable('run_date') AS DATE)</c>),
    /// so '007' staying text or a DuckDB CLI user's quoted date both work.
    /// </summary>
    public static void SetVariable(DuckDBConnection con, string assignment)
    {
        int eq = assignment.IndexOf('=');
        string name = eq < 0 ? assignment : assignment[..eq].Trim();
        if (eq < 0 || !IdentifierPattern().IsMatch(name))
            throw new BadInputException($"--set-var '{assignment}': expected name=value with a name of letters, digits and _ (e.g. --set-var run_date=2026-11-27).");
        string text = assignment[(eq + 1)..];
        object value =
            long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) && l.ToString(CultureInfo.InvariantCulture) == text ? l
            : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
            : bool.TryParse(text, out bool b) && (text == "true" || text == "false") ? b
            : text;
        using var c = con.CreateCommand();
        c.CommandText = $"SET VARIABLE {name} = $value";
        c.Parameters.Add(new DuckDBParameter("value", value));
        try { c.ExecuteNonQuery(); }
        catch (DuckDBException e) { throw new BadInputException($"--set-var '{assignment}' failed: {e.Message}", e); }
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
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object>().Select(Format)) + "]",
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string ReadFile(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new BadInputException($"no SQL file '{path}' (relative paths start at {Environment.CurrentDirectory}).");

    private static void Execute(DuckDBConnection con, string sql)
    {
        using var c = con.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    /// <summary>A SQL string literal: single quotes doubled (DuckDB's standard strings take backslashes literally).</summary>
    private static string Literal(string s) => "'" + s.Replace("'", "''") + "'";

    private static void DeleteEmptyFolder(string dir)
    {
        try { if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir); }
        catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>What DuckDB says a single statement is, after preparing (parsing and binding, not running) it.</summary>
    private static StatementKind Classify(DuckDBConnection con, string statement, string where)
    {
        int count = NativeMethods.ExtractStatements.DuckDBExtractStatements(con.NativeConnection, statement, out var extracted);
        using (extracted)
        {
            if (count == 0) throw new BadInputException($"{where} failed: {NativeMethods.ExtractStatements.DuckDBExtractStatementsError(extracted)}");
            if (count != 1) throw new BadInputException($"{where} could not be told apart from the statements around it; end each statement with ';'.");
            var state = NativeMethods.ExtractStatements.DuckDBPrepareExtractedStatement(con.NativeConnection, extracted, 0, out var prepared);
            using (prepared)
            {
                if (state != DuckDBState.Success) throw new BadInputException($"{where} failed: {NativeMethods.PreparedStatements.DuckDBPrepareError(prepared)}");
                if (NativeMethods.PreparedStatements.DuckDBParams(prepared) > 0)
                    throw new BadInputException($"{where} has a parameter ($1, $name or ?) that nothing binds; pass values with --set-var name=value and read them with getvariable('name').");
                return (StatementKind)PreparedStatementType(prepared);
            }
        }
    }

    /// <summary>
    /// <c>duckdb_prepared_statement_type</c> of DuckDB's C API. DuckDB.NET 1.5.6.1 does not wrap it, and its own
    /// <c>DuckDBStatementType</c> enum is numbered differently from <c>duckdb.h</c> after PRAGMA, hence <see cref="StatementKind"/>.
    /// </summary>
    [LibraryImport("duckdb", EntryPoint = "duckdb_prepared_statement_type")]
    private static partial int PreparedStatementType(DuckDBPreparedStatement statement);

    /// <summary><c>duckdb_statement_type</c> as numbered in <c>duckdb.h</c> (DuckDB 1.5).</summary>
    private enum StatementKind
    {
        Invalid = 0, Select = 1, Insert = 2, Update = 3, Explain = 4, Delete = 5, Prepare = 6, Create = 7, Execute = 8, Alter = 9,
        Transaction = 10, Copy = 11, Analyze = 12, VariableSet = 13, CreateFunction = 14, Drop = 15, Export = 16, Pragma = 17,
        Vacuum = 18, Call = 19, Set = 20, Load = 21, Relation = 22, Extension = 23, LogicalPlan = 24, Attach = 25, Detach = 26, Multi = 27,
    }

    private static string KindName(StatementKind kind) => kind switch
    {
        StatementKind.Load => "an INSTALL or LOAD",
        StatementKind.Call => "a CALL (or CHECKPOINT)",
        StatementKind.CreateFunction => "a CREATE FUNCTION",
        StatementKind.VariableSet or StatementKind.Set => "a SET",
        StatementKind.Invalid or StatementKind.Relation or StatementKind.LogicalPlan or StatementKind.Multi => $"a statement of kind {(int)kind}",
        _ => (kind is StatementKind.Insert or StatementKind.Update or StatementKind.Explain or StatementKind.Export or StatementKind.Alter or StatementKind.Analyze
              or StatementKind.Attach or StatementKind.Execute or StatementKind.Extension ? "an " : "a ") + kind.ToString().ToUpperInvariant(),
    };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    /// <summary>Splits a SQL script at the semicolons that end statements.</summary>
    /// <remarks>
    /// A semicolon inside a string ('it''s', E'\'' ), a quoted identifier ("a;b"), a dollar-quoted string ($$…$$,
    /// $tag$…$tag$) or a comment (-- …, nested /* … */) does not end a statement. Pieces holding only blanks and comments
    /// are dropped. An unterminated string or comment runs to the end of the script, where DuckDB reports it.
    /// </remarks>
    internal static class SqlScript
    {
        /// <summary>A statement's text (without its semicolon) and the 1-based line it starts on.</summary>
        public sealed record Statement(string Text, int Line);

        public static List<Statement> Split(string sql)
        {
            var result = new List<Statement>();
            int start = 0, line = 1, i = 0;
            int? contentLine = null; // the line of the current statement's first character that is not blank or comment
            while (i < sql.Length)
            {
                char c = sql[i];
                int from = i;
                bool content = true;
                if (c == '\'') i = EndOfQuoted(sql, i, '\'', backslashEscapes: IsEscapeStringPrefix(sql, i));
                else if (c == '"') i = EndOfQuoted(sql, i, '"', backslashEscapes: false);
                else if (c == '$' && DollarTag(sql, i) is { } tag)
                {
                    int end = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                    i = end < 0 ? sql.Length : end + tag.Length;
                }
                else if (c == '-' && At(sql, i + 1) == '-')
                {
                    i = sql.IndexOf('\n', i) is >= 0 and var nl ? nl : sql.Length;
                    content = false;
                }
                else if (c == '/' && At(sql, i + 1) == '*')
                {
                    i = EndOfBlockComment(sql, i);
                    content = false;
                }
                else if (c == ';')
                {
                    if (contentLine is { } l) result.Add(new Statement(sql[start..i].Trim(), l));
                    start = ++i;
                    contentLine = null;
                    content = false;
                }
                else
                {
                    i++;
                    content = !char.IsWhiteSpace(c);
                }
                if (content) contentLine ??= line;
                for (int k = from; k < i; k++) if (sql[k] == '\n') line++;
            }
            if (contentLine is { } last) result.Add(new Statement(sql[start..].Trim(), last));
            return result;
        }

        private static char At(string s, int i) => i < s.Length ? s[i] : '\0';

        /// <summary>The index after the closing quote; a doubled quote is part of the text.</summary>
        private static int EndOfQuoted(string s, int open, char quote, bool backslashEscapes)
        {
            int i = open + 1;
            while (i < s.Length)
            {
                if (backslashEscapes && s[i] == '\\') { i += 2; continue; }
                if (s[i] == quote)
                {
                    if (At(s, i + 1) == quote) { i += 2; continue; }
                    return i + 1;
                }
                i++;
            }
            return s.Length;
        }

        /// <summary>E'…' (escape string): an E right before the quote that does not end a longer word.</summary>
        private static bool IsEscapeStringPrefix(string s, int quote) =>
            quote > 0 && s[quote - 1] is 'e' or 'E' && (quote == 1 || !IsWordChar(s[quote - 2]));

        private static int EndOfBlockComment(string s, int open)
        {
            int depth = 0, i = open;
            while (i < s.Length)
            {
                if (s[i] == '/' && At(s, i + 1) == '*') { depth++; i += 2; }
                else if (s[i] == '*' && At(s, i + 1) == '/') { depth--; i += 2; if (depth == 0) return i; }
                else i++;
            }
            return s.Length;
        }

        /// <summary>$tag$ or $$ starting at <paramref name="i"/> (not a $1 or $name parameter), or null.</summary>
        private static string? DollarTag(string s, int i)
        {
            if (i > 0 && IsWordChar(s[i - 1])) return null;
            int j = i + 1;
            if (j < s.Length && (char.IsLetter(s[j]) || s[j] == '_'))
                while (j < s.Length && IsWordChar(s[j])) j++;
            return At(s, j) == '$' ? s[i..(j + 1)] : null;
        }

        private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
    }
}
