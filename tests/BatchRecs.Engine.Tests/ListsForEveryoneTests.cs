namespace BatchRecs.Engine.Tests;

/// <summary>
/// A whole run with users_input (segments, users without history), min_history, exclude_input (a global ban and
/// per-user exclusions), items_input's availability and categories, and max_per_category; what it publishes is read
/// back with DuckDB and checked against the inputs.
/// </summary>
public class ListsForEveryoneTests
{
    private const int TopN = 10, Cap = 3, MinHistory = 4;

    [Fact]
    public async Task Every_listed_user_gets_a_full_list_that_keeps_every_rule()
    {
        using var dir = new TempDirectory("batchrecs-lists");
        string input = dir.Sub("input"), lake = dir.Sub("lake"), side = dir.Sub("side");
        Directory.CreateDirectory(side);
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "600", "--items", "200", "--interactions", "9000",
            "--days", "10", "--end-date", "2026-04-30", "--seed", "3")).ExitCode);
        string events = $"read_parquet('{input}/dt=*/*.parquet')";
        // Per user: distinct items in the window; the most popular item (banned) and the second (unavailable).
        var history = DuckQuery.Rows($"SELECT user_id, count(DISTINCT item_id) FROM {events} GROUP BY user_id ORDER BY user_id")
            .ToDictionary(r => Convert.ToInt64(r[0]), r => Convert.ToInt64(r[1]));
        var popular = DuckQuery.Rows($"SELECT item_id FROM {events} GROUP BY item_id ORDER BY count(DISTINCT user_id) DESC, item_id LIMIT 6")
            .Select(r => Convert.ToInt64(r[0])).ToArray();
        long banned = popular[0], unavailable = popular[1];
        long heavy = history.MaxBy(kv => kv.Value).Key;
        long[] heavyExcluded = [popular[2], popular[3]];
        long[] newDe = [900001, 900002], newFr = [900003];
        long sparse = history.Where(kv => kv.Value < MinHistory).Select(kv => kv.Key).DefaultIfEmpty(-1).First();

        // users_input: every existing user with an even id is in DE (a large segment), a few others in FR (small), plus new users.
        string users = Path.Combine(side, "users.parquet");
        var existing = history.Keys.ToArray();
        string userRows = string.Join(",", existing.Select(u => $"({u}, '{(u % 2 == 0 ? "DE" : u % 37 == 1 ? "FR" : "US")}')")
            .Concat(newDe.Select(u => $"({u}, 'DE')")).Concat(newFr.Select(u => $"({u}, 'FR')")));
        DuckQuery.Rows($"COPY (SELECT * FROM (VALUES {userRows}) t(user_id, country)) TO '{users}' (FORMAT parquet)");
        string exclude = Path.Combine(side, "exclude.parquet");
        DuckQuery.Rows($"COPY (SELECT * FROM (VALUES (NULL::BIGINT, {banned}::BIGINT), ({heavy}, {heavyExcluded[0]}), ({heavy}, {heavyExcluded[1]}), ({newDe[0]}, {popular[4]}))" +
                       $" t(user_id, item_id)) TO '{exclude}' (FORMAT parquet)");
        string items = Path.Combine(side, "items.parquet");
        DuckQuery.Rows($"COPY (SELECT DISTINCT item_id, 'item ' || item_id AS title, 'c' || (item_id % 4) AS category, item_id <> {unavailable} AS available FROM {events})" +
                       $" TO '{items}' (FORMAT parquet)");

        var run = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "lookback_days=30",
            "--set", "quality_gate=false", "--set", "retention_days=36500", "--set", $"top_n={TopN}", "--set", "factors=8", "--set", "iterations=4",
            "--set", $"users_input={users}", "--set", $"exclude_input={exclude}", "--set", $"items_input={items}", "--set", $"max_per_category={Cap}",
            "--set", $"min_history={MinHistory}", "--set", "min_segment_users=20");
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);

        string parts = $"read_parquet('{lake}/recommendations/run_date=2026-05-01/*.parquet')";
        var lists = DuckQuery.Rows($"SELECT user_id, item_id, rank, source FROM {parts} ORDER BY user_id, rank")
            .GroupBy(r => Convert.ToInt64(r[0]))
            .ToDictionary(g => g.Key, g => g.Select(r => (Item: Convert.ToInt64(r[1]), Source: (string)r[3])).ToArray());

        // Everyone listed or with history gets a full list; sources follow min_history.
        Assert.Equal(existing.Length + newDe.Length + newFr.Length, lists.Count);
        Assert.All(lists, kv => Assert.Equal(TopN, kv.Value.Length));
        foreach (long u in newDe.Concat(newFr)) Assert.All(lists[u], r => Assert.Equal("popular", r.Source));
        foreach (var (u, n) in history) Assert.All(lists[u], r => Assert.Equal(n < MinHistory ? "popular" : "als", r.Source));
        if (sparse >= 0) Assert.Equal("popular", lists[sparse][0].Source);

        // Bans and unavailability apply to everyone; exclusions to their user only; the category cap to every list.
        Assert.DoesNotContain(lists.Values.SelectMany(l => l), r => r.Item == banned || r.Item == unavailable);
        Assert.DoesNotContain(lists[heavy], r => heavyExcluded.Contains(r.Item));
        Assert.DoesNotContain(lists[newDe[0]], r => r.Item == popular[4]);
        Assert.Contains(lists[newDe[1]], r => r.Item == popular[4]);
        Assert.All(lists.Values, l => Assert.True(l.GroupBy(r => r.Item % 4).All(g => g.Count() <= Cap)));
        // Bans and unavailability apply to similar items too: such items have no list and are nobody's neighbour.
        string similar = $"read_parquet('{lake}/similar_items/run_date=2026-05-01/*.parquet')";
        Assert.True(DuckQuery.Scalar($"SELECT count(*) FROM {similar}") > 0);
        Assert.Equal(0, DuckQuery.Scalar($"SELECT count(*) FROM {similar} WHERE item_id IN ({banned}, {unavailable}) OR similar_item_id IN ({banned}, {unavailable})"));
        // Nobody gets an item they have.
        var seen = DuckQuery.Rows($"SELECT DISTINCT user_id, item_id FROM {events}").Select(r => (Convert.ToInt64(r[0]), Convert.ToInt64(r[1]))).ToHashSet();
        Assert.DoesNotContain(lists.SelectMany(kv => kv.Value.Select(r => (kv.Key, r.Item))), seen.Contains);

        // A large segment gets its own popularity; a small one (FR: under min_segment_users) everyone's.
        var de = lists[newDe[1]].Select(r => r.Item).ToArray();
        var fr = lists[newFr[0]].Select(r => r.Item).ToArray();
        Assert.NotEqual(de, fr);
        Assert.Equal(ExpectedFallback($"{events} WHERE user_id % 2 = 0", banned, unavailable), de);
        Assert.Equal(ExpectedFallback(events, banned, unavailable), fr);

        string db = Path.Combine(lake, "batchrecs.duckdb");
        double Metric(string name) => (double)DuckQuery.Rows($"SELECT value FROM run_metrics WHERE metric = '{name}'", db).Single()[0];
        long fallbackUsers = history.Count(kv => kv.Value < MinHistory) + newDe.Length + newFr.Length;
        Assert.Equal(fallbackUsers, Metric("lists.users_popular"));
        Assert.Equal(existing.Length - history.Count(kv => kv.Value < MinHistory), Metric("lists.users_als"));
        Assert.Equal(existing.Length + 3, Metric("lists.users_listed"));
        Assert.Equal(1, Metric("rules.banned_items"));
        Assert.Equal(1, Metric("rules.unavailable_items"));
        Assert.Equal(3, Metric("rules.excluded_pairs"));
        Assert.True(Metric("rules.candidates_removed") >= Metric("rules.category_removed") && Metric("rules.category_removed") > 0);
        Assert.Equal(0, Metric("lists.short"));

        // The run's report shows who got which source and what the rules removed.
        string report = File.ReadAllText(Directory.GetFiles(Path.Combine(lake, "reports"), "*.html").Single());
        Assert.Contains($"<th>candidates the rules removed</th><td>{Metric("rules.candidates_removed"):#,0}", report);
        Assert.Contains($"<th>lists by source</th><td>als {Metric("lists.users_als"):#,0}, popular {fallbackUsers:#,0}", report);
    }

    [Theory]
    [InlineData("users_input", "SELECT * FROM (VALUES (1::BIGINT, 'DE'), (NULL::BIGINT, 'FR')) t(user_id, country)", "'user_id', row group 0, row 1: null id")]
    [InlineData("exclude_input", "SELECT * FROM (VALUES ('x1'), ('x2')) t(item_id)", "'item_id', row group 0, row 0: id of type String where the interaction log's ids are integers")]
    [InlineData("items_input", "SELECT * FROM (VALUES (1::BIGINT, true), (2::BIGINT, NULL)) t(item_id, available)", "'available', row group 0, row 1: null; write true or false")]
    public async Task A_bad_side_input_fails_the_run_naming_file_column_and_row_and_leaves_the_published_night_alone(string setting, string rows, string expected)
    {
        using var dir = new TempDirectory("batchrecs-lists-bad");
        string input = dir.Sub("input"), lake = dir.Sub("lake"), bad = dir.Sub("bad.parquet");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "200", "--items", "80", "--interactions", "3000",
            "--days", "5", "--end-date", "2026-04-30")).ExitCode);
        string[] run = ["run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "lookback_days=10", "--set", "quality_gate=false",
            "--set", "retention_days=36500", "--set", "iterations=2"];
        Assert.Equal(0, (await CliProcess.RunAsync(run)).ExitCode);
        string partition = Path.Combine(lake, "recommendations", "run_date=2026-05-01");
        string before = File.ReadAllText(Path.Combine(partition, "manifest.json"));

        DuckQuery.Rows($"COPY ({rows}) TO '{bad}' (FORMAT parquet)");
        var failed = await CliProcess.RunAsync([.. run, "--set", $"{setting}={bad}"]);
        Assert.Equal(2, failed.ExitCode);
        Assert.Contains($"{setting}: {bad}: column {expected}", failed.StdErr);
        Assert.Equal(before, File.ReadAllText(Path.Combine(partition, "manifest.json")));
    }

    /// <summary>The popularity order of <paramref name="from"/> (distinct users per item), without the two rule items, under the category cap.</summary>
    private static long[] ExpectedFallback(string from, long banned, long unavailable)
    {
        var order = DuckQuery.Rows($"SELECT item_id FROM {from} GROUP BY item_id ORDER BY count(DISTINCT user_id) DESC, item_id")
            .Select(r => Convert.ToInt64(r[0])).Where(i => i != banned && i != unavailable);
        var perCategory = new Dictionary<long, int>();
        var list = new List<long>();
        foreach (long i in order)
        {
            if (list.Count == TopN) break;
            perCategory.TryGetValue(i % 4, out int had);
            if (had == Cap) continue;
            perCategory[i % 4] = had + 1;
            list.Add(i);
        }
        return list.ToArray();
    }
}
