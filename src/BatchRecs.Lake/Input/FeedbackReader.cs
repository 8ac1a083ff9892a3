using System.Globalization;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;

namespace BatchRecs.Lake.Input;

/// <summary>
/// Reads <c>feedback_input</c>: the exposures and outcomes of lists that were served, as Parquet under
/// <c>dt=YYYY-MM-DD</c> partitions, with <c>user_id</c>, <c>item_id</c>, <c>event_time</c>, <c>position</c>,
/// <c>propensity</c> (the logged probability the served list held the item, in (0, 1]), <c>run_id</c> (the BatchRecs run
/// whose list was served) and <c>clicked</c> (BOOLEAN) or <c>value</c> (&gt; 0 is a click). Only the partitions of the
/// window are opened. A missing or out-of-range propensity, or a run_id the lake never published, is refused naming the
/// file, column, row group and row: an estimate from guessed propensities would look exact and be wrong. Rows of users or
/// items tonight's run does not know are left out and counted.
/// </summary>
public static class FeedbackReader
{
    public const string Setting = "feedback_input";

    /// <summary>The log on the run's dense indices, the files read, and the rows left out for unknown users or items.</summary>
    public sealed record Result(FeedbackLog Log, int Files, int Rows, int UnknownRows);

    /// <param name="dir">the feedback directory.</param>
    /// <param name="from">the first date read.</param>
    /// <param name="until">the first date not read (the run date: tonight's traffic is not in yet).</param>
    /// <param name="users">the published users' ids.</param>
    /// <param name="items">the run's items.</param>
    /// <param name="publishedRuns">run ids the lake published: a row naming another run was not served by BatchRecs.</param>
    /// <param name="ct">cancels the read.</param>
    public static async Task<Result> ReadAsync(string dir, DateOnly from, DateOnly until, IdMap users, IdMap items,
        IReadOnlySet<string> publishedRuns, CancellationToken ct = default)
    {
        // Listed as the interaction input is (links followed once, metadata and 0-byte entries never opened, partitions
        // outside the window never listed).
        InputListing listing;
        try { listing = await InputDirectory.ListAsync(dir, new ReadWindow(until, until.DayNumber - from.DayNumber), ct); }
        catch (LakeInputException e) { throw new LakeInputException($"{Setting} '{dir}': {e.Message}", dir, null, e); }
        var files = new List<(string Path, DateOnly Day)>();
        foreach (var file in listing.Files)
        {
            if (file.Problem is { } problem) throw new LakeInputException($"{Setting}: {problem}", file.Path);
            if (file.Day is null) throw new LakeInputException($"{Setting}: {file.Path} is not under a dt=YYYY-MM-DD partition.", file.Path);
            files.Add((file.Path, file.Day.Value));
        }
        var (u, i, p, c, at, night) = (new List<int>(), new List<int>(), new List<float>(), new List<bool>(), new List<int>(), new List<int>());
        int rows = 0, unknown = 0;
        foreach (var (file, day) in files)
        {
            var table = await SideTable.ReadAsync(Setting, file, ct);
            foreach (var column in new[] { "user_id", "item_id", "event_time", "position", "propensity", "run_id" })
                if (!table.Has(column))
                    throw new LakeInputException($"{Setting}: {file}: required column '{column}' is missing (columns: {string.Join(", ", table.Columns)}).", file, column);
            if (!table.Has("clicked") && !table.Has("value"))
                throw new LakeInputException($"{Setting}: {file}: needs a 'clicked' (BOOLEAN) or 'value' column for the outcome (columns: {string.Join(", ", table.Columns)}).", file, "clicked");
            var user = SideTable.IndicesOf(table.Ids("user_id", users.Kind), users);
            var item = SideTable.IndicesOf(table.Ids("item_id", items.Kind), items);
            var propensity = table.Numbers("propensity", x => x > 0 && x <= 1 ? null
                : string.Create(CultureInfo.InvariantCulture, $"propensity {x} is not in (0, 1]: it must be the probability the served list held the item"));
            var position = table.Numbers("position", x => x >= 1 && x <= int.MaxValue && x == Math.Floor(x) ? null
                : string.Create(CultureInfo.InvariantCulture, $"position {x} is not a whole number ≥ 1: it must be the 1-based rank the item was served at"));
            // Checked, not kept: the estimate needs only who saw what with which propensity.
            table.Texts("run_id", id => id is null ? "null run_id" : publishedRuns.Contains(id) ? null : $"run_id '{id}' is not a run this lake published");
            var clicked = table.Has("clicked") ? table.Bools("clicked") : table.Numbers("value").Select(v => v > 0).ToArray();
            for (int r = 0; r < table.Rows; r++)
            {
                if (user[r] < 0 || item[r] < 0) { unknown++; continue; }
                u.Add(user[r]); i.Add(item[r]); p.Add((float)propensity[r]); c.Add(clicked[r]); at.Add((int)position[r]); night.Add(day.DayNumber);
            }
            rows += table.Rows;
        }
        return new Result(new FeedbackLog(u.ToArray(), i.ToArray(), p.ToArray(), c.ToArray()) { Positions = at.ToArray(), Nights = night.ToArray() }, files.Count, rows, unknown);
    }
}
