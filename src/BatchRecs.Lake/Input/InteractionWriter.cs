using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Input;

/// <summary>Columns of an interaction log to write; ids are INT64 or STRING (exactly one of each pair set).</summary>
public sealed record InteractionColumns(
    long[]? UserLongs, string[]? UserStrings,
    long[]? ItemLongs, string[]? ItemStrings,
    long[] TimesMicros, string[]? EventTypes = null, double[]? Values = null)
{
    public int Count => TimesMicros.Length;
}

/// <summary>
/// Writes interaction logs in the input contract, partitioned by UTC day:
/// <c>DIR/dt=YYYY-MM-DD/part-00000.parquet</c>. Used by <c>demo-data</c> and the importers.
/// </summary>
public static class InteractionWriter
{
    public const int RowGroupRows = 1 << 20;

    public static async Task<int> WriteByDayAsync(string outDir, InteractionColumns c, CancellationToken ct = default)
    {
        int n = c.Count;
        var day = new int[n];
        for (int r = 0; r < n; r++) day[r] = (int)Math.Floor(c.TimesMicros[r] / 86_400e6);
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => day[a] != day[b] ? day[a].CompareTo(day[b]) : c.TimesMicros[a] != c.TimesMicros[b] ? c.TimesMicros[a].CompareTo(c.TimesMicros[b]) : a.CompareTo(b));
        int partitions = 0;
        for (int p = 0; p < n;)
        {
            int q = p;
            while (q < n && day[order[q]] == day[order[p]]) q++;
            var date = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + day[order[p]]);
            var dir = Path.Combine(outDir, PartitionPath.DirectoryFor(date));
            Directory.CreateDirectory(dir);
            await WriteFileAsync(Path.Combine(dir, "part-00000.parquet"), c, order.AsMemory(p, q - p), ct);
            partitions++;
            p = q;
        }
        return partitions;
    }

    /// <summary>Writes the given rows (indices into <paramref name="c"/>) to one Parquet file, via a temp file and rename.</summary>
    public static async Task WriteFileAsync(string path, InteractionColumns c, ReadOnlyMemory<int> rows, CancellationToken ct = default)
    {
        var userField = c.UserLongs is not null ? new DataField<long>(InteractionReader.UserColumn) : (DataField)new DataField<string>(InteractionReader.UserColumn);
        var itemField = c.ItemLongs is not null ? new DataField<long>(InteractionReader.ItemColumn) : (DataField)new DataField<string>(InteractionReader.ItemColumn);
        // Millis, not micros: Parquet.Net 6.1 writes micros columns with min/max statistics in millis, so readers that
        // prune row groups by statistics (DuckDB, Spark) would skip every row of a time filter.
        var timeField = new DateTimeDataField(InteractionReader.TimeColumn, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis);
        var fields = new List<Field> { userField, itemField, timeField };
        var typeField = new DataField<string>(InteractionReader.TypeColumn);
        var valueField = new DataField<double>(InteractionReader.ValueColumn);
        if (c.EventTypes is not null) fields.Add(typeField);
        if (c.Values is not null) fields.Add(valueField);
        var schema = new ParquetSchema(fields);
        string tmp = path + ".tmp";
        await using (var stream = File.Create(tmp))
        {
            await using var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct);
            for (int start = 0; start < rows.Length; start += RowGroupRows)
            {
                var idx = rows.Slice(start, Math.Min(RowGroupRows, rows.Length - start)).ToArray();
                using var rg = writer.CreateRowGroup();
                if (c.UserLongs is not null) await rg.WriteAsync<long>(userField, idx.Select(r => c.UserLongs[r]).ToArray(), null, null, ct);
                else await rg.WriteAsync(userField, idx.Select(r => c.UserStrings![r]).ToArray(), null);
                if (c.ItemLongs is not null) await rg.WriteAsync<long>(itemField, idx.Select(r => c.ItemLongs[r]).ToArray(), null, null, ct);
                else await rg.WriteAsync(itemField, idx.Select(r => c.ItemStrings![r]).ToArray(), null);
                await rg.WriteAsync<DateTime>(timeField, idx.Select(r => DateTime.UnixEpoch.AddTicks(c.TimesMicros[r] * 10)).ToArray(), null, null, ct);
                if (c.EventTypes is not null) await rg.WriteAsync(typeField, idx.Select(r => c.EventTypes[r]).ToArray(), null);
                if (c.Values is not null) await rg.WriteAsync<double>(valueField, idx.Select(r => c.Values[r]).ToArray(), null, null, ct);
            }
        }
        File.Move(tmp, path, overwrite: true);
    }
}
