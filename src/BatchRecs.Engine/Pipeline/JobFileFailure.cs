using System.Text.Json;
using BatchRecs.Core.Errors;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// A job file that cannot be loaded still leaves a trace where operators look: a <c>failed</c> row in the lake's
/// <c>runs</c> table with the reason, for the job named after the file.
/// </summary>
public static class JobFileFailure
{
    /// <summary>
    /// Loads <paramref name="jobFile"/> (null: the default job). When it fails, records a failed run of the job in
    /// <paramref name="lakeDir"/> (or, when null, in the lake the file names, if it can be read that far) and rethrows.
    /// </summary>
    public static async Task<JobDefinition> LoadOrRecordAsync(string? jobFile, string? lakeDir, DateOnly? runDate, CancellationToken ct)
    {
        if (jobFile is null) return JobDefinition.Default;
        try
        {
            return JobDefinition.Load(jobFile);
        }
        catch (BadInputException e)
        {
            string? lake = lakeDir ?? PeekLake(jobFile);
            if (lake is not null && !File.Exists(lake))
            {
                var now = DateTime.UtcNow;
                string job = Path.GetFileNameWithoutExtension(jobFile);
                var date = runDate ?? DateOnly.FromDateTime(now);
                var run = new RunRecord(NightlyRun.NewRunId(job, date, now), job, date, RunStatus.Failed, now, now,
                    e.Message.Contains(jobFile, StringComparison.Ordinal) ? e.Message : $"job file '{jobFile}': {e.Message}", 0, 0, 0, new Dictionary<string, double>(), new Dictionary<string, string>());
                try { await LakePublisher.RecordRunAsync(lake, run, ct: ct); }
                catch (Exception recordError) when (recordError is IOException or BatchRecsException) { }
            }
            throw;
        }
    }

    /// <summary>The <c>lake</c> a broken job file names, when the file is at least JSON with that key.</summary>
    private static string? PeekLake(string jobFile)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(jobFile), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("lake", out var l) && l.GetString() is { Length: > 0 } v
                ? Path.GetFullPath(v, Path.GetDirectoryName(Path.GetFullPath(jobFile))!)
                : null;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return null;
        }
    }
}
