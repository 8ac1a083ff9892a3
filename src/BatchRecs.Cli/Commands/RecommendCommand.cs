using System.CommandLine;
using BatchRecs.Core.Errors;
using BatchRecs.Lake.Output;
using DuckDB.NET.Data;
using System.Globalization;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// <c>batchrecs recommend --user ID</c>: a user's current list; <c>batchrecs recommend --item ID</c>: an item's similar
/// items. Both with item metadata when an <c>items</c> table exists.
/// </summary>
internal static class RecommendCommand
{
    /// <summary>What a lookup reads (the table, its owner and listed-item columns) and how its errors name things.</summary>
    /// <param name="Table">the catalog table of lists.</param>
    /// <param name="OwnerColumn">the column of the looked-up id.</param>
    /// <param name="ListedColumn">the column of the listed items' ids (joined with <c>items</c>).</param>
    /// <param name="Owner">what the looked-up id is (<c>user</c>, <c>item</c>).</param>
    /// <param name="Listing">what the table holds for an owner.</param>
    /// <param name="Hint">why an owner may have no list, appended to the unknown-id error.</param>
    private sealed record Lookup(string Table, string OwnerColumn, string ListedColumn, string Owner, string Listing, string Hint);

    private static readonly Lookup UserLists = new("recommendations", "user_id", "item_id", "user", "list", "");
    private static readonly Lookup SimilarLists = new("similar_items", "item_id", "similar_item_id", "item", "similar items",
        " (an item needs interactions in the run's window and must not be banned, and the run needs similar_items=true)");

    public static Command Create()
    {
        var user = new Option<string?>("--user") { Description = "external user id: print the user's recommendations" };
        var item = new Option<string?>("--item") { Description = "external item id: print the item's similar items" };
        var lake = new Option<string?>("--lake") { Description = "lake directory (default: demo-out/lake)" };
        var date = new Option<string?>("--run-date") { Description = "run date YYYY-MM-DD (default: the latest)" };
        var cmd = new Command("recommend",
            "Print a user's recommendations (--user) or an item's similar items (--item), with titles and categories when item metadata was loaded.")
            { user, item, lake, date };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            var (u, i) = (p.GetValue(user), p.GetValue(item));
            if ((u is null) == (i is null))
                throw new BadInputException("give exactly one of --user ID (a user's recommendations) and --item ID (an item's similar items).");
            var (lookup, id) = u is not null ? (UserLists, u) : (SimilarLists, i!);
            string dbPath = SqlCommand.DatabasePath(p.GetValue(lake));
            LakePublisher.TryRecover(Path.GetDirectoryName(Path.GetFullPath(dbPath))!);
            using var con = SqlCommand.Open(dbPath);
            Print(con, lookup, id, p.GetValue(date), dbPath);
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>Prints the owner's list of the run date (given, or the latest recommendations' date); unknown owners are bad input.</summary>
    private static void Print(DuckDBConnection con, Lookup lookup, string id, string? day, string dbPath)
    {
        string runDate = day is not null ? $"DATE '{DemoDataCommand.ParseDate(day):yyyy-MM-dd}'" : "(SELECT max(run_date) FROM recommendations)";
        string when = day is not null ? "run date " + day : "the latest run date";
        if (!TableExists(con, lookup.Table))
            throw new BadInputException($"{dbPath} has no {lookup.Table} table: no run has published {lookup.Table.Replace('_', ' ')} there yet.");
        // The id columns may be BIGINT or VARCHAR: compare as text.
        string owned = $"CAST(r.{lookup.OwnerColumn} AS VARCHAR) = $id AND r.run_date = {runDate}";
        if (Count(con, $"SELECT count(*) FROM {lookup.Table} r WHERE {owned}", id) == 0)
            throw new BadInputException($"unknown {lookup.Owner} '{id}': no {lookup.Listing} for {when} in {dbPath}{lookup.Hint}.");
        string sql = TableExists(con, "items")
            ? $"SELECT r.rank, r.{lookup.ListedColumn}, i.title, i.category, round(r.score, 4) AS score FROM {lookup.Table} r LEFT JOIN items i ON i.item_id = r.{lookup.ListedColumn} WHERE {owned} ORDER BY r.rank"
            : $"SELECT r.rank, r.{lookup.ListedColumn}, round(r.score, 4) AS score FROM {lookup.Table} r WHERE {owned} ORDER BY r.rank";
        SqlCommand.Query(con, sql, 1000, ("id", id));
    }

    private static bool TableExists(DuckDBConnection con, string table) =>
        Count(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = $id", table) > 0;

    private static long Count(DuckDBConnection con, string sql, string id)
    {
        using var c = con.CreateCommand();
        c.CommandText = sql;
        c.Parameters.Add(new DuckDBParameter("id", id));
        return Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
