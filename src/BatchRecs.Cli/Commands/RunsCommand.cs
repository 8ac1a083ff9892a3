using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Lake.Output;
using DuckDB.NET.Data;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs runs</c> lists recent runs; <c>batchrecs runs show ID</c> prints one with its metrics.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var lake = new Option<string?>("--lake") { Description = "lake directory (default: demo-out/lake)" };
        var limit = new Option<int>("--limit") { Description = "runs to list", DefaultValueFactory = _ => 20 };
        var cmd = new Command("runs", "List recent runs with their status and headline metrics.") { lake, limit };
        cmd.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            string dbPath = SqlCommand.DatabasePath(p.GetValue(lake));
            // A reader completes what a dead publisher left: a committed publish, runs whose lease expired (abandoned).
            foreach (var repair in LakePublisher.TryRecover(Path.GetDirectoryName(Path.GetFullPath(dbPath))!))
                Console.Error.WriteLine("repaired: " + repair);
            using var con = SqlCommand.Open(dbPath);
            SqlCommand.Query(con, """
                SELECT r.run_id, r.job, strftime(r.run_date, '%Y-%m-%d') AS run_date, r.status, round(r.seconds, 1) AS seconds, r.users, r.items,
                       round(max(m.value) FILTER (WHERE m.metric LIKE 'model.ndcg@%'), 4) AS model_ndcg,
                       round(max(m.value) FILTER (WHERE m.metric LIKE 'popular.ndcg@%'), 4) AS popular_ndcg,
                       round(max(m.value) FILTER (WHERE m.metric = 'index.recall_mean'), 3) AS ivf_recall,
                       left(coalesce(r.reason, ''), 60) AS reason
                FROM runs r LEFT JOIN run_metrics m USING (run_id)
                GROUP BY ALL ORDER BY any_value(r.started_at) DESC LIMIT $limit
                """, p.GetValue(limit), ("limit", p.GetValue(limit)));
            return Task.FromResult(0);
        }));

        var id = new Argument<string>("ID") { Description = "run id, or 'latest'" };
        var lake2 = new Option<string?>("--lake") { Description = "lake directory (default: demo-out/lake)" };
        var all = new Option<bool>("--all") { Description = "also the per-iteration metrics" };
        var show = new Command("show", "Print one run with all its metrics.") { id, lake2, all };
        show.SetAction((p, ct) => CliErrors.Guard(() =>
        {
            using var con = SqlCommand.Open(SqlCommand.DatabasePath(p.GetValue(lake2)));
            string runId = Resolve(con, p.GetValue(id)!);
            SqlCommand.Query(con, "SELECT run_id, job, strftime(run_date, '%Y-%m-%d') AS run_date, status, started_at, finished_at, round(seconds, 1) AS seconds, input_rows, users, items, reason FROM runs WHERE run_id = $id", 1, ("id", runId));
            Console.WriteLine();
            SqlCommand.Query(con, $"SELECT metric, value FROM run_metrics WHERE run_id = $id {(p.GetValue(all) ? "" : "AND metric NOT LIKE '%.iter%'")} ORDER BY metric", 10_000, ("id", runId));
            Console.WriteLine();
            SqlCommand.Query(con, "SELECT settings FROM runs WHERE run_id = $id", 1, ("id", runId));
            return Task.FromResult(0);
        }));
        cmd.Add(show);
        return cmd;
    }

    /// <summary>A run id as given, or the latest run's for 'latest'.</summary>
    public static string Resolve(DuckDBConnection con, string id)
    {
        using var c = con.CreateCommand();
        c.CommandText = id == "latest" ? "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1" : "SELECT run_id FROM runs WHERE run_id = $id";
        if (id != "latest") c.Parameters.Add(new DuckDBParameter("id", id));
        return c.ExecuteScalar() as string ?? throw new BadInputException($"no run '{id}' in the runs table.");
    }
}
