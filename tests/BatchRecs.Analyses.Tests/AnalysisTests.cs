using DuckDB.NET.Data;

namespace BatchRecs.Analyses.Tests;

/// <summary>
/// Every SQL file in <c>analyses/</c> runs unchanged on the demo lake through DuckDB.NET, opened the two ways other
/// DuckDB clients open the catalog (the file read-only, and <c>ATTACH … (READ_ONLY)</c> then <c>USE</c>), declares its
/// question, inputs, parameters and columns in its header, returns exactly the declared columns, and returns rows.
/// </summary>
[Collection(DemoLakeCollection.Name)]
public sealed class AnalysisTests(DemoLakeFixture demo)
{
    public static TheoryData<string> Analyses() => new(AnalysisFile.Names());

    [Fact]
    public void The_analyses_are_there()
    {
        var names = AnalysisFile.Names();
        foreach (var expected in new[] { "tonights_quality", "exposure", "list_changes", "coverage_by_segment", "cold_users", "similar_items" })
            Assert.Contains(expected, names);
    }

    [Theory]
    [MemberData(nameof(Analyses))]
    public void The_header_states_the_question_inputs_params_and_columns(string name)
    {
        var file = AnalysisFile.Load(name);
        foreach (var key in new[] { "question", "inputs", "params", "returns" })
            Assert.True(file.Header.TryGetValue(key, out var v) && v.Length > 0, $"{name}.sql has no '-- {key}:' line");
        Assert.NotEmpty(file.Returns);
        Assert.All(file.Returns, c => Assert.Matches(@"^[a-z_][a-z0-9_]*$", c.Name));
        Assert.All(file.Returns, c => Assert.Matches(@"^(ID|BIGINT|INTEGER|DOUBLE|FLOAT|VARCHAR|DATE|TIMESTAMP|BOOLEAN|DECIMAL.*|[A-Z]+\[\])$", c.Type));
        // The parameters it declares are the variables it reads, and the other way round.
        Assert.Equal(file.Params.Order(StringComparer.Ordinal), file.VariablesRead);
    }

    [Theory]
    [MemberData(nameof(Analyses))]
    public void It_returns_the_declared_columns_and_rows_on_the_catalog_opened_read_only(string name)
    {
        var file = AnalysisFile.Load(name);
        using var con = new DuckDBConnection($"Data Source={demo.Catalog};ACCESS_MODE=READ_ONLY");
        con.Open();
        AssertDeclared(file, SqlResult.Run(con, file.Text));
    }

    [Theory]
    [MemberData(nameof(Analyses))]
    public void It_runs_unchanged_with_the_catalog_attached_read_only(string name)
    {
        var file = AnalysisFile.Load(name);
        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        using (var c = con.CreateCommand())
        {
            c.CommandText = $"ATTACH '{demo.Catalog.Replace("'", "''")}' AS lake (READ_ONLY); USE lake;";
            c.ExecuteNonQuery();
        }
        AssertDeclared(file, SqlResult.Run(con, file.Text));
    }

    [Theory]
    [MemberData(nameof(Analyses))]
    public async Task Batchrecs_sql_runs_it_read_only_and_prints_the_declared_columns(string name)
    {
        var file = AnalysisFile.Load(name);
        var r = await CliProcess.RunAsync("sql", "--file", Path.Combine(AnalysisFile.Folder, name + ".sql"), "--lake", demo.Lake, "--max-rows", "100000");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.StdErr}");
        var table = CliTable.Parse(r.StdOut);
        Assert.Equal(file.Returns.Select(c => c.Name), table.Columns);
        Assert.NotEmpty(table.Rows);
    }

    private static void AssertDeclared(AnalysisFile file, SqlResult result)
    {
        Assert.Equal(file.Returns.Select(c => c.Name), result.Columns);
        for (int i = 0; i < result.Columns.Count; i++)
            Assert.True(AnalysisFile.TypeMatches(file.Returns[i].Type, result.Types[i]),
                $"{file.Name}.sql: column {result.Columns[i]} is {result.Types[i]}, the header says {file.Returns[i].Type}");
        Assert.True(result.Rows.Count > 0, $"{file.Name}.sql returned no rows on the demo lake");
    }

    // ---- what the results say, against the demo lake's own tables ----

    private SqlResult RunOnCatalog(string name, string? before = null)
    {
        using var con = new DuckDBConnection($"Data Source={demo.Catalog};ACCESS_MODE=READ_ONLY");
        con.Open();
        return SqlResult.Run(con, (before ?? "") + AnalysisFile.Load(name).Text);
    }

    [Fact]
    public void A_parameter_works_preset_as_a_DuckDB_CLI_user_would_set_it_and_unset_its_default_is_recomputed()
    {
        using var con = new DuckDBConnection($"Data Source={demo.Catalog};ACCESS_MODE=READ_ONLY");
        con.Open();
        string sql = AnalysisFile.Load("tonights_quality").Text;

        var tonight = SqlResult.Run(con, sql);
        Assert.All(Enumerable.Range(0, tonight.Rows.Count), i => Assert.Equal(DemoLakeFixture.Today, tonight.Text(i, "run_date")));

        // A text value, as `SET VARIABLE run_date = '2026-11-26'` in the DuckDB CLI sets it.
        var yesterday = SqlResult.Run(con, $"SET VARIABLE run_date = '{DemoLakeFixture.Yesterday}';\n" + sql);
        Assert.All(Enumerable.Range(0, yesterday.Rows.Count), i => Assert.Equal(DemoLakeFixture.Yesterday, yesterday.Text(i, "run_date")));
        Assert.NotEqual(tonight.Text(0, "run_id"), yesterday.Text(0, "run_id"));

        // The file never overwrote run_date (it resolves into resolved_run_date), so unsetting it brings the default back.
        var again = SqlResult.Run(con, "RESET VARIABLE run_date;\n" + sql);
        Assert.Equal(DemoLakeFixture.Today, again.Text(0, "run_date"));
    }

    [Fact]
    public void Tonights_quality_is_the_runs_own_metrics()
    {
        var q = RunOnCatalog("tonights_quality");
        int ndcg = Enumerable.Range(0, q.Rows.Count).Single(i => q.Text(i, "metric") == "ndcg@20");
        string runId = q.Text(ndcg, "run_id");
        double model = Convert.ToDouble(DuckQuery.Rows($"SELECT value FROM run_metrics WHERE run_id = '{runId}' AND metric = 'model.ndcg@20'", demo.Catalog)[0][0]);
        double popular = Convert.ToDouble(DuckQuery.Rows($"SELECT value FROM run_metrics WHERE run_id = '{runId}' AND metric = 'popular.ndcg@20'", demo.Catalog)[0][0]);
        Assert.Equal(Math.Round(model, 4), q.Number(ndcg, "model"), 6);
        Assert.Equal(Math.Round(popular, 4), q.Number(ndcg, "popular"), 6);
        Assert.Equal(Math.Round(model / popular, 2), q.Number(ndcg, "lift"), 6);
        Assert.Equal(runId, Convert.ToString(DuckQuery.Rows($"SELECT any_value(run_id) FROM recommendations WHERE run_date = DATE '{DemoLakeFixture.Today}'", demo.Catalog)[0][0]));
    }

    [Fact]
    public void Run_history_shows_the_failed_run_with_its_reason()
    {
        var h = RunOnCatalog("run_history");
        Assert.Equal(3, h.Rows.Count);
        int failed = Enumerable.Range(0, h.Rows.Count).Single(i => h.Text(i, "status") == "failed");
        Assert.Equal(DemoLakeFixture.FailedDate, h.Text(failed, "run_date"));
        Assert.Contains("no Parquet files", h.Text(failed, "reason"));
        Assert.Equal(0, failed); // newest first: it started last
    }

    [Fact]
    public void Cold_users_reports_every_list_as_als_and_popular_at_zero_until_the_fallback_lands()
    {
        var c = RunOnCatalog("cold_users");
        long users = DuckQuery.Scalar($"SELECT count(DISTINCT user_id) FROM recommendations WHERE run_date = DATE '{DemoLakeFixture.Today}'", demo.Catalog);
        Assert.Equal(new[] { "als", "popular" }, Enumerable.Range(0, c.Rows.Count).Select(i => c.Text(i, "source")));
        Assert.Equal(users, (long)c.Number(0, "users"));
        Assert.Equal(100.0, c.Number(0, "pct_users"));
        Assert.Equal(0, c.Number(1, "users"));
        Assert.Equal(0.0, c.Number(1, "pct_users"));
    }

    [Fact]
    public void Similar_items_are_the_k_nearest_by_cosine_without_the_item_itself()
    {
        var s = RunOnCatalog("similar_items");
        Assert.Equal(10, s.Rows.Count);
        string item = s.Text(0, "item_id");
        Assert.All(Enumerable.Range(0, 10), i => Assert.NotEqual(item, s.Text(i, "similar_item_id")));
        var cosines = Enumerable.Range(0, 10).Select(i => s.Number(i, "cosine")).ToList();
        Assert.Equal(cosines.OrderByDescending(x => x), cosines);
        // The nearest is the true maximum over all other items (brute force, in DuckDB).
        double best = Convert.ToDouble(DuckQuery.Rows($"""
            SELECT max(list_cosine_similarity(a.factors, b.factors)) FROM item_factors a JOIN item_factors b ON a.item_id <> b.item_id
            WHERE CAST(a.item_id AS VARCHAR) = '{item}'
            """, demo.Catalog)[0][0]);
        Assert.Equal(Math.Round(best, 4), cosines[0], 6);
    }

    [Fact]
    public void Exposure_covers_every_item_of_the_model_and_its_shares_add_up()
    {
        var e = RunOnCatalog("exposure");
        Assert.Equal(DuckQuery.Scalar("SELECT count(*) FROM item_propensity", demo.Catalog), e.Rows.Count);
        Assert.Equal(1.0, Enumerable.Range(0, e.Rows.Count).Sum(i => e.Number(i, "demand_share")), 6);
        Assert.Equal(1.0, Enumerable.Range(0, e.Rows.Count).Sum(i => e.Number(i, "exposure_share")), 6);
    }

    [Fact]
    public void List_changes_defaults_to_a_user_listed_on_both_dates()
    {
        var l = RunOnCatalog("list_changes");
        Assert.Equal(DemoLakeFixture.Today, l.Text(0, "run_date"));
        Assert.Equal(DemoLakeFixture.Yesterday, l.Text(0, "previous_run_date"));
        Assert.Contains(Enumerable.Range(0, l.Rows.Count), i => l.Text(i, "rank_before") != "" && l.Text(i, "rank_now") != "");
        Assert.Single(Enumerable.Range(0, l.Rows.Count).Select(i => l.Text(i, "user_id")).Distinct());
    }

    // ---- batchrecs sql --file with variables, and a file that writes ----

    [Fact]
    public async Task Set_var_picks_the_run_date_the_user_and_the_item()
    {
        string qualityFile = Path.Combine(AnalysisFile.Folder, "tonights_quality.sql");
        var yesterday = CliTable.Parse((await Sql("--file", qualityFile, "--set-var", $"run_date={DemoLakeFixture.Yesterday}")).StdOut);
        Assert.All(Enumerable.Range(0, yesterday.Rows.Count), i => Assert.Equal(DemoLakeFixture.Yesterday, yesterday.Cell(i, "run_date")));

        string user = Convert.ToString(DuckQuery.Rows("SELECT max(user_id) FROM current_recommendations", demo.Catalog)[0][0], System.Globalization.CultureInfo.InvariantCulture)!;
        var changes = CliTable.Parse((await Sql("--file", Path.Combine(AnalysisFile.Folder, "list_changes.sql"), "--set-var", $"user_id={user}")).StdOut);
        Assert.NotEmpty(changes.Rows);
        Assert.All(Enumerable.Range(0, changes.Rows.Count), i => Assert.Equal(user, changes.Cell(i, "user_id")));

        string item = Convert.ToString(DuckQuery.Rows("SELECT min(item_id) FROM item_factors", demo.Catalog)[0][0], System.Globalization.CultureInfo.InvariantCulture)!;
        var similar = CliTable.Parse((await Sql("--file", Path.Combine(AnalysisFile.Folder, "similar_items.sql"), "--set-var", $"item_id={item}", "--set-var", "k=3")).StdOut);
        Assert.Equal(3, similar.Rows.Count);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(item, similar.Cell(i, "item_id")));
    }

    [Fact]
    public async Task Set_var_values_are_bound_and_typed_never_spliced_into_SQL()
    {
        using var lake = demo.CopyLake();
        var before = LakeFingerprint.Of(lake.Path);
        const string hostile = "x'; DROP TABLE runs; --";
        var r = await CliProcess.RunAsync("sql",
            "SELECT getvariable('s') AS s, typeof(getvariable('d')) AS d, typeof(getvariable('n')) AS n, typeof(getvariable('z')) AS z, getvariable('z') AS zv",
            "--set-var", $"s={hostile}", "--set-var", "d=2026-11-27", "--set-var", "n=42", "--set-var", "z=007", "--lake", lake.Path);
        Assert.True(r.ExitCode == 0, r.StdErr);
        var t = CliTable.Parse(r.StdOut);
        Assert.Equal(hostile, t.Cell(0, "s"));
        Assert.Equal(new[] { "DATE", "BIGINT", "VARCHAR", "007" }, new[] { t.Cell(0, "d"), t.Cell(0, "n"), t.Cell(0, "z"), t.Cell(0, "zv") });
        Assert.Equal("", LakeFingerprint.Diff(before, LakeFingerprint.Of(lake.Path)));

        var bad = await CliProcess.RunAsync("sql", "SELECT 1", "--set-var", "x) = 1; DROP TABLE runs; SET VARIABLE (y=2", "--lake", lake.Path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--set-var", bad.StdErr);
    }

    [Fact]
    public async Task A_file_that_writes_is_refused_at_that_statement_and_the_lake_is_untouched()
    {
        using var lake = demo.CopyLake();
        using var dir = new TempDirectory();
        string file = dir.Sub("sneaky.sql");
        File.WriteAllText(file, $"""
            -- question: looks harmless
            SET VARIABLE x = 1;
            SELECT getvariable('x') AS x;
            COPY (SELECT * FROM runs) TO '{lake.Path}/runs.csv';
            """);
        var before = LakeFingerprint.Of(lake.Path);
        var r = await CliProcess.RunAsync("sql", "--file", file, "--lake", lake.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("statement 3", r.StdErr);
        Assert.Contains("COPY", r.StdErr);
        Assert.Contains("refused", r.StdErr);
        Assert.Equal("", LakeFingerprint.Diff(before, LakeFingerprint.Of(lake.Path)));
    }

    [Fact]
    public async Task Statements_are_split_at_semicolons_outside_strings_identifiers_and_comments()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("tricky.sql");
        File.WriteAllText(file, """
            -- a comment; with a semicolon
            SET VARIABLE a = 'x;y';  /* a block; /* nested; */ comment */
            SELECT getvariable('a') AS a, $$dollar;quoted$$ AS b, $tag$also;$tag$ AS c, E'it\'s;' AS d, 'it''s;' AS e, "semi;colon".v AS f
            FROM (SELECT 1 AS v) AS "semi;colon";
            -- trailing comment; no statement
            """);
        var r = await CliProcess.RunAsync("sql", "--file", file, "--lake", demo.Lake);
        Assert.True(r.ExitCode == 0, r.StdErr);
        var t = CliTable.Parse(r.StdOut);
        Assert.Equal(new[] { "x;y", "dollar;quoted", "also;", "it's;", "it's;", "1" }, t.Columns.Select(c => t.Cell(0, c)));
    }

    [Fact]
    public async Task A_query_or_a_file_is_needed_and_a_missing_file_is_named()
    {
        var none = await Sql();
        Assert.Equal(2, none.ExitCode);
        var both = await Sql("SELECT 1", "--file", "x.sql");
        Assert.Equal(2, both.ExitCode);
        var missing = await Sql("--file", "analyses/no_such_analysis.sql");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no_such_analysis.sql", missing.StdErr);
    }

    private Task<CliProcess.Result> Sql(params string[] args) => CliProcess.RunAsync(["sql", .. args, "--lake", demo.Lake]);
}
