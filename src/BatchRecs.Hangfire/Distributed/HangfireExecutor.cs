using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Lake.Scratch;
using Hangfire;
using Hangfire.States;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>What moving a half-step through Hangfire cost.</summary>
public sealed class DistributedStats
{
    public int HalfSteps { get; internal set; }
    public long BytesWritten { get; internal set; }
    public long BytesRead { get; internal set; }
    /// <summary>Wall time from the first enqueue to the last block gathered, summed over half-steps.</summary>
    public double WaitSeconds { get; internal set; }
    /// <summary>Blocks given to a fresh job because their job was held by a dead worker or stuck before Processing.</summary>
    public int BlocksReenqueued { get; internal set; }
}

/// <summary>
/// Runs ALS block tasks as Hangfire jobs on the <c>blocks</c> queue, taken by any number of <c>batchrecs worker</c>
/// processes that share the Hangfire storage (PostgreSQL) and the lake. For each half-step the coordinator writes the
/// dst factors, their Gram matrix and the src warm start once (the rating CSR once per problem), enqueues one job per
/// block, waits for the blocks' output files (polling the shared file system, not the database), and gathers them.
/// Job states are checked every second so a block that failed for good fails the run with its reason.
/// The result is bit-identical to <see cref="LocalExecutor"/>: the same <see cref="BlockSolver"/> on the same bytes.
/// </summary>
public sealed class HangfireExecutor(JobStorage storage, string scratchDir, TimeSpan? timeout = null) : IExecutor, IDisposable
{
    private readonly IBackgroundJobClient _client = new BackgroundJobClient(storage);
    private readonly ConditionalWeakTable<CsrMatrix, string> _csrFiles = new();
    private int _sequence;

    public string Name => "hangfire";

    public DistributedStats Stats { get; } = new();

    public void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(scratchDir);
        string csrPath = _csrFiles.GetValue(step.Conf, m =>
        {
            string path = Path.Combine(scratchDir, $"csr-{Guid.NewGuid():N}.bin");
            BinaryArrays.WriteCsr(path, m, step.Pref);
            Stats.BytesWritten += new FileInfo(path).Length;
            return path;
        });
        string stepDir = Path.Combine(scratchDir, $"step-{Interlocked.Increment(ref _sequence):D5}");
        Stats.BytesWritten += BlockTaskFiles.WriteStep(stepDir, step);

        string Enqueue(RowBlock b) => _client.Create<BlockTasks>(t => t.Solve(stepDir, csrPath, b.Index, b.Start, b.End), new EnqueuedState(BlockTasks.Queue));
        var pending = new Dictionary<int, (RowBlock Block, string JobId)>();
        foreach (var b in step.Blocks)
            pending[b.Index] = (b, Enqueue(b));
        int k = step.Settings.Factors;
        Await(pending, stepDir, Enqueue, index =>
        {
            var block = pending[index].Block;
            var (start, rows) = BlockTaskFiles.ReadBlock(stepDir, index);
            if (start != block.Start || rows.Length != block.Length * k)
                throw new InvalidDataException($"{BlockTaskFiles.BlockOutput(stepDir, index)}: block {index} has the wrong shape.");
            rows.CopyTo(step.SrcFactors.AsSpan(block.Start * k, block.Length * k));
        }, $"half-step {step.Iteration + 1} ({step.Side})", cancellationToken);
        Stats.HalfSteps++;
        TryDelete(stepDir);
    }

    /// <summary>Scores the step's user blocks as Hangfire jobs and gathers the lists.</summary>
    public Core.Index.TopNResult Score(ScoringStep step, CancellationToken cancellationToken = default)
    {
        string stepDir = Path.Combine(scratchDir, $"score-{Interlocked.Increment(ref _sequence):D5}");
        Stats.BytesWritten += BlockTaskFiles.WriteScoring(stepDir, step);
        var all = new Core.Index.TopNResult(step.Users, step.N);
        string Enqueue(RowBlock b) => _client.Create<BlockTasks>(t => t.Score(stepDir, b.Index, b.Start, b.End), new EnqueuedState(BlockTasks.Queue));
        var pending = step.UserBlocks.ToDictionary(b => b.Index, b => (Block: b, JobId: Enqueue(b)));
        Await(pending, stepDir, Enqueue, index =>
        {
            var part = BlockTaskFiles.ReadLists(stepDir, index);
            ScoringStep.Gather(all, pending[index].Block, part);
        }, $"scoring", cancellationToken);
        TryDelete(stepDir);
        return all;
    }

    /// <summary>Waits for every pending block's output file, handing each to <paramref name="gather"/> as it appears.</summary>
    private void Await(Dictionary<int, (RowBlock Block, string JobId)> pending, string stepDir, Func<RowBlock, string> enqueue, Action<int> gather, string what, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var open = new HashSet<int>(pending.Keys);
        var fetchedSince = new Dictionary<string, TimeSpan>();
        var lastStateCheck = Stopwatch.StartNew();
        int sleepMs = 1;
        while (open.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            bool progressed = false;
            foreach (int index in open.ToList())
            {
                string output = BlockTaskFiles.BlockOutput(stepDir, index);
                if (!File.Exists(output)) continue;
                gather(index);
                Stats.BytesRead += new FileInfo(output).Length;
                open.Remove(index);
                progressed = true;
            }
            if (open.Count == 0) break;
            if (lastStateCheck.ElapsedMilliseconds > 1000)
            {
                CheckJobs(open, pending, enqueue, fetchedSince, sw.Elapsed);
                lastStateCheck.Restart();
            }
            if (timeout is { } t && sw.Elapsed > t)
                throw new TimeoutException($"{what}: {open.Count} block(s) not done after {t.TotalSeconds:F0} s; are `batchrecs worker --queues {BlockTasks.Queue}` processes running?");
            sleepMs = progressed ? 1 : Math.Min(20, sleepMs * 2);
            Thread.Sleep(sleepMs);
        }
        Stats.WaitSeconds += sw.Elapsed.TotalSeconds;
    }

    /// <summary>A worker whose Hangfire heartbeat (every 5 s, <see cref="SchedulerHost"/>) has not moved for this long is
    /// taken for dead; a job fetched but still not Processing after this long is taken for stuck.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, (DateTime? Heartbeat, TimeSpan SeenAt)> _heartbeats = new();

    /// <summary>
    /// Fails the run on a block that failed for good, and gives a fresh job to a block whose job is Processing on a
    /// server that stopped beating, or was fetched but never reached Processing (its worker died between fetch and
    /// state change, or a worker waits on that job's state lock, left behind by a dead one for the storage's
    /// DistributedLockTimeout). The old job is left alone: changing its state would wait on that same lock.
    /// A second delivery is harmless (present output means done).
    /// </summary>
    private void CheckJobs(HashSet<int> open, Dictionary<int, (RowBlock Block, string JobId)> pending, Func<RowBlock, string> enqueue,
        Dictionary<string, TimeSpan> fetchedSince, TimeSpan now)
    {
        var monitor = storage.GetMonitoringApi();
        var live = new HashSet<string>();
        foreach (var server in monitor.Servers())
        {
            if (!_heartbeats.TryGetValue(server.Name, out var seen) || seen.Heartbeat != server.Heartbeat)
                _heartbeats[server.Name] = seen = (server.Heartbeat, now);
            if (now - seen.SeenAt < StuckAfter) live.Add(server.Name);
        }
        var fetched = monitor.FetchedJobs(BlockTasks.Queue, 0, 100_000).Select(j => j.Key).ToHashSet();
        using var connection = storage.GetConnection();
        foreach (int index in open)
        {
            var (block, id) = pending[index];
            var state = connection.GetStateData(id);
            if (state?.Name == FailedState.StateName || state?.Name == DeletedState.StateName)
                throw new InvalidOperationException($"block task {id} {state.Name.ToLowerInvariant()}: {state.Reason} {(state.Data.TryGetValue("ExceptionMessage", out var m) ? m : "")}".Trim());
            bool stuck = false;
            if (state?.Name == ProcessingState.StateName && state.Data.TryGetValue("ServerId", out var server) && !live.Contains(server))
                stuck = true;
            else if (state?.Name == EnqueuedState.StateName && fetched.Contains(id))
                stuck = now - (fetchedSince.TryAdd(id, now) ? now : fetchedSince[id]) > StuckAfter;
            if (!stuck) continue;
            pending[index] = (block, enqueue(block));
            Stats.BlocksReenqueued++;
        }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => TryDelete(scratchDir);
}
