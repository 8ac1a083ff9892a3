using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Errors;
using BatchRecs.Core.Evaluation;
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
    /// <summary>Blocks given to a fresh job: their server was lost, their job was stuck before Processing, or it ran past
    /// <see cref="HangfireExecutorOptions.BlockTimeout"/>.</summary>
    public int BlocksReenqueued { get; internal set; }
    /// <summary>Summed over half-steps: the busiest worker thread's own time in its block tasks (reading their inputs and
    /// solving). What the wait took beyond it is coordination: enqueue, fetch, state changes, polling, the outputs' way back.</summary>
    public double BusiestThreadSeconds { get; internal set; }
    /// <summary>Blocks per half-step, summed over half-steps.</summary>
    public int Blocks { get; internal set; }
}

/// <summary>
/// Runs ALS block tasks as Hangfire jobs on the <c>blocks</c> queue, taken by any number of <c>batchrecs worker</c>
/// processes that share the Hangfire storage (PostgreSQL) and the lake. For each half-step the coordinator writes the
/// dst factors, their Gram matrix and the src warm start once (per problem, a side file naming the pairs the shard tasks
/// stored and the fit's weights, or for pairs it holds the confidence CSR), enqueues one job per block, waits for the
/// blocks' output files (polling the shared file system, not the database), and gathers them.
/// The result is bit-identical to <see cref="LocalExecutor"/>: the same <see cref="BlockSolver"/> on the same bytes.
/// </summary>
/// <remarks>
/// Every second the coordinator also reads the servers' heartbeats and its open blocks' job states
/// (<see cref="CheckJobs"/>): no live server on the queue → it says so at once, every
/// <see cref="HangfireExecutorOptions.NoWorkerRepeat"/>, and fails after <see cref="HangfireExecutorOptions.WorkerWait"/>;
/// a block on a lost server, stuck before Processing, or Processing past <see cref="HangfireExecutorOptions.BlockTimeout"/>
/// gets a fresh job; a block that failed for good fails the run. A step that waits logs its blocks done, running and
/// queued. A cancelled or failed step deletes its blocks' jobs and its scratch files before it throws.
/// </remarks>
public sealed class HangfireExecutor : IExecutor, Lake.Input.IReadExecutor, IDisposable
{
    private readonly JobStorage _storage;
    private readonly string _scratchDir;
    /// <summary>Whether the scratch area is in object storage, where each check of the step's folder is a request: it is
    /// listed once per poll, and polled at most every 100 ms instead of 20.</summary>
    private readonly bool _remoteScratch;
    private readonly HangfireExecutorOptions _options;
    private readonly IBackgroundJobClient _client;
    private readonly ConditionalWeakTable<CsrMatrix, string> _csrFiles = new();

    /// <summary>The user-side CSR files written (for problems not weighed where the shards are), by their column array (shared by the strengths, the confidences and the
    /// exclusions of one fit) with their row pointers: a scoring step whose exclusions have that pattern references the file.</summary>
    private readonly ConditionalWeakTable<int[], WrittenPattern> _patterns = new();

    private sealed record WrittenPattern(int[] RowPtr, string Path);
    private int _sequence;

    /// <param name="storage">the Hangfire storage the workers share.</param>
    /// <param name="scratchDir">this executor's folder in the shared lake (removed on dispose).</param>
    /// <param name="options">waits, log and cancellation (null: the defaults, no log).</param>
    public HangfireExecutor(JobStorage storage, string scratchDir, HangfireExecutorOptions? options = null)
    {
        _storage = storage;
        _scratchDir = scratchDir;
        _remoteScratch = BatchRecs.Lake.Storage.LakeLocation.IsObjectStore(scratchDir);
        _options = options ?? new HangfireExecutorOptions();
        _client = new BackgroundJobClient(storage);
    }

    public string Name => "hangfire";

    /// <summary>
    /// Work (<c>rows·64 + entries</c>, the balance <see cref="BlockPartitioner"/> uses) worth one Hangfire job: about
    /// 0.1 s of solving on one core at k = 64, against ≈ 10 ms of coordination per job (enqueue, fetch, two state changes).
    /// </summary>
    public const long BlockWork = 4_000_000;

    /// <summary>
    /// One block per worker thread serving the blocks queue, up to four when each would still hold
    /// <see cref="BlockWork"/> (so a slow host's blocks even out): every job costs coordination, and the data's own block
    /// count (492 per half-step at 100M interactions) cost more of it than the solves. With no worker seen yet, this
    /// host's cores stand in for them (the run waits for a worker anyway, and any count gives the same factors).
    /// </summary>
    public int Blocks(CsrMatrix rows)
    {
        int threads = WorkerThreads();
        long byWork = ((long)rows.Rows * 64 + rows.NonZeros + BlockWork - 1) / BlockWork;
        return (int)Math.Max(1, Math.Min(Math.Clamp(byWork, threads, 4L * threads), rows.Rows));
    }

    public DistributedStats Stats { get; } = new();

    /// <summary>
    /// Writes the transpose straight into the scratch area (<see cref="BinaryArrays.WriteTransposedCsr"/>), where the
    /// item half-steps' block tasks read it, and keeps only its rows: the coordinator never holds its entries (8 bytes a
    /// pair, 12 with preferences; at 100M interactions 0.6 GB of each fit).
    /// </summary>
    public (CsrMatrix Matrix, float[]? Pref) Transpose(CsrMatrix m, float[]? pref)
    {
        int[] rowPtr = [];
        string path = WriteCsrFile(p => rowPtr = BinaryArrays.WriteTransposedCsr(p, m, pref));
        var rows = CsrMatrix.RowsOnly(m.Cols, m.Rows, rowPtr);
        _csrFiles.Add(rows, path);
        return (rows, null);
    }

    /// <summary>
    /// Both sides of a fit over strengths the shard tasks stored (<see cref="ShardStore"/>), as rows only: a side file each
    /// (the store, the weights, the row pointers) is all the coordinator writes; the block tasks read their rows of the
    /// strengths from the shards and weigh them (<see cref="ShardSides"/>). The item side's row pointers are the shards'
    /// transposed row lengths summed. Other strengths: null, and the problem is weighed here.
    /// </summary>
    public (CsrMatrix UserItem, CsrMatrix ItemUser)? StoredSides(CsrMatrix strengths, EntryWeights weights)
    {
        if (strengths.Store is not ShardStore store) return null;
        var itemPtr = ShardSides.ItemRowPointers(store, strengths.Cols);
        if (itemPtr[^1] != strengths.NonZeros)
            throw new InvalidDataException($"{store.Dir}: the shards hold {itemPtr[^1]} pairs, the matrix {strengths.NonZeros}.");
        var users = CsrMatrix.RowsOnly(strengths.Rows, strengths.Cols, strengths.RowPtr);
        var items = CsrMatrix.RowsOnly(strengths.Cols, strengths.Rows, itemPtr);
        string usersPath = WriteCsrFile(p => ShardSides.Write(p, store, Side.Users, weights, users), ShardSides.FilePrefix);
        _csrFiles.Add(users, usersPath);
        _csrFiles.Add(items, WriteCsrFile(p => ShardSides.Write(p, store, Side.Items, weights, items), ShardSides.FilePrefix));
        _storedUsers.AddOrUpdate(store, usersPath);
        return (users, items);
    }

    /// <summary>The last user side file written per store: a scoring step excluding that store's pairs references it (the
    /// workers often hold its blocks from the fit's last half-step).</summary>
    private readonly ConditionalWeakTable<ShardStore, string> _storedUsers = new();

    /// <summary>A new CSR (or side) file of the fit in the scratch area, written by <paramref name="write"/> and counted; its path.</summary>
    private string WriteCsrFile(Action<string> write, string prefix = "csr-")
    {
        string path = Path.Combine(_scratchDir, $"{prefix}{Guid.NewGuid():N}.bin");
        write(path);
        Stats.BytesWritten += ScratchArea.Length(path);
        return path;
    }

    public void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default)
    {
        string csrPath = _csrFiles.GetValue(step.Conf, m =>
        {
            if (!m.HasEntries) throw new ArgumentException("the half-step's matrix has no entries and was not written by this executor.", nameof(step));
            string path = WriteCsrFile(p => BinaryArrays.WriteCsr(p, m, step.Pref));
            if (step.Side == Side.Users) _patterns.AddOrUpdate(m.ColIdx, new WrittenPattern(m.RowPtr, path));
            return path;
        });
        string stepDir = Path.Combine(_scratchDir, $"step-{Interlocked.Increment(ref _sequence):D5}");
        Stats.BytesWritten += BlockTaskFiles.WriteStep(stepDir, step);

        string Enqueue(RowBlock b) => _client.Create<BlockTasks>(t => t.Solve(stepDir, csrPath, b.Index, b.Start, b.End, CancellationToken.None), new EnqueuedState(BlockTasks.Queue));
        var pending = step.Blocks.ToDictionary(b => b.Index, b => new BlockJob(b, Enqueue(b)));
        int k = step.Settings.Factors;
        var busy = new Dictionary<string, double>();
        Await(pending, stepDir, Enqueue, index =>
        {
            var block = pending[index].Block;
            var task = BlockTaskFiles.ReadBlockInto(stepDir, index, block.Start, step.SrcFactors.AsSpan(block.Start * k, block.Length * k),
                step.RowLoss is null ? default : step.RowLoss.AsSpan(block.Start, block.Length));
            busy[task.Thread] = busy.GetValueOrDefault(task.Thread) + task.Seconds;
        }, $"half-step {step.Iteration + 1} ({step.Side.ToString().ToLowerInvariant()})", cancellationToken);
        Stats.HalfSteps++;
        Stats.Blocks += pending.Count;
        Stats.BusiestThreadSeconds += busy.Values.Max();
        TryDelete(stepDir);
    }

    /// <summary>Scores the step's user blocks as Hangfire jobs and gathers the lists.</summary>
    public Core.Index.TopNResult Score(ScoringStep step, CancellationToken cancellationToken = default)
    {
        string stepDir = Path.Combine(_scratchDir, $"score-{Interlocked.Increment(ref _sequence):D5}");
        // The exclusions are the fitted pairs: the pattern of the fit's user side, which the workers already hold, or the
        // pairs as the shards store them.
        string? excludeCsr = ExclusionsWritten(step.Exclude);
        Stats.BytesWritten += BlockTaskFiles.WriteScoring(stepDir, step, excludeCsr);
        var all = new Core.Index.TopNResult(step.Users, step.N);
        string Enqueue(RowBlock b) => _client.Create<BlockTasks>(t => t.Score(stepDir, b.Index, b.Start, b.End, CancellationToken.None), new EnqueuedState(BlockTasks.Queue));
        var pending = step.UserBlocks.ToDictionary(b => b.Index, b => new BlockJob(b, Enqueue(b)));
        Await(pending, stepDir, Enqueue, index =>
        {
            BlockTaskFiles.ReadListsInto(stepDir, pending[index].Block, all);
        }, "scoring", cancellationToken);
        TryDelete(stepDir);
        return all;
    }

    /// <summary>A side or CSR file already in the scratch area whose rows are <paramref name="exclude"/>'s pattern, or null.</summary>
    private string? ExclusionsWritten(CsrMatrix exclude)
    {
        if (exclude.Store is ShardStore store)
            return _storedUsers.TryGetValue(store, out var fitted) ? fitted
                : WriteCsrFile(p => ShardSides.Write(p, store, Side.Users, null, CsrMatrix.RowsOnly(exclude.Rows, exclude.Cols, exclude.RowPtr)), ShardSides.FilePrefix);
        return _patterns.TryGetValue(exclude.ColIdx, out var written) && ReferenceEquals(written.RowPtr, exclude.RowPtr) ? written.Path : null;
    }

    /// <summary>Read tasks per worker thread serving the blocks queue (this host's cores while none is seen).</summary>
    public int ReadTasks => 2 * WorkerThreads();

    /// <summary>Worker threads serving the blocks queue; this host's cores while none is seen.</summary>
    private int WorkerThreads()
    {
        int threads = Servers(_storage.GetMonitoringApi()).Threads;
        return threads == 0 ? Environment.ProcessorCount : threads;
    }

    /// <summary>
    /// Runs the plan's read tasks on the workers: each reads its files and writes its events, grouped by its own users,
    /// to the scratch area. The coordinator reads back only what each found and its id maps (and each user's event
    /// count), merges the maps, and never holds an event: the events go from the workers' reads to the shard tasks of
    /// <see cref="Lake.Input.InputRead.Combine"/>.
    /// </summary>
    public Task<Lake.Input.InputRead> ReadAsync(Lake.Input.ReadPlan plan, CancellationToken ct)
    {
        string stepDir = Path.Combine(_scratchDir, $"read-{Interlocked.Increment(ref _sequence):D5}");
        Stats.BytesWritten += ReadTaskFiles.WritePlan(stepDir, plan);
        string Enqueue(RowBlock b) => _client.Create<BlockTasks>(t => t.Read(stepDir, b.Index, CancellationToken.None), new EnqueuedState(BlockTasks.Queue));
        var pending = Enumerable.Range(0, plan.Tasks.Count).ToDictionary(t => t, t => new BlockJob(new RowBlock(t, 0, 0), Enqueue(new RowBlock(t, 0, 0))));
        var parts = new ReadTaskFiles.PartSummary[plan.Tasks.Count];
        try
        {
            Await(pending, stepDir, Enqueue, t => parts[t] = ReadTaskFiles.ReadSummary(stepDir, t), "read", ct);
            if (parts.FirstOrDefault(p => p.Failure is not null) is { } failed) throw failed.Failure!;
            var (stats, users, items, userRemaps, itemRemaps) = Lake.Input.InputRead.Merge(parts.Select(p => p.Stats).ToList(),
                parts.Select(p => p.Users).ToList(), parts.Select(p => p.Items).ToList(), plan.PrunedFiles);
            // The tasks' own maps go: the shard tasks need each task's users' event counts and the remaps.
            var layout = parts.Select(p => new ReadTaskFiles.PartLayout(p.Offsets, p.Users.Count, p.Items.Count)).ToArray();
            return Task.FromResult<Lake.Input.InputRead>(new ScratchRead(this, stepDir, stats, users, items, userRemaps, itemRemaps, layout));
        }
        catch
        {
            TryDelete(stepDir);
            throw;
        }
    }

    /// <summary>The read tasks' events in the scratch area, combined by shard tasks on the workers.</summary>
    private sealed class ScratchRead(HangfireExecutor executor, string stepDir, Lake.Input.ReadStats stats, IdMap users, IdMap items, int[]?[] userRemaps,
        int[]?[] itemRemaps, ReadTaskFiles.PartLayout[] parts) : Lake.Input.InputRead(stats, users, items, userRemaps, itemRemaps)
    {
        private ReadTaskFiles.PartLayout[]? _parts = parts;

        public override SplitPairs CombineSplit(CombineRule rule, PairSplit split, CancellationToken ct)
        {
            var parts = _parts ?? throw new InvalidOperationException("the read's events were already combined.");
            _parts = null;
            try { return executor.CombineShards(stepDir, parts, UserIds, ItemIds, UserRemaps, ItemRemaps, rule, split, ct); }
            finally { TryDelete(stepDir); }
        }
    }

    /// <summary>
    /// The pairs stage on the workers: users cut into contiguous shards of about equal events (a few per worker thread),
    /// each combined and split by a shard task from every read task's file; the coordinator lays the shards' training and
    /// held-out rows' lengths out (4 bytes a user: the split's matrices as rows only), stored where the shards are
    /// (<see cref="ShardStore"/>): the fits' block tasks and the scoring tasks read their rows there (<see cref="StoredSides"/>),
    /// and the coordinator reads what it needs of them there (a sample's rows, a chunk at a time, the column counts). When a
    /// stage needs every pair's time (a recency-weighted fallback, the off-policy estimate), it lays out the shards' rows and
    /// times, one shard file at a time, into the split's matrices (8 bytes a pair, + 8 per kind of time), stored the same.
    /// </summary>
    private SplitPairs CombineShards(string stepDir, ReadTaskFiles.PartLayout[] parts, IdMap users, IdMap items, int[]?[] userRemaps, int[]?[] itemRemaps,
        CombineRule rule, PairSplit split, CancellationToken ct)
    {
        var start = new long[users.Count + 1];
        for (int t = 0; t < parts.Length; t++)
        {
            var (offsets, remap) = (parts[t].Offsets, userRemaps[t]);
            for (int u = 0; u + 1 < offsets.Length; u++) start[(remap is null ? u : remap[u]) + 1] += offsets[u + 1] - offsets[u];
        }
        for (int u = 0; u < users.Count; u++) start[u + 1] += start[u];
        long events = start[^1];
        int shardEvents = (int)Math.Clamp(events / (4L * WorkerThreads()), 1 << 18, 1 << 23);
        var shards = PairAggregator.Shards(start, users.Count, shardEvents);
        Stats.BytesWritten += ReadTaskFiles.WriteRemaps(stepDir, userRemaps, itemRemaps, parts, rule, split, items.Count);
        string shardDir = ReadTaskFiles.ShardDir(stepDir);
        string Enqueue(RowBlock b) => _client.Create<BlockTasks>(t => t.CombineShard(stepDir, b.Index, b.Start, b.End, CancellationToken.None), new EnqueuedState(BlockTasks.Queue));
        var pending = shards.Select((s, i) => new RowBlock(i, s.Lo, s.Hi)).ToDictionary(b => b.Index, b => new BlockJob(b, Enqueue(b)));
        var headers = new ReadTaskFiles.ShardHeader[shards.Count];
        Await(pending, shardDir, Enqueue, s => headers[s] = ReadTaskFiles.ReadShardHeader(stepDir, s), "pairs", ct);
        // The shards' rows stay where the shard tasks wrote them: the fits' block tasks read theirs there (StoredSides).
        int[] starts = [.. shards.Select(s => s.Lo), users.Count];
        bool heldOut = split.HoldoutFraction > 0;
        var trainStore = new ShardStore(shardDir, starts, true, false, Sum(headers, h => h.TrainHash), Sum(headers, h => h.HeldHash));
        var heldStore = heldOut ? trainStore with { Train = false, HeldOut = true } : null;
        if (split.LastTimes || split.FirstTimes)
        {
            // A stage needs every pair's time here (the recency-weighted fallback, the off-policy estimate): laid out whole.
            return SplitPairs.Layout(users, items, split, headers.Sum(h => (long)h.Train), headers.Sum(h => (long)Math.Max(0, h.HeldOut)),
                shards.Select((s, i) => ReadTaskFiles.ReadShard(stepDir, i, s.Lo))).StoredIn(trainStore, heldStore);
        }
        // Otherwise the coordinator keeps the row pointers (and the cuts): 4 bytes a user, no pair.
        return SplitPairs.Stored(users, items, split, shards.Select((s, i) => ReadTaskFiles.ReadShardLengths(stepDir, i, s.Lo)), trainStore, heldStore);
    }

    private static ulong Sum(ReadTaskFiles.ShardHeader[] headers, Func<ReadTaskFiles.ShardHeader, ulong> of)
    {
        ulong sum = 0;
        foreach (var h in headers) sum += of(h);
        return sum;
    }

    /// <summary>One block of a step and the jobs made for it (the current one last).</summary>
    private sealed class BlockJob(RowBlock block, string jobId)
    {
        public RowBlock Block { get; } = block;
        public List<string> JobIds { get; } = [jobId];
        public string JobId => JobIds[^1];
        /// <summary>When the coordinator first saw the current job Processing, or fetched but not Processing.</summary>
        public TimeSpan? ProcessingSince { get; set; }
        public TimeSpan? FetchedSince { get; set; }
        public string? State { get; set; }

        public void Renew(string jobId)
        {
            JobIds.Add(jobId);
            ProcessingSince = FetchedSince = null;
            State = EnqueuedState.StateName;
        }
    }

    /// <summary>
    /// Waits for every pending block's output file, handing each to <paramref name="gather"/> as it appears. Every wait has
    /// a deadline: no live worker for <see cref="HangfireExecutorOptions.WorkerWait"/>, no block finished for WorkerWait +
    /// BlockTimeout, or <see cref="HangfireExecutorOptions.StepTimeout"/>; each says what it waited for.
    /// </summary>
    private void Await(Dictionary<int, BlockJob> pending, string stepDir, Func<RowBlock, string> enqueue, Action<int> gather, string what, CancellationToken callToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(callToken, _options.Cancellation);
        var ct = linked.Token;
        var sw = Stopwatch.StartNew();
        var open = new HashSet<int>(pending.Keys);
        var lastDone = TimeSpan.Zero;
        TimeSpan? lastProgress = null;
        int sleepMs = 1;
        try
        {
            while (open.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                bool progressed = false;
                // In object storage one listing (a request) answers for every open block; a local folder is asked file by
                // file, which allocates nothing per file it does not find (a listing every 1–20 ms did).
                var present = _remoteScratch ? ScratchArea.Files(stepDir) : null;
                foreach (int index in open.ToList())
                {
                    string output = BlockTaskFiles.BlockOutput(stepDir, index);
                    if (!(present?.Contains(Path.GetFileName(output)) ?? File.Exists(output))) continue;
                    gather(index);
                    Stats.BytesRead += ScratchArea.Length(output);
                    open.Remove(index);
                    progressed = true;
                }
                if (progressed) lastDone = sw.Elapsed;
                if (open.Count == 0) break;
                if (_lastCheck is not { } c || c.Elapsed >= CheckEvery)
                {
                    CheckJobs(open, pending, enqueue, what);
                    (_lastCheck ??= new Stopwatch()).Restart();
                    var elapsed = sw.Elapsed;
                    if (elapsed >= _options.ProgressEvery && (lastProgress is null || elapsed - lastProgress >= _options.ProgressEvery))
                    {
                        LogProgress(what, pending, open, elapsed);
                        lastProgress = elapsed;
                    }
                    var stall = _options.WorkerWait + _options.BlockTimeout;
                    if (elapsed - lastDone > stall)
                        throw new TransientFailureException($"{what}: no block finished for {stall.TotalSeconds:F0} s (worker_wait_seconds + block_timeout_seconds) " +
                            $"with {Count(pending, open, ProcessingState.StateName)} running and {Count(pending, open, EnqueuedState.StateName)} queued of {pending.Count}; " +
                            "the workers are alive but not finishing blocks: see their logs.");
                    if (_options.StepTimeout is { } t && elapsed > t)
                        throw new TimeoutException($"{what}: {open.Count} block(s) not done after {t.TotalSeconds:F0} s; are `batchrecs worker` processes running on queue '{BlockTasks.Queue}'?");
                }
                sleepMs = progressed ? 1 : Math.Min(_remoteScratch ? 100 : 20, sleepMs * 2);
                Thread.Sleep(sleepMs);
            }
        }
        catch (Exception e)
        {
            Abandon(pending, open, what, e is OperationCanceledException ? "cancelled" : "failed");
            TryDelete(stepDir);
            throw;
        }
        if (lastProgress is not null) LogProgress(what, pending, open, sw.Elapsed);
        Stats.WaitSeconds += sw.Elapsed.TotalSeconds;
    }

    private void LogProgress(string what, Dictionary<int, BlockJob> pending, HashSet<int> open, TimeSpan waited) =>
        _options.Log.Event("executor.blocks", ("waiting_for", what), ("done", pending.Count - open.Count),
            ("running", Count(pending, open, ProcessingState.StateName)), ("queued", Count(pending, open, EnqueuedState.StateName)),
            ("total", pending.Count), ("waited_s", Math.Round(waited.TotalSeconds, 1)));

    private static int Count(Dictionary<int, BlockJob> pending, HashSet<int> open, string state) => open.Count(i => pending[i].State == state);

    /// <summary>
    /// Deletes the jobs of the step's open blocks (a cancelled or failed step leaves no queued work behind), within a
    /// couple of seconds: a state change waits on the job's state lock, which a dead worker may have left behind.
    /// </summary>
    private void Abandon(Dictionary<int, BlockJob> pending, HashSet<int> open, string what, string why)
    {
        var ids = open.SelectMany(i => pending[i].JobIds).ToList();
        int deleted = 0, unqueued = 0;
        var delete = Task.Run(() =>
        {
            foreach (var id in ids)
            {
                try { if (_client.Delete(id)) Interlocked.Increment(ref deleted); }
                catch (Exception) { /* best effort: the storage may be gone too */ }
            }
            try { unqueued = _options.RemoveFromQueue?.Invoke(ids) ?? 0; }
            catch (Exception) { /* best effort: a worker discards a deleted job it fetches */ }
        });
        bool complete = delete.Wait(AbandonBudget);
        _options.Log.Event("executor.jobs_deleted", ("step", what), ("why", why), ("deleted", Volatile.Read(ref deleted)), ("of", ids.Count),
            ("removed_from_queue", Volatile.Read(ref unqueued)), ("complete", complete));
    }

    /// <summary>How long a cancelled step spends deleting its jobs (a run must end within 5 s of SIGTERM).</summary>
    private static readonly TimeSpan AbandonBudget = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>A worker whose Hangfire heartbeat (every 5 s, <see cref="SchedulerHost"/>) has not moved for this long is
    /// taken for dead; a job fetched but still not Processing after this long is taken for stuck.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(15);

    /// <summary>The executor's clock: heartbeats are judged by when this process saw them move, not by the hosts' clocks.</summary>
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, (DateTime? Heartbeat, TimeSpan SeenAt)> _heartbeats = new();
    private Stopwatch? _lastCheck;
    private TimeSpan? _noWorkerSince;
    private TimeSpan? _noWorkerLogged;

    /// <summary>The servers whose heartbeat moved within <see cref="StuckAfter"/>, whether one of them serves the blocks
    /// queue, and their worker threads. A server seen for the first time counts as live if its last heartbeat is recent by
    /// this host's clock.</summary>
    private (HashSet<string> Live, bool Serving, int Threads) Servers(global::Hangfire.Storage.IMonitoringApi monitor)
    {
        var now = _clock.Elapsed;
        var live = new HashSet<string>();
        bool serving = false;
        int threads = 0;
        foreach (var server in monitor.Servers())
        {
            if (!_heartbeats.TryGetValue(server.Name, out var seen))
            {
                bool recent = server.Heartbeat is { } hb && (DateTime.UtcNow - DateTime.SpecifyKind(hb, DateTimeKind.Utc)).Duration() < StuckAfter;
                _heartbeats[server.Name] = seen = (server.Heartbeat, recent ? now : now - StuckAfter);
            }
            else if (seen.Heartbeat != server.Heartbeat)
                _heartbeats[server.Name] = seen = (server.Heartbeat, now);
            if (now - seen.SeenAt >= StuckAfter) continue;
            live.Add(server.Name);
            if (!server.Queues.Contains(BlockTasks.Queue)) continue;
            serving = true;
            threads += server.WorkersCount;
        }
        return (live, serving, threads);
    }

    /// <summary>
    /// Says so (and after <see cref="HangfireExecutorOptions.WorkerWait"/> fails the run) while no live server serves the
    /// blocks queue; fails the run on a block that failed for good; and gives a fresh job to a block whose job is
    /// Processing on a server that stopped beating, Processing past the block timeout, or was fetched but never reached
    /// Processing (its worker died between fetch and state change, or a worker waits on that job's state lock, left
    /// behind by a dead one for the storage's DistributedLockTimeout). The old job is left alone: changing its state
    /// would wait on that same lock. A second delivery is harmless (present output means done).
    /// </summary>
    private void CheckJobs(HashSet<int> open, Dictionary<int, BlockJob> pending, Func<RowBlock, string> enqueue, string what)
    {
        var monitor = _storage.GetMonitoringApi();
        var (live, serving, _) = Servers(monitor);
        var now = _clock.Elapsed;
        if (!serving)
        {
            _noWorkerSince ??= now;
            var waited = now - _noWorkerSince.Value;
            string message = $"no worker serves queue '{BlockTasks.Queue}'; start one with: {_options.WorkerCommand}";
            if (waited > _options.WorkerWait)
                throw new NoWorkerException($"{message} (waited {_options.WorkerWait.TotalSeconds:F0} s, worker_wait_seconds, for {what})");
            if (_noWorkerLogged is not { } logged || now - logged >= _options.NoWorkerRepeat)
            {
                _options.Log.Event("executor.no_worker", ("queue", BlockTasks.Queue), ("waiting_for", what), ("waited_s", Math.Round(waited.TotalSeconds)),
                    ("gives_up_after_s", _options.WorkerWait.TotalSeconds), ("message", message));
                _noWorkerLogged = now;
            }
        }
        else if (_noWorkerSince is not null)
        {
            _options.Log.Event("executor.worker_found", ("queue", BlockTasks.Queue), ("waited_s", Math.Round((now - _noWorkerSince.Value).TotalSeconds)));
            _noWorkerSince = _noWorkerLogged = null;
        }

        var fetched = monitor.FetchedJobs(BlockTasks.Queue, 0, 100_000).Select(j => j.Key).ToHashSet();
        using var connection = _storage.GetConnection();
        foreach (int index in open)
        {
            var b = pending[index];
            var state = connection.GetStateData(b.JobId);
            b.State = state?.Name;
            if (state?.Name == FailedState.StateName || state?.Name == DeletedState.StateName)
                throw new InvalidOperationException($"block task {b.JobId} {state.Name.ToLowerInvariant()}: {state.Reason} {(state.Data.TryGetValue("ExceptionMessage", out var m) ? m : "")}".Trim());
            string? reason = null;
            if (state?.Name == ProcessingState.StateName)
            {
                b.ProcessingSince ??= now;
                string server = state.Data.TryGetValue("ServerId", out var s) ? s : "?";
                if (!live.Contains(server))
                    reason = $"server {server} lost";
                else if (now - b.ProcessingSince.Value > _options.BlockTimeout)
                    reason = $"timed out: no output after {_options.BlockTimeout.TotalSeconds:F0} s processing on server {server} (block_timeout_seconds)";
            }
            else if (state?.Name == EnqueuedState.StateName && fetched.Contains(b.JobId))
            {
                b.FetchedSince ??= now;
                if (now - b.FetchedSince.Value > StuckAfter)
                    reason = $"job {b.JobId} fetched but not started after {StuckAfter.TotalSeconds:F0} s";
            }
            if (reason is null) continue;
            string old = b.JobId;
            b.Renew(enqueue(b.Block));
            Stats.BlocksReenqueued++;
            _options.Log.Event("executor.block_requeued", ("block", index), ("step", what), ("old_job", old), ("new_job", b.JobId),
                ("message", $"block {index} re-queued: {reason}"));
        }
    }

    private static void TryDelete(string dir) => ScratchArea.DeleteTree(dir);

    public void Dispose() => TryDelete(_scratchDir);
}

/// <summary>A distributed run found no live worker on the queue it needs for <c>worker_wait_seconds</c>: fails the run,
/// not retried (exit 1); the message says how to start a worker.</summary>
public sealed class NoWorkerException(string message) : PermanentFailureException(message);
