using BatchRecs.Core.Data;

namespace BatchRecs.Lake.Input;

/// <summary>
/// Reads an exposure (impression) log — Parquet with <c>user_id</c>, <c>item_id</c>, <c>event_time</c> — over the
/// run's window and maps it onto the run's users and items (exposures of ids the run does not know are dropped).
/// Errors name the file and column, prefixed so they read as the exposure log's.
/// </summary>
public static class ExposureReader
{
    public static async Task<ExposureLog> ReadAsync(string exposureDir, ReadWindow window, IdMap users, IdMap items, CancellationToken ct = default)
    {
        ReadResult read;
        try
        {
            read = await InteractionReader.ReadAsync(exposureDir, window, new EventRules(), ct);
        }
        catch (LakeInputException e)
        {
            throw new LakeInputException("exposure log: " + e.Message, e.File, e.Column, e);
        }
        var log = read.Events;
        if (log.UserIds.Kind != users.Kind || log.ItemIds.Kind != items.Kind)
            throw new LakeInputException($"exposure log '{exposureDir}': id kinds ({log.UserIds.Kind}/{log.ItemIds.Kind}) differ from the interaction log's ({users.Kind}/{items.Kind}).", exposureDir);
        var userMap = Remap(log.UserIds, users);
        var itemMap = Remap(log.ItemIds, items);
        var r = new List<int>(log.Count); var c = new List<int>(log.Count); var t = new List<long>(log.Count);
        for (int k = 0; k < log.Chunks; k++)
        {
            var chunk = log.ChunkAt(k);
            var us = chunk.Users.Span; var its = chunk.Items.Span; var ts = chunk.Times.Span;
            for (int e = 0; e < us.Length; e++)
            {
                int u = userMap[us[e]], i = itemMap[its[e]];
                if (u >= 0 && i >= 0) { r.Add(u); c.Add(i); t.Add(ts[e]); }
            }
        }
        // Distinct exposed pairs, each with its first exposure's time.
        return ExposureLog.FromEvents(users.Count, items.Count, r.ToArray(), c.ToArray(), t.ToArray());
    }

    private static int[] Remap(IdMap from, IdMap to)
    {
        var result = new int[from.Count];
        for (int x = 0; x < from.Count; x++)
            result[x] = (from.Kind == IdKind.Int64 ? to.TryGetIndex(from.Int64At(x), out int i) : to.TryGetIndex(from.StringAt(x), out i)) ? i : -1;
        return result;
    }
}
