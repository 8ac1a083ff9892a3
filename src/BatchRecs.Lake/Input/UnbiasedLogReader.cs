using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;

namespace BatchRecs.Lake.Input;

/// <summary>
/// Reads <c>unbiased_input</c>: Parquet of <c>user_id</c>, <c>item_id</c>, <c>label</c> (BOOLEAN, or a number: &gt; 0 is
/// positive) and an optional <c>propensity</c> (the probability the item was shown, in (0, 1]; 1 when the column is
/// absent: a randomized log). Ids are matched to the run's; pairs of users or items the run does not know cannot be
/// ranked by its model and are left out, and counted. Errors name the file, column, row group and row.
/// </summary>
public static class UnbiasedLogReader
{
    public const string Setting = "unbiased_input";

    /// <summary>The log on the run's dense indices, and how many of its rows named a user or item the run does not know.</summary>
    public sealed record Result(UnbiasedLog Log, int Rows, int UnknownRows);

    public static async Task<Result> ReadAsync(string path, IdMap users, IdMap items, CancellationToken ct = default)
    {
        var table = await SideTable.ReadAsync(Setting, path, ct);
        var user = SideTable.IndicesOf(table.Ids("user_id", users.Kind), users);
        var item = SideTable.IndicesOf(table.Ids("item_id", items.Kind), items);
        var label = table.Numbers("label");
        var propensity = table.Has("propensity")
            ? table.Numbers("propensity", p => p > 0 && p <= 1 ? null : string.Create(CultureInfo.InvariantCulture, $"propensity {p} is not in (0, 1] (the probability the item was shown)"))
            : null;
        var (u, i, positive, p) = (new List<int>(), new List<int>(), new List<bool>(), new List<float>());
        for (int r = 0; r < table.Rows; r++)
        {
            if (user[r] < 0 || item[r] < 0) continue;
            u.Add(user[r]); i.Add(item[r]); positive.Add(label[r] > 0); p.Add(propensity is null ? 1f : (float)propensity[r]);
        }
        if (u.Count == 0)
            throw new LakeInputException($"{Setting} '{path}': none of its {table.Rows} rows names a user and an item of this run's window; it cannot judge the model.", path);
        var log = UnbiasedLog.FromRows(users.Count, items.Count, u.ToArray(), i.ToArray(), positive.ToArray(), p.ToArray());
        if (log.Positives == 0)
            throw new LakeInputException($"{Setting} '{path}': no row of a known user and item has a positive label; it cannot judge the model.", path);
        return new Result(log, table.Rows, table.Rows - u.Count);
    }
}
