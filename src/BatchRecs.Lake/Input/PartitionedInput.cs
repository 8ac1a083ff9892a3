using System.Text.Json;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;

namespace BatchRecs.Lake.Input;

/// <summary>
/// A night's read cut into read tasks: contiguous runs of the listing's files (in path order), about equal in bytes. The
/// coordinator lists and prunes partitions and makes the plan; the tasks read the rows, wherever an executor runs them.
/// Read one after another, the tasks' events are the events of one file-by-file read, so the pairs do not depend on the
/// cut (<see cref="PairAggregator.CombineShards{T}"/>).
/// </summary>
/// <param name="InputDir">the input: a local directory or an <c>az://</c> location.</param>
/// <param name="Window">the event dates read.</param>
/// <param name="Rules">how raw events become strengths.</param>
/// <param name="Tasks">each read task's files, in read order.</param>
/// <param name="PrunedFiles">partitions (and files) the listing left out as outside the window.</param>
public sealed record ReadPlan(string InputDir, ReadWindow Window, EventRules Rules, IReadOnlyList<IReadOnlyList<InputFile>> Tasks, int PrunedFiles)
{
    /// <summary>Lists the input's files in the window and cuts them into at most <paramref name="tasks"/> read tasks.</summary>
    public static async Task<ReadPlan> CreateAsync(string inputDir, ReadWindow window, EventRules rules, int tasks, CancellationToken ct = default)
    {
        var listing = await InteractionReader.ListAsync(inputDir, window, ct);
        return new ReadPlan(inputDir, window, rules, Split(listing.Files, tasks), listing.Pruned);
    }

    /// <summary>Contiguous runs of <paramref name="files"/>, at most <paramref name="tasks"/>, each about an equal share of the bytes.</summary>
    public static IReadOnlyList<IReadOnlyList<InputFile>> Split(IReadOnlyList<InputFile> files, int tasks)
    {
        var bytes = files.Select(f => Math.Max(1, f.Length)).ToArray();
        tasks = Math.Clamp(tasks, 1, Math.Max(1, files.Count));
        double total = bytes.Sum(), share = total / tasks, cumulative = 0;
        var cut = new List<IReadOnlyList<InputFile>>();
        var current = new List<InputFile>();
        for (int f = 0; f < files.Count; f++)
        {
            // A task ends before the file whose middle lies past its share, or when each task still to come needs one of
            // the files left.
            bool last = cut.Count == tasks - 1;
            if (current.Count > 0 && !last && (cumulative + bytes[f] / 2.0 > share * (cut.Count + 1) || files.Count - f <= tasks - 1 - cut.Count))
            {
                cut.Add(current);
                current = [];
            }
            current.Add(files[f]);
            cumulative += bytes[f];
        }
        if (current.Count > 0 || cut.Count == 0) cut.Add(current);
        return cut;
    }

    /// <summary>Reads task <paramref name="task"/>'s files (<paramref name="parallelism"/> decoded at once).</summary>
    public Task<ReadResult> ReadTaskAsync(int task, int parallelism, CancellationToken ct = default) =>
        InteractionReader.ReadFilesAsync(Tasks[task], Window, Rules, parallelism, ct);

    private sealed record Json(string InputDir, DateOnly RunDate, int LookbackDays, string? Zone, EventRules Rules, List<List<FileJson>> Tasks, int PrunedFiles);

    private sealed record FileJson(string Path, DateOnly? Day, string? Problem, long Length, DateTime? ModifiedUtc);

    /// <summary>The plan as JSON, for read tasks on other hosts.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Json(InputDir, Window.RunDate, Window.LookbackDays, Window.Zone?.Id, Rules,
        Tasks.Select(t => t.Select(f => new FileJson(f.Path, f.Day, f.Problem, f.Length, f.ModifiedUtc)).ToList()).ToList(), PrunedFiles));

    public static ReadPlan FromJson(string json)
    {
        var j = JsonSerializer.Deserialize<Json>(json) ?? throw new InvalidDataException("an empty read plan.");
        var zone = j.Zone is null ? null : TimeZoneInfo.FindSystemTimeZoneById(j.Zone);
        return new ReadPlan(j.InputDir, new ReadWindow(j.RunDate, j.LookbackDays, zone), j.Rules,
            j.Tasks.Select(t => (IReadOnlyList<InputFile>)t.Select(f => new InputFile(f.Path, f.Day, f.Problem) { Length = f.Length, ModifiedUtc = f.ModifiedUtc }).ToList()).ToList(),
            j.PrunedFiles);
    }
}

/// <summary>
/// The read stage's outcome: what the read found, the run's id maps (the union of the read tasks'), and where the tasks'
/// events are — in this process, or in a distributed executor's scratch area — until <see cref="Combine"/> turns them into
/// pairs (the pairs stage's shard tasks, run by the same executor).
/// </summary>
public abstract class InputRead(ReadStats stats, IdMap userIds, IdMap itemIds, int[]?[] userRemaps, int[]?[] itemRemaps)
{
    public ReadStats Stats { get; } = stats;
    public IdMap UserIds { get; } = userIds;
    public IdMap ItemIds { get; } = itemIds;
    /// <summary>Per read task, its user index → the run's (null: the same).</summary>
    public int[]?[] UserRemaps { get; } = userRemaps;
    public int[]?[] ItemRemaps { get; } = itemRemaps;

    /// <summary>
    /// The pairs stage: the read tasks' events combined into pairs shard by shard, each shard split where it is combined
    /// (<see cref="TemporalSplit.Split"/>), and laid out as the split's matrices; the events are let go.
    /// </summary>
    /// <param name="rule">how a pair's strengths combine.</param>
    /// <param name="split">the hold-out and the times to keep.</param>
    /// <param name="ct">cancels the stage.</param>
    public abstract SplitPairs CombineSplit(CombineRule rule, PairSplit split, CancellationToken ct);

    /// <summary>The pairs (sorted by user, then item) as a log with their last times; the read tasks' events are let go.</summary>
    /// <param name="rule">how a pair's strengths combine.</param>
    /// <param name="firstTimes">also keep each pair's first event time.</param>
    /// <param name="ct">cancels the stage.</param>
    public InteractionLog Combine(CombineRule rule, bool firstTimes, CancellationToken ct) => CombineSplit(rule, PairSplit.Whole(firstTimes), ct).ToLog();

    /// <summary>
    /// Merges the read tasks' outcomes, in task order: the id maps' union (the id columns' kinds must agree across tasks, as
    /// across files), and the files, rows and times found. A read task fails on its first bad file, so the first failed task
    /// in order holds the first bad file in read order: the caller rethrows that one.
    /// </summary>
    public static (ReadStats Stats, IdMap Users, IdMap Items, int[]?[] UserRemaps, int[]?[] ItemRemaps) Merge(IReadOnlyList<ReadStats> parts,
        IReadOnlyList<IdMap> users, IReadOnlyList<IdMap> items, int prunedFiles)
    {
        RequireOneKind(parts, p => p.IdKinds.Users, InteractionReader.UserColumn);
        RequireOneKind(parts, p => p.IdKinds.Items, InteractionReader.ItemColumn);
        var (userMap, userRemaps) = IdMap.Union(users);
        var (itemMap, itemRemaps) = IdMap.Union(items);
        var stats = new ReadStats(parts.SelectMany(p => p.Files).ToList(), prunedFiles, parts.Sum(p => p.RowsRead), parts.Sum(p => p.RowsInWindow),
            parts.SelectMany(p => p.Skipped).ToList(), parts.Aggregate(ObservedTimes.None, (seen, p) => seen.Union(p.Times ?? ObservedTimes.None)))
        {
            IdKinds = (parts.Select(p => p.IdKinds.Users).FirstOrDefault(k => k is not null), parts.Select(p => p.IdKinds.Items).FirstOrDefault(k => k is not null),
                parts.Select(p => p.IdKinds.File).FirstOrDefault(f => f is not null)),
        };
        return (stats, userMap, itemMap, userRemaps, itemRemaps);
    }

    /// <summary>The kinds must agree across tasks as across files: the reader's own check, task by task.</summary>
    private static void RequireOneKind(IReadOnlyList<ReadStats> parts, Func<ReadStats, IdKind?> kindOf, string column)
    {
        var collector = new IdCollector(column);
        foreach (var part in parts)
            if (kindOf(part) is { } kind) collector.SetKind(kind, part.IdKinds.File!);
    }
}

/// <summary>An executor that runs the read and pairs stages' tasks where it runs block tasks (a distributed one: on its workers).</summary>
public interface IReadExecutor
{
    /// <summary>How many read tasks a plan for this executor is cut into.</summary>
    int ReadTasks { get; }

    /// <summary>Runs the plan's read tasks; the events stay where the tasks ran until <see cref="InputRead.Combine"/>.</summary>
    Task<InputRead> ReadAsync(ReadPlan plan, CancellationToken ct);
}

/// <summary>
/// The read and pairs stages in this process: read tasks on all cores (each decodes its files one at a time; their ids
/// are merged once, not file by file), their events kept in memory, then combined shard by shard in parallel.
/// </summary>
public sealed class LocalRead : IReadExecutor
{
    public static LocalRead Instance { get; } = new();

    /// <summary>Read tasks per core: a few, so a task of large files does not leave the other cores idle at the end.</summary>
    public const int TasksPerCore = 2;

    public int ReadTasks => TasksPerCore * Environment.ProcessorCount;

    public async Task<InputRead> ReadAsync(ReadPlan plan, CancellationToken ct)
    {
        var results = new ReadResult?[plan.Tasks.Count];
        var errors = new Exception?[plan.Tasks.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, plan.Tasks.Count), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
            async (t, token) =>
            {
                try { results[t] = await plan.ReadTaskAsync(t, 1, token); }
                catch (Exception e) when (e is not OperationCanceledException) { errors[t] = e; }
            });
        if (errors.FirstOrDefault(e => e is not null) is { } first) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        var parts = results.Select(r => r!).ToList();
        var (stats, users, items, userRemaps, itemRemaps) = InputRead.Merge(parts, parts.Select(p => p.Events.UserIds).ToList(),
            parts.Select(p => p.Events.ItemIds).ToList(), plan.PrunedFiles);
        return new InMemoryRead(stats, users, items, userRemaps, itemRemaps, parts.Select(p => p.Events).ToList());
    }
}

/// <summary>Read tasks' events held in this process (the local executor's, or one reader's whole log: <see cref="Of"/>).</summary>
public sealed class InMemoryRead : InputRead
{
    private List<EventLog>? _events;

    public InMemoryRead(ReadStats stats, IdMap userIds, IdMap itemIds, int[]?[] userRemaps, int[]?[] itemRemaps, List<EventLog> events)
        : base(stats, userIds, itemIds, userRemaps, itemRemaps) => _events = events;

    /// <summary>One reader's whole log as a read of one task (reader=duckdb reads in one process).</summary>
    public static InMemoryRead Of(ReadResult read) =>
        new(read, read.Events.UserIds, read.Events.ItemIds, [null], [null], [read.Events]);

    public override SplitPairs CombineSplit(CombineRule rule, PairSplit split, CancellationToken ct)
    {
        var events = _events ?? throw new InvalidOperationException("the read's events were already combined.");
        _events = null;
        var sources = events.Select((e, t) => new PairSource(e, UserRemaps[t], ItemRemaps[t])).ToList();
        var shards = PairAggregator.CombineShards(sources, UserIds.Count, rule, consume: true, split.FirstTimes, shard => TemporalSplit.Split(shard, split));
        return SplitPairs.Layout(UserIds, ItemIds, split, shards);
    }
}
