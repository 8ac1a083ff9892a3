using System.CommandLine;
using BatchRecs.Core.Errors;
using BatchRecs.Lake.Output;
using System.Globalization;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs recommend --user ID</c>: a user's current list, with item metadata when an <c>items</c> table exists.</summary>
internal static class RecommendCommand
{
    public static Command Create()
    {
        var user = new Option<string>("--user") { Description = "external user id", Required = true };
        var lake = new Option<string?>("--lake") { Description = "lake directory (default: demo-out/lake)" };
        var date = new Option<string?>("--run-date") { Description = "run date YYYY-MM-DD (default: the latest)" };
        var cmd = new Command("recommend", "Print a user's recommendations (with titles and categories when item metadata was loaded).") { user, lake, date };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            string dbPath = SqlCommand.DatabasePath(p.GetValue(lake));
            LakePublisher.TryRecover(Path.GetDirectoryName(Path.GetFullPath(dbPath))!);
            using var con = SqlCommand.Open(dbPath);
            bool hasItems = false;
            using (var c = con.CreateCommand())
            {
                c.CommandText = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'items'";
                hasItems = Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
            }
            string runDate = p.GetValue(date) is { } d ? $"DATE '{DemoDataCommand.ParseDate(d):yyyy-MM-dd}'" : "(SELECT max(run_date) FROM recommendations)";
            using (var c = con.CreateCommand())
            {
                c.CommandText = $"SELECT count(*) FROM recommendations WHERE CAST(user_id AS VARCHAR) = $user AND run_date = {runDate}";
                c.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter("user", p.GetValue(user)!));
                if (Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
                    throw new BadInputException($"unknown user '{p.GetValue(user)}': no list for {(p.GetValue(date) is { } day ? "run date " + day : "the latest run date")} in {dbPath}.");
            }
            // The id column may be BIGINT or VARCHAR: compare as text.
            string sql = hasItems
                ? $"SELECT r.rank, r.item_id, i.title, i.category, round(r.score, 4) AS score FROM recommendations r LEFT JOIN items i USING (item_id) WHERE CAST(r.user_id AS VARCHAR) = $user AND r.run_date = {runDate} ORDER BY r.rank"
                : $"SELECT rank, item_id, round(score, 4) AS score FROM recommendations WHERE CAST(user_id AS VARCHAR) = $user AND run_date = {runDate} ORDER BY rank";
            SqlCommand.Query(con, sql, 1000, ("user", p.GetValue(user)!));
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
