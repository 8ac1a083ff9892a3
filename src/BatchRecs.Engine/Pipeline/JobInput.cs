using BatchRecs.Core.Data;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;
using BatchRecs.Lake.Storage;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// How a job's settings turn into its input: the read window, the reader, the event rules and the pair-combining rule.
/// Shared by runs and tunings so that a tuning sees exactly the pairs a run would.
/// </summary>
public static class JobInput
{
    /// <summary>Run date D reads D − lookback_days ≤ event date &lt; D, dates in the job's time zone.</summary>
    public static ReadWindow Window(DateOnly runDate, JobDefinition job, JobSettings settings) => new(runDate, settings.LookbackDays, job.Zone);

    /// <summary>
    /// The read stage: the input listed and pruned here, its files read by <paramref name="executor"/>'s read tasks (on a
    /// distributed executor's workers), or by DuckDB in this process under reader=duckdb.
    /// </summary>
    public static async Task<InputRead> ReadAsync(string inputDir, DateOnly runDate, JobDefinition job, JobSettings settings, IReadExecutor executor,
        CancellationToken ct)
    {
        var window = Window(runDate, job, settings);
        var input = settings.Input;
        var rules = new EventRules(settings.EventWeights, 1f, input.HalfLifeDays, input.EpochUnitSymbol, input.SkipBadFiles);
        if (input.Reader == ReaderKind.DuckDb && LakeLocation.IsObjectStore(inputDir))
            throw new SettingsException("reader", $"reader=duckdb reads local files only (DuckDB's azure extension is not installed); read '{inputDir}' with reader=parquet.");
        if (input.Reader == ReaderKind.DuckDb) return InMemoryRead.Of(await DuckDbInteractionReader.ReadAsync(inputDir, window, rules, ct));
        return await executor.ReadAsync(await ReadPlan.CreateAsync(inputDir, window, rules, executor.ReadTasks, ct), ct);
    }

    /// <summary>The read and pairs stages' executor: the run's, when it runs read tasks, else this process.</summary>
    public static IReadExecutor ReadExecutor(Core.Execution.IExecutor? executor) => executor as IReadExecutor ?? LocalRead.Instance;

    /// <summary>
    /// Fails before anything is read when the input's id kinds (from one file's footer) differ from those the lake's
    /// catalog already holds: the run would otherwise fail only at publish, after the whole fit.
    /// </summary>
    public static async Task CheckIdKindsAsync(string inputDir, string lakeDir, ReadWindow window, CancellationToken ct)
    {
        var (catalogUsers, catalogItems) = DuckDbCatalog.IdKinds(lakeDir);
        if (catalogUsers is null && catalogItems is null) return;
        var inWindow = (await InputDirectory.ListAsync(inputDir, window, ct)).Files.Where(f => f.Problem is null).Select(f => f.Path);
        var (users, items, file) = await InputIdKinds.OfFirstAsync(inWindow, ct);
        foreach (var (column, input, catalog) in new[] { ("user_id", users, catalogUsers), ("item_id", items, catalogItems) })
            if (input is not null && catalog is not null && input != catalog)
                throw new LakeInputException(
                    $"{file}: column '{column}' is {Name(input.Value)}, but the lake's catalog {Path.Combine(lakeDir, DuckDbCatalog.FileName)} holds {Name(catalog.Value)} {column}s; " +
                    "publish into a new lake, or import the input with the catalog's id kind.", file, column);
    }

    private static string Name(IdKind kind) => kind == IdKind.String ? "STRING" : "INT64";

    /// <summary>A window without events is bad input; the error says what dates the input's events do have.</summary>
    public static void RequireEvents(ReadStats read, DateOnly runDate, JobDefinition job, JobSettings settings)
    {
        if (read.RowsInWindow == 0)
            throw new LakeInputException(EmptyWindow.Explain(read, Window(runDate, job, settings), settings.Input.EpochUnitSymbol));
    }

    public static CombineRule Combine(JobSettings settings) => settings.Input.Combine;
}
