using BatchRecs.Core.Data;
using BatchRecs.Core.Index;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Output;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// Who gets a list and what a list may hold, mapped onto the run's dense indices: the published users (the model's,
/// then <c>users_input</c>'s users without history) with their segments, the items nobody gets (<c>exclude_input</c>'s
/// bans, <c>items_input</c>'s unavailable items), per-user exclusions, and the category cap.
/// </summary>
public sealed class ListRules
{
    /// <summary>The columns of the side inputs.</summary>
    public const string UserColumn = "user_id", ItemColumn = "item_id", AvailableColumn = "available", CategoryColumn = "category";

    private ListRules(IdMap users, int modelUsers)
    {
        Users = users;
        ModelUsers = modelUsers;
    }

    /// <summary>The published users: the model's users at their indices, then listed users without history.</summary>
    public IdMap Users { get; }

    /// <summary>Users with history in the window (indices 0..ModelUsers-1 of <see cref="Users"/>).</summary>
    public int ModelUsers { get; }

    /// <summary>Items nobody gets (bans and unavailable items), or null.</summary>
    public IReadOnlySet<int>? Banned { get; private init; }

    /// <summary>Published users × items: items excluded for one user, or null.</summary>
    public CsrMatrix? UserExclusions { get; private init; }

    /// <summary>The category cap, or null.</summary>
    public CategoryCap? Cap { get; private init; }

    /// <summary>Each published user's segment (−1: none), or null without segment columns.</summary>
    public int[]? Segment { get; private init; }

    /// <summary>Segment names, by segment code.</summary>
    public IReadOnlyList<string> SegmentNames { get; private init; } = [];

    public int BannedItems { get; private init; }
    public int UnavailableItems { get; private init; }
    public long ExcludedPairs { get; private init; }
    public int ListedUsers { get; private init; }

    /// <summary>
    /// Whether any user may get the popularity fallback: listed users without history, or a <paramref name="minHistory"/>
    /// above 1 (every user with history has at least one item).
    /// </summary>
    public bool MayNeedFallback(int minHistory) => Users.Count > ModelUsers || minHistory > 1;

    /// <summary>
    /// <see cref="MayNeedFallback(int)"/> from the settings alone, before the rules are read (the pairs stage decides by it
    /// whether to keep the pairs' times for the fallback): users_input may list users without history.
    /// </summary>
    public static bool MayNeedFallback(JobSettings settings) => settings.Input.UsersInput is not null || settings.Lists.MinHistory > 1;

    /// <summary>Whether a rule keeps <paramref name="item"/> from published user <paramref name="user"/>.</summary>
    public bool Excludes(int user, int item) =>
        (Banned is not null && Banned.Contains(item)) || (UserExclusions is not null && UserExclusions.Contains(user, item));

    /// <summary>Reads the job's side inputs (any may be unset) and maps them onto the run's ids.</summary>
    /// <param name="settings">the job's settings (users_input, exclude_input, max_per_category).</param>
    /// <param name="itemsFile">the item metadata file (items_input or the conventional one), or null.</param>
    /// <param name="users">the model's users (history in the window).</param>
    /// <param name="items">the model's items.</param>
    /// <param name="ct">cancels the reads.</param>
    public static async Task<ListRules> LoadAsync(JobSettings settings, string? itemsFile, IdMap users, IdMap items, CancellationToken ct)
    {
        var published = users;
        int[]? segment = null;
        string[] segmentNames = [];
        int listed = 0;
        if (settings.Input.UsersInput is { } usersPath)
        {
            var table = await SideTable.ReadAsync("users_input", usersPath, ct);
            var ids = table.Ids(UserColumn, users.Kind);
            var listedMap = ids.ToMap();
            listed = listedMap.Count;
            published = users.WithAppended(listedMap);
            (segment, segmentNames) = Segments(table, ids, published);
        }

        var banned = new HashSet<int>();
        int unavailable = 0, bannedByRule = 0;
        CategoryCap? cap = null;
        if (itemsFile is not null)
        {
            var table = await SideTable.ReadAsync("items_input", itemsFile, ct);
            bool wantsCategory = settings.Lists.MaxPerCategory > 0;
            if (table.Has(AvailableColumn) || wantsCategory)
            {
                var index = SideTable.IndicesOf(table.Ids(ItemColumn, items.Kind), items);
                if (table.Has(AvailableColumn))
                {
                    var available = table.Bools(AvailableColumn);
                    for (int r = 0; r < index.Length; r++)
                        if (index[r] >= 0 && !available[r] && banned.Add(index[r])) unavailable++;
                }
                if (wantsCategory)
                {
                    if (!table.Has(CategoryColumn))
                        throw new SettingsException("max_per_category", $"max_per_category={settings.Lists.MaxPerCategory} needs a '{CategoryColumn}' column in items_input '{itemsFile}' (columns: {string.Join(", ", table.Columns)}).");
                    cap = new CategoryCap(Codes(table.Texts(CategoryColumn), index, items.Count).Codes, settings.Lists.MaxPerCategory);
                }
            }
        }
        else if (settings.Lists.MaxPerCategory > 0)
            throw new SettingsException("max_per_category", "max_per_category needs item categories: set items_input to a Parquet file with item_id and category.");

        CsrMatrix? perUser = null;
        long pairs = 0;
        if (settings.Input.ExcludeInput is { } excludePath)
        {
            var table = await SideTable.ReadAsync("exclude_input", excludePath, ct);
            var itemIndex = SideTable.IndicesOf(table.Ids(ItemColumn, items.Kind), items);
            if (table.Has(UserColumn))
            {
                // A row with a user excludes the item for that user; a row whose user_id is null bans it for everyone.
                var userIds = table.Ids(UserColumn, users.Kind, allowNull: true);
                var userIndex = SideTable.IndicesOf(userIds, published);
                var (r, c) = (new List<int>(), new List<int>());
                for (int row = 0; row < itemIndex.Length; row++)
                {
                    if (itemIndex[row] < 0) continue;
                    if (userIds.IsNull![row]) { if (banned.Add(itemIndex[row])) bannedByRule++; }
                    else if (userIndex[row] >= 0) { r.Add(userIndex[row]); c.Add(itemIndex[row]); }
                }
                if (r.Count > 0)
                {
                    perUser = CsrMatrix.FromEntries(published.Count, items.Count, r.ToArray(), c.ToArray(), new float[r.Count]);
                    pairs = perUser.NonZeros;
                }
            }
            else
                foreach (int i in itemIndex)
                    if (i >= 0 && banned.Add(i)) bannedByRule++;
        }
        return new ListRules(published, users.Count)
        {
            Banned = banned.Count == 0 ? null : banned,
            UserExclusions = perUser,
            Cap = cap,
            Segment = segment,
            SegmentNames = segmentNames,
            BannedItems = bannedByRule,
            UnavailableItems = unavailable,
            ExcludedPairs = pairs,
            ListedUsers = listed,
        };
    }

    /// <summary>The segment of each published user from <c>users_input</c>'s other columns ("country=DE, tier=gold"), or nulls without any.</summary>
    private static (int[]? Segment, string[] Names) Segments(SideTable table, IdColumn ids, IdMap published)
    {
        var columns = table.Columns.Where(c => c != UserColumn).ToArray();
        if (columns.Length == 0) return (null, []);
        var values = columns.Select(table.Texts).ToArray();
        var keys = new string?[table.Rows];
        for (int r = 0; r < keys.Length; r++)
            keys[r] = values.All(v => v[r] is null) ? null
                : string.Join(", ", columns.Select((name, c) => $"{name}={values[c][r]}"));
        var index = SideTable.IndicesOf(ids, published);
        var (codes, names) = Codes(keys, index, published.Count);
        for (int r = 0; r < keys.Length; r++)
        {
            int u = index[r];
            int code = keys[r] is null ? -1 : Array.BinarySearch(names, keys[r], StringComparer.Ordinal);
            if (codes[u] != code)
                throw new LakeInputException($"users_input '{table.Path}': user '{(ids.Kind == IdKind.Int64 ? ids.Longs![r] : ids.Strings![r])}' is listed with two segments ('{Name(names, codes[u])}' and '{Name(names, code)}').", table.Path, UserColumn);
        }
        return (codes, names);
    }

    private static string Name(string[] names, int code) => code < 0 ? "none" : names[code];

    /// <summary>Codes values (ordinal order of the distinct values) per index; the first row of an index decides (−1: none).</summary>
    private static (int[] Codes, string[] Names) Codes(string?[] values, int[] index, int count)
    {
        var names = values.Where((v, r) => v is not null && index[r] >= 0).Select(v => v!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var codes = new int[count];
        Array.Fill(codes, -2);
        for (int r = 0; r < values.Length; r++)
            if (index[r] >= 0 && codes[index[r]] == -2)
                codes[index[r]] = values[r] is { } v ? Array.BinarySearch(names, v, StringComparer.Ordinal) : -1;
        for (int i = 0; i < count; i++) if (codes[i] == -2) codes[i] = -1;
        return (codes, names);
    }

    /// <summary>
    /// The published lists: the model's for users with at least <paramref name="minHistory"/> items, the popularity
    /// fallback (source <c>popular</c>) for the others and for listed users without history. Records how many users
    /// got each source and what the rules removed.
    /// </summary>
    /// <param name="model">the model's lists (rows: the model's users).</param>
    /// <param name="history">the window's users × items (rows: the model's users).</param>
    /// <param name="fallback">the popularity fallback; null only when <see cref="MayNeedFallback(int)"/> is false.</param>
    /// <param name="minHistory">distinct items a user needs for the model's list.</param>
    /// <param name="categoryRemoved">candidates the category cap removed from the model's lists.</param>
    /// <param name="metrics">the run's metrics.</param>
    public TopNResult Publish(TopNResult model, CsrMatrix history, PopularityFallback? fallback, int minHistory, long categoryRemoved,
        IDictionary<string, double> metrics)
    {
        int n = model.N;
        var lists = model;
        if (Users.Count > ModelUsers) lists = model.Grown(Users.Count);
        var removed = new RuleCounts { Category = categoryRemoved };
        int popular = 0, bySegment = 0;
        // The history of the model's users the fallback lists (its entries read from its store when this process holds rows only).
        var fallbackHistory = history.RowsOf(Enumerable.Range(0, ModelUsers).Where(u => history.RowLength(u) < minHistory));
        for (int u = 0; u < Users.Count; u++)
        {
            if (u < ModelUsers && history.RowLength(u) >= minHistory) continue;
            var seen = u < ModelUsers ? fallbackHistory.RowCols(u) : ReadOnlySpan<int>.Empty;
            int segment = Segment?[u] ?? -1;
            long at = (long)u * n;
            int user = u;
            if (fallback is null) throw new InvalidOperationException($"user {u} needs the popularity fallback, which was not built.");
            lists.Counts[u] = fallback.Fill(lists.Items.AsSpan((int)at, n), lists.Scores.AsSpan((int)at, n), segment, seen,
                item => Excludes(user, item), Cap, ref removed);
            lists.SetSource(u, ListSource.Popular);
            popular++;
            if (fallback.HasSegment(segment)) bySegment++;
        }
        metrics[MetricNames.ListsUsersModel] = Users.Count - popular;
        metrics[MetricNames.ListsUsersPopular] = popular;
        metrics[MetricNames.ListsUsersPopularSegment] = bySegment;
        metrics[MetricNames.ListsUsersListed] = ListedUsers;
        metrics[MetricNames.ListsShort] = Enumerable.Range(0, lists.Users).Count(u => lists.Counts[u] < n);
        if (lists.Propensities is not null)
        {
            var (explored, sum) = (0L, 0.0);
            for (int u = 0; u < lists.Users; u++)
                for (int r = 0; r < lists.Counts[u]; r++)
                    if (lists.SourceOf(u, r) == ListSource.Explore) { explored++; sum += lists.PropensityOf(u, r); }
            metrics[MetricNames.ListsExplored] = explored;
            metrics[MetricNames.ListsExploredPropensityMean] = explored == 0 ? 0 : sum / explored;
        }
        metrics[MetricNames.RulesBannedItems] = BannedItems;
        metrics[MetricNames.RulesUnavailableItems] = UnavailableItems;
        metrics[MetricNames.RulesExcludedPairs] = ExcludedPairs;
        metrics[MetricNames.RulesCategoryRemoved] = removed.Category;
        metrics[MetricNames.RulesCandidatesRemoved] = lists.RuleRemoved + removed.Rules + removed.Category;
        return lists;
    }
}
