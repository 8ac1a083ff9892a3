using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Input;

/// <summary>One served row's exposure and outcome, in the feedback contract (<see cref="FeedbackReader"/>).</summary>
public readonly record struct FeedbackRow(long UserId, long ItemId, DateTime EventTimeUtc, int Position, float Propensity, string RunId, bool Clicked);

/// <summary>Writes feedback in the contract <see cref="FeedbackReader"/> reads: <c>DIR/dt=YYYY-MM-DD/part-00000.parquet</c>.</summary>
public static class FeedbackWriter
{
    public static async Task WriteDayAsync(string dir, DateOnly day, IReadOnlyList<FeedbackRow> rows, CancellationToken ct = default)
    {
        string folder = Path.Combine(dir, PartitionPath.DirectoryFor(day));
        Directory.CreateDirectory(folder);
        var fields = new DataField[]
        {
            new DataField<long>("user_id"), new DataField<long>("item_id"), new DataField<DateTime>("event_time"), new DataField<int>("position"),
            new DataField<float>("propensity"), new DataField<string>("run_id"), new DataField<bool>("clicked"),
        };
        string path = Path.Combine(folder, "part-00000.parquet"), tmp = path + ".tmp";
        await using (var stream = File.Create(tmp))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream, cancellationToken: ct))
        {
            using var rg = writer.CreateRowGroup();
            await rg.WriteAsync<long>((DataField<long>)fields[0], rows.Select(r => r.UserId).ToArray(), null, null, ct);
            await rg.WriteAsync<long>((DataField<long>)fields[1], rows.Select(r => r.ItemId).ToArray(), null, null, ct);
            await rg.WriteAsync<DateTime>((DataField<DateTime>)fields[2], rows.Select(r => r.EventTimeUtc).ToArray(), null, null, ct);
            await rg.WriteAsync<int>((DataField<int>)fields[3], rows.Select(r => r.Position).ToArray(), null, null, ct);
            await rg.WriteAsync<float>((DataField<float>)fields[4], rows.Select(r => r.Propensity).ToArray(), null, null, ct);
            await rg.WriteAsync(fields[5], new ArraySegment<string>(rows.Select(r => r.RunId).ToArray()), null);
            await rg.WriteAsync<bool>((DataField<bool>)fields[6], rows.Select(r => r.Clicked).ToArray(), null, null, ct);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
