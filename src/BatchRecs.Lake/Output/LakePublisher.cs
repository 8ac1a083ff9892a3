using System.Globalization;

namespace BatchRecs.Lake.Output;

/// <summary>What a publish produced, and what it had to repair first (a dead publisher's commit rolled forward, foreign
/// database files set aside), for the log.</summary>
public sealed record PublishResult(string PartitionDir, string DatabasePath, RunManifest Manifest, IReadOnlyList<string> Repairs);

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
/// Publishes a run all or nothing. The Parquet partition <c>LAKE/recommendations/run_date=D/</c> (parts, then
/// <c>_SUCCESS</c>, then <c>manifest.json</c>) is staged beside its final name and the next DuckDB file beside the live
/// one; then a <see cref="PublishJournal"/> is written (the commit point), and both are swapped in by rename. A crash
/// before the journal leaves the previous partition and database intact (the next publish clears the leftovers); a
/// crash after it is completed by the next publisher or reader (<see cref="Recover"/>). Either way Parquet and DuckDB
/// end both old or both new.
/// </summary>
public static class LakePublisher
{
    public const string RecommendationsDir = "recommendations";
    private const string StagingPrefix = ".staging-";

    public static string PartitionName(DateOnly runDate) => "run_date=" + runDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static async Task<PublishResult> PublishAsync(string lakeDir, PublishRequest req, PublishOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PublishOptions();
        using var publishLock = await PublishLock.AcquireAsync(lakeDir, TimeSpan.FromSeconds(options.LockTimeoutSeconds), ct, options.OnLockWait);
        var faults = options.Faults;
        var repairs = Recover(lakeDir, faults);
        string recRoot = Path.Combine(lakeDir, RecommendationsDir);
        Directory.CreateDirectory(recRoot);
        string target = Path.Combine(recRoot, PartitionName(req.Run.RunDate));
        string staged = Path.Combine(recRoot, $"{StagingPrefix}{PartitionName(req.Run.RunDate)}-{req.Run.RunId}");

        var parts = await RecommendationWriter.WriteAsync(staged, req, ct);
        faults.Reach("parts-written");
        var manifest = new RunManifest(req.Run.RunId, req.Run.Job, req.Run.RunDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            DateTime.UtcNow, parts.Sum(p => p.Rows), OutputSchema(req), parts, req.Run.Settings, req.Run.Metrics, req.InputFiles, req.SkippedInputs ?? []);
        AtomicRename.WriteFile(Path.Combine(staged, RunManifest.SuccessMarker), []);
        faults.Reach("success-written");
        AtomicRename.WriteFile(Path.Combine(staged, RunManifest.FileName), manifest.ToUtf8());
        faults.Reach("manifest-written");

        var cutoff = options.RetentionCutoff(req.Run.RunDate);
        string stagedDb = DuckDbCatalog.Stage(lakeDir, req, parts.Select(p => Path.Combine(staged, p.Name)).ToList(), cutoff);
        faults.Reach("database-staged");
        ct.ThrowIfCancellationRequested();

        // The commit point: from here on the publish is completed, by us or by whoever finds the journal.
        var journal = new PublishJournal(req.Run.RunId, staged, target, stagedDb);
        journal.Write(lakeDir);
        faults.Reach("journal-written");
        repairs = [.. repairs, .. RollForward(lakeDir, journal, faults)];
        ApplyRetention(recRoot, cutoff);
        faults.Reach("retention-applied");
        return new PublishResult(target, Path.Combine(lakeDir, DuckDbCatalog.FileName), manifest, repairs);
    }

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

    /// <summary>Makes a journal's partition and database live; idempotent, so a crash at any step can run it again.</summary>
    private static IReadOnlyList<string> RollForward(string lakeDir, PublishJournal journal, IFaultInjector faults)
    {
        // Parquet first (services), then DuckDB (analysts). The partition is live once its manifest names the run.
        if (Directory.Exists(journal.StagedPartition) && LiveRunId(journal.TargetPartition) != journal.RunId)
            AtomicRename.ReplaceDirectory(journal.StagedPartition, journal.TargetPartition);
        faults.Reach("partition-swapped");
        var setAside = File.Exists(journal.StagedDatabase) ? DuckDbCatalog.Commit(lakeDir, journal.StagedDatabase) : [];
        faults.Reach("database-committed");
        PublishJournal.Delete(lakeDir);
        // The staged name now holds the previous partition (or nothing): a leftover.
        RemoveLeftovers(lakeDir);
        return setAside;
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
        string recRoot = Path.Combine(lakeDir, RecommendationsDir);
        if (Directory.Exists(recRoot))
            foreach (var d in Directory.GetDirectories(recRoot, StagingPrefix + "*").Concat(Directory.GetDirectories(recRoot, "run_date=*.old-*")))
                Directory.Delete(d, recursive: true);
        foreach (var f in Directory.GetFiles(lakeDir, $".{DuckDbCatalog.FileName}.*.tmp*"))
            File.Delete(f);
    }

    /// <summary>Deletes Parquet partitions of run dates before <paramref name="cutoff"/>.</summary>
    private static void ApplyRetention(string recRoot, DateOnly cutoff)
    {
        foreach (var d in Directory.GetDirectories(recRoot, "run_date=*"))
        {
            var name = Path.GetFileName(d)["run_date=".Length..];
            if (DateOnly.TryParseExact(name, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day < cutoff)
                Directory.Delete(d, recursive: true);
        }
    }

    private static IReadOnlyList<ManifestColumn> OutputSchema(PublishRequest req)
    {
        static string Id(Core.Data.IdMap m) => m.Kind == Core.Data.IdKind.Int64 ? "INT64" : "STRING";
        return [new("user_id", Id(req.Users)), new("item_id", Id(req.Items)), new("rank", "INT32"), new("score", "FLOAT"), new("source", "STRING"), new("run_id", "STRING")];
    }
}
