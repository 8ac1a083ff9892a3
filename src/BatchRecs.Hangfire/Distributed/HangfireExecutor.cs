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

        var pending = new Dictionary<int, (RowBlock Block, string JobId)>();
        foreach (var b in step.Blocks)
            pending[b.Index] = (b, _client.Create<BlockTasks>(t => t.Solve(stepDir, csrPath, b.Index, b.Start, b.End), new EnqueuedState(BlockTasks.Queue)));
        int k = step.Settings.Factors;
        Await(pending, stepDir, index =>
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
        var pending = step.UserBlocks.ToDictionary(b => b.Index,
            b => (Block: b, JobId: _client.Create<BlockTasks>(t => t.Score(stepDir, b.Index, b.Start, b.End), new EnqueuedState(BlockTasks.Queue))));
        Await(pending, stepDir, index =>
        {
            var part = BlockTaskFiles.ReadLists(stepDir, index);
            ScoringStep.Gather(all, pending[index].Block, part);
        }, $"scoring", cancellationToken);
        TryDelete(stepDir);
        return all;
    }

    /// <summary>Waits for every pending block's output file, handing each to <paramref name="gather"/> as it appears.</summary>
    private void Await(Dictionary<int, (RowBlock Block, string JobId)> pending, string stepDir, Action<int> gather, string what, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var open = new HashSet<int>(pending.Keys);
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
                CheckFailures(open.Select(i => pending[i].JobId));
                lastStateCheck.Restart();
            }
            if (timeout is { } t && sw.Elapsed > t)
                throw new TimeoutException($"{what}: {open.Count} block(s) not done after {t.TotalSeconds:F0} s; are `batchrecs worker --queues {BlockTasks.Queue}` processes running?");
            sleepMs = progressed ? 1 : Math.Min(20, sleepMs * 2);
            Thread.Sleep(sleepMs);
        }
        Stats.WaitSeconds += sw.Elapsed.TotalSeconds;
    }

    private void CheckFailures(IEnumerable<string> jobIds)
    {
        using var connection = storage.GetConnection();
        foreach (var id in jobIds)
        {
            var state = connection.GetStateData(id);
            if (state?.Name == FailedState.StateName || state?.Name == DeletedState.StateName)
                throw new InvalidOperationException($"block task {id} {state.Name.ToLowerInvariant()}: {state.Reason} {(state.Data.TryGetValue("ExceptionMessage", out var m) ? m : "")}".Trim());
        }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => TryDelete(scratchDir);
}
