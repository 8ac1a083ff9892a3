using System.Globalization;

namespace BatchRecs.Lake.Output;

/// <summary>What a publish produced, and what it had to repair first (a dead publisher's commit rolled forward, foreign
/// database files set aside), for the log.</summary>
/// <param name="PartitionDir">the live <c>recommendations/run_date=D/</c>.</param>
/// <param name="DatabasePath">the live <c>batchrecs.duckdb</c>.</param>
/// <param name="Manifest">the recommendations partition's manifest.</param>
/// <param name="Repairs">what had to be repaired first.</param>
/// <param name="SimilarItemsDir">the live <c>similar_items/run_date=D/</c>, or null when the run published no similar items.</param>
public sealed record PublishResult(string PartitionDir, string DatabasePath, RunManifest Manifest, IReadOnlyList<string> Repairs,
    string? SimilarItemsDir = null)
{
    /// <summary>For a lake on object storage, where services read the run (its run folder, which <c>_LATEST</c> names) and
    /// the catalog's snapshot; the paths above are then the local working copy's. Null for a local lake.</summary>
    public (string RunFolder, string Snapshot)? Remote { get; init; }
}

/// <summary>How long published data is kept, and how long to wait for another publisher.</summary>
/// <param name="RetentionDays">published run dates older than this many days before <paramref name="Today"/> are deleted.</param>
/// <param name="LockTimeoutSeconds">how long to wait for another publisher of the lake.</param>
/// <param name="Today">the wall-clock date retention counts from (null: today, UTC). Never the run date: a mistyped
/// future run date must not age out every other date.</param>
public sealed record PublishOptions(int RetentionDays = 30, double LockTimeoutSeconds = 600, DateOnly? Today = null)
{
    /// <summary>Told each <see cref="FaultPoint.PublishSteps"/> step as it is reached (tests only; default: nothing happens).</summary>
    public IFaultInjector Faults { get; init; } = NoFaults.Instance;

    /// <summary>Told, at once and every 30 s, while a publish waits for another publisher's lock (null: silent).</summary>
    public Action<string>? OnLockWait { get; init; }

    /// <summary>DuckDB's memory limits for building the next catalog, tried in order (<see cref="DuckDbCatalog.PublishMemoryLimits"/>).</summary>
    public IReadOnlyList<string> CatalogMemoryLimits { get; init; } = DuckDbCatalog.PublishMemoryLimits;

    /// <summary>Told when the catalog's build ran out of DuckDB's memory limit and is made again with the next (null: silent).</summary>
    public Action<string>? OnCatalogRetry { get; init; }

    /// <summary>The lake on object storage this local lake is the working copy of, or null (a local lake).</summary>
    public RemoteLake? Remote { get; init; }

    /// <summary>
    /// Dates before this are deleted by a publish of <paramref name="runDate"/>: <see cref="RetentionDays"/> before the
    /// wall-clock date, and never a date as new as the run's own.
    /// </summary>
    public DateOnly RetentionCutoff(DateOnly runDate)
    {
        var byClock = (Today ?? DateOnly.FromDateTime(DateTime.UtcNow)).AddDays(-RetentionDays);
        return byClock < runDate ? byClock : runDate;
    }
}

/// <summary>
/// Publishes a run all or nothing. The Parquet partitions <c>LAKE/recommendations/run_date=D/</c> and (when the run has
/// them) <c>LAKE/similar_items/run_date=D/</c>, each parts, then <c>_SUCCESS</c>, then its own <c>manifest.json</c>, are
/// staged beside their final names and the next DuckDB file beside the live one; then a <see cref="PublishJournal"/> is
/// written (the commit point), and all are swapped in by rename (a run without similar items removes the date's old
/// <c>similar_items</c> partition instead). A crash before the journal leaves the previous partitions and database
/// intact (the next publish clears the leftovers); a crash after it is completed by the next publisher or reader
/// (<see cref="Recover"/>). Either way Parquet and DuckDB end all old or all new.
/// </summary>
public static class LakePublisher
{
    public const string RecommendationsDir = "recommendations";
    public const string SimilarItemsDir = "similar_items";
    private const string StagingPrefix = ".staging-";

    /// <summary>The directories holding <c>run_date=D</c> partitions, each staged, swapped and aged out the same way.</summary>
    private static readonly string[] PartitionedDirs = [RecommendationsDir, SimilarItemsDir];

    public static string PartitionName(DateOnly runDate) => "run_date=" + runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>List rows past which the part writers' garbage is collected before the catalog is staged.</summary>
    private const long LargeListRows = 1_000_000;

    public static async Task<PublishResult> PublishAsync(string lakeDir, PublishRequest req, PublishOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PublishOptions();
        using var publishLock = await PublishLock.AcquireAsync(lakeDir, TimeSpan.FromSeconds(options.LockTimeoutSeconds), ct, options.OnLockWait);
        var faults = options.Faults;
        var repairs = Recover(lakeDir, faults);
        var recs = Partition.Of(lakeDir, RecommendationsDir, req.Run);
        var similar = Partition.Of(lakeDir, SimilarItemsDir, req.Run);
        var tables = new List<(Partition At, ListTable Table)> { (recs, ListTable.Recommendations(req)) };
        if (req.SimilarItems is { } lists) tables.Add((similar, ListTable.SimilarItems(req, lists)));

        var written = new List<IReadOnlyList<PartFile>>();
        foreach (var (at, table) in tables) written.Add(await ListWriter.WriteAsync(at.Staged, table, ct));
        faults.Reach("parts-written");
        foreach (var (at, _) in tables) AtomicRename.WriteFile(Path.Combine(at.Staged, RunManifest.SuccessMarker), []);
        faults.Reach("success-written");
        var manifests = tables.Select((t, i) => Manifest(req, t.Table, written[i])).ToList();
        for (int i = 0; i < tables.Count; i++) AtomicRename.WriteFile(Path.Combine(tables[i].At.Staged, RunManifest.FileName), manifests[i].ToUtf8());
        faults.Reach("manifest-written");

        var cutoff = options.RetentionCutoff(req.Run.RunDate);
        // The part writers' buffers are garbage now; handed back before DuckDB takes its own (native) memory for the insert,
        // the two do not add up (10M-interaction night: publish peak 1.16 → 0.88 GB; 100M: 4.05 → 3.15 GB).
        if (req.Recommendations.TotalRows > LargeListRows) GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        string stagedDb = DuckDbCatalog.Stage(lakeDir, req, PartPaths(recs, written[0]), cutoff,
            req.SimilarItems is null ? null : PartPaths(similar, written[1]), options.CatalogMemoryLimits,
            (tooSmall, next) => options.OnCatalogRetry?.Invoke($"DuckDB ran out of its {tooSmall} memory limit building the catalog; building it again with {next}."));
        faults.Reach("database-staged");
        ct.ThrowIfCancellationRequested();
        // On object storage the commit is the conditional write of _LATEST, before the local one (see RemoteLake).
        if (options.Remote is { } remote) await CommitRemoteAsync(remote, req, tables.Select(t => t.At).ToList(), faults, ct);

        // The commit point: from here on the publish is completed, by us or by whoever finds the journal.
        var journal = new PublishJournal(req.Run.RunId, recs.Staged, recs.Target, stagedDb,
            req.SimilarItems is null ? null : similar.Staged, similar.Target);
        journal.Write(lakeDir);
        faults.Reach("journal-written");
        repairs = [.. repairs, .. RollForward(lakeDir, journal, faults)];
        ApplyRetention(lakeDir, cutoff);
        faults.Reach("retention-applied");
        if (options.Remote is { } published) repairs = [.. repairs, .. await AfterRemoteCommitAsync(published, cutoff, faults, ct)];
        return new PublishResult(recs.Target, Path.Combine(lakeDir, DuckDbCatalog.FileName), manifests[0], repairs,
            req.SimilarItems is null ? null : similar.Target)
        {
            Remote = options.Remote is { } r ? (r.Store.Describe(r.RunFolder(Path.GetFileName(Path.GetDirectoryName(recs.Target)!), req.Run.RunDate, req.Run.RunId)),
                r.Store.Describe(r.Prefix + DuckDbCatalog.FileName)) : null,
        };
    }

    /// <summary>
    /// Uploads each staged partition into its run folder and commits them by <c>_LATEST</c>, each conditioned on what it
    /// named before the upload (<see cref="RemoteLake"/>). A run without similar items leaves the date's similar items as
    /// they were on object storage (retention ages them out).
    /// </summary>
    private static async Task CommitRemoteAsync(RemoteLake remote, PublishRequest req, IReadOnlyList<Partition> partitions, IFaultInjector faults, CancellationToken ct)
    {
        var runDate = req.Run.RunDate;
        var staged = partitions.Select(p => (Dir: Path.GetFileName(Path.GetDirectoryName(p.Target)!), p.Staged)).ToList();
        var seen = new List<string?>();
        foreach (var (dir, _) in staged) seen.Add((await remote.LatestAsync(dir, runDate, ct)).ETag);
        foreach (var (dir, stagedDir) in staged) await remote.UploadRunAsync(dir, stagedDir, runDate, req.Run.RunId, ct);
        faults.Reach(FaultPoint.RemotePartsUploaded);
        for (int i = 0; i < staged.Count; i++) await remote.CommitAsync(staged[i].Dir, runDate, req.Run.RunId, seen[i], ct);
        faults.Reach(FaultPoint.RemoteCommitted);
    }

    /// <summary>
    /// After the commit, best-effort: the catalog's snapshot and the lake's retention. The run is published whatever happens
    /// here; a failure is reported (as a repair to make) and the next publish does it again.
    /// </summary>
    private static async Task<IReadOnlyList<string>> AfterRemoteCommitAsync(RemoteLake remote, DateOnly cutoff, IFaultInjector faults, CancellationToken ct)
    {
        var notes = new List<string>();
        try
        {
            await remote.PushCatalogAsync(ct);
            faults.Reach(FaultPoint.RemoteCatalogUploaded);
            await remote.ApplyRetentionAsync(PartitionedDirs, cutoff, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            notes.Add($"{remote.Location}: the catalog snapshot or retention failed after the commit ({e.Message}); the next publish retries");
        }
        return notes;
    }

    /// <summary>A partition's live directory and the staging directory beside it where this run builds it.</summary>
    private sealed record Partition(string Staged, string Target)
    {
        public static Partition Of(string lakeDir, string dir, RunRecord run)
        {
            string root = Path.Combine(lakeDir, dir); // created by the writer, so a run without similar items leaves no empty folder
            return new(Path.Combine(root, $"{StagingPrefix}{PartitionName(run.RunDate)}-{run.RunId}"), Path.Combine(root, PartitionName(run.RunDate)));
        }
    }

    private static List<string> PartPaths(Partition at, IReadOnlyList<PartFile> parts) => parts.Select(p => Path.Combine(at.Staged, p.Name)).ToList();

    private static RunManifest Manifest(PublishRequest req, ListTable table, IReadOnlyList<PartFile> parts) =>
        new(req.Run.RunId, req.Run.Job, req.Run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), DateTime.UtcNow,
            parts.Sum(p => p.Rows), table.Schema, parts, req.Run.Settings, req.Run.Metrics, req.InputFiles, req.SkippedInputs ?? []);

    /// <summary>Records a run's status without publishing (running at start; failed or rejected at the end).
    /// Returns what had to be repaired first (see <see cref="Recover"/>).</summary>
    public static async Task<IReadOnlyList<string>> RecordRunAsync(string lakeDir, RunRecord run, PublishOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PublishOptions();
        using var publishLock = await PublishLock.AcquireAsync(lakeDir, TimeSpan.FromSeconds(options.LockTimeoutSeconds), ct, options.OnLockWait);
        var repairs = Recover(lakeDir, options.Faults);
        DuckDbCatalog.RecordRun(lakeDir, run);
        return repairs;
    }

    /// <summary>
    /// For readers: completes a dead publisher's commit and sets aside foreign database files, if no publisher is at
    /// work (the lock is free). Returns what was repaired; nothing when another process holds the lock (it repairs).
    /// </summary>
    public static IReadOnlyList<string> TryRecover(string lakeDir)
    {
        if (!Directory.Exists(lakeDir)) return [];
        using var publishLock = PublishLock.TryAcquire(lakeDir);
        return publishLock is null ? [] : Recover(lakeDir);
    }

    /// <summary>
    /// Brings the lake to a committed state; the caller holds the <see cref="PublishLock"/>. A journal means a publish
    /// died after its commit point: it is rolled forward. Then the leftovers of publishers that died before theirs are
    /// deleted, database files that no publisher wrote (an analyst's write-ahead log) are set aside, and runs whose
    /// process died while running (an expired <see cref="RunLease"/>) are recorded as abandoned.
    /// </summary>
    /// <param name="lakeDir">the lake.</param>
    /// <param name="faults">told the roll-forward's steps (tests only; null: nothing happens).</param>
    public static IReadOnlyList<string> Recover(string lakeDir, IFaultInjector? faults = null)
    {
        var repairs = new List<string>();
        if (PublishJournal.TryRead(lakeDir) is { } journal)
        {
            repairs.Add($"completed the publish of run {journal.RunId} that stopped after its commit point");
            repairs.AddRange(RollForward(lakeDir, journal, faults ?? NoFaults.Instance));
        }
        RemoveLeftovers(lakeDir);
        repairs.AddRange(DuckDbCatalog.SetAsideForeignFiles(lakeDir));
        repairs.AddRange(DuckDbCatalog.AbandonExpired(lakeDir, DateTime.UtcNow).Select(id => $"recorded run {id} as abandoned (its lease expired)"));
        return repairs;
    }

    /// <summary>Makes a journal's partitions and database live; idempotent, so a crash at any step can run it again.</summary>
    private static IReadOnlyList<string> RollForward(string lakeDir, PublishJournal journal, IFaultInjector faults)
    {
        // Parquet first (services), then DuckDB (analysts). A partition is live once its manifest names the run.
        SwapIn(journal.StagedPartition, journal.TargetPartition, journal.RunId);
        faults.Reach("partition-swapped");
        if (journal.TargetSimilar is { } similar)
        {
            if (journal.StagedSimilar is { } staged) SwapIn(staged, similar, journal.RunId);
            else if (Directory.Exists(similar))
                // No similar items this run: the date's earlier ones must not pass for this run's. Renamed to a leftover
                // name in one step (then deleted below), so a crash never leaves a half-deleted partition live.
                Directory.Move(similar, similar + ".old-" + Guid.NewGuid().ToString("N")[..8]);
        }
        faults.Reach("similar-swapped");
        var setAside = File.Exists(journal.StagedDatabase) ? DuckDbCatalog.Commit(lakeDir, journal.StagedDatabase) : [];
        faults.Reach("database-committed");
        PublishJournal.Delete(lakeDir);
        // The staged name now holds the previous partition (or nothing): a leftover.
        RemoveLeftovers(lakeDir);
        return setAside;
    }

    /// <summary>Exchanges a staged partition with the live one unless that already holds the run (done before a crash).</summary>
    private static void SwapIn(string staged, string target, string runId)
    {
        if (Directory.Exists(staged) && LiveRunId(target) != runId)
            AtomicRename.ReplaceDirectory(staged, target);
    }

    private static string? LiveRunId(string partition)
    {
        string manifest = Path.Combine(partition, RunManifest.FileName);
        return File.Exists(manifest) ? RunManifest.Read(manifest).RunId : null;
    }

    /// <summary>Staged partitions and database copies of publishers that died before their commit point (safe: we hold
    /// the publish lock and no journal names them).</summary>
    private static void RemoveLeftovers(string lakeDir)
    {
        foreach (var root in PartitionedDirs.Select(d => Path.Combine(lakeDir, d)).Where(Directory.Exists))
            foreach (var d in Directory.GetDirectories(root, StagingPrefix + "*").Concat(Directory.GetDirectories(root, "run_date=*.old-*")))
                Directory.Delete(d, recursive: true);
        foreach (var f in Directory.GetFiles(lakeDir, $".{DuckDbCatalog.FileName}.*.tmp*"))
            File.Delete(f);
    }

    /// <summary>Deletes Parquet partitions (recommendations and similar items) of run dates before <paramref name="cutoff"/>.</summary>
    private static void ApplyRetention(string lakeDir, DateOnly cutoff)
    {
        foreach (var d in PartitionedDirs.Select(d => Path.Combine(lakeDir, d)).Where(Directory.Exists).SelectMany(r => Directory.GetDirectories(r, "run_date=*")))
        {
            var name = Path.GetFileName(d)["run_date=".Length..];
            if (DateOnly.TryParseExact(name, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day < cutoff)
                Directory.Delete(d, recursive: true);
        }
    }
}
