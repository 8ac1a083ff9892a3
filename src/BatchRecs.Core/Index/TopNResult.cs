namespace BatchRecs.Core.Index;

/// <summary>Where a list comes from (the <c>source</c> column): the model, the popularity fallback, or exploration.</summary>
public enum ListSource : byte
{
    Model,
    Popular,
    Explore,
}

/// <summary>
/// Top-N lists for a set of users: row u holds <c>Counts[u]</c> items best-first in
/// <c>Items[u·N ..]</c> with their scores; the rest of the row is padding (−1, NaN).
/// </summary>
public sealed class TopNResult
{
    public TopNResult(int users, int n)
    {
        Users = users;
        N = n;
        Items = new int[(long)users * n];
        Scores = new float[(long)users * n];
        Counts = new int[users];
        Array.Fill(Items, -1);
        Array.Fill(Scores, float.NaN);
    }

    public int Users { get; }
    public int N { get; }
    public int[] Items { get; }
    public float[] Scores { get; }
    public int[] Counts { get; }

    /// <summary>The source of every slot (users × N), or null when every list comes from the model.</summary>
    public ListSource[]? Sources { get; private set; }

    /// <summary>The source of user <paramref name="u"/>'s slot <paramref name="rank"/> (0-based).</summary>
    public ListSource SourceOf(int u, int rank) => Sources is null ? ListSource.Model : Sources[(long)u * N + rank];

    /// <summary>Marks all of user <paramref name="u"/>'s slots as coming from <paramref name="source"/>.</summary>
    public void SetSource(int u, ListSource source)
    {
        if (Sources is null)
        {
            if (source == ListSource.Model) return;
            Sources = new ListSource[(long)Users * N];
        }
        Sources.AsSpan((int)((long)u * N), N).Fill(source);
    }

    public ReadOnlySpan<int> ItemsOf(int u) => Items.AsSpan(u * N, Counts[u]);
    public ReadOnlySpan<float> ScoresOf(int u) => Scores.AsSpan(u * N, Counts[u]);
    public long TotalRows => Counts.Sum(c => (long)c);

    private long _ruleRemoved;

    /// <summary>
    /// Items of the users' unfiltered top N (among the items the search scored) that business rules removed: bans and
    /// per-user rule exclusions (<see cref="TopNQuery.RuleExclude"/>), not the users' history.
    /// </summary>
    public long RuleRemoved => Interlocked.Read(ref _ruleRemoved);

    /// <summary>Adds to <see cref="RuleRemoved"/> (thread-safe: search workers and gathered blocks add their counts).</summary>
    public void AddRuleRemoved(long count) => Interlocked.Add(ref _ruleRemoved, count);

    /// <summary>
    /// This result for a subset of users (row j = user <paramref name="users"/>[j]) spread over all
    /// <paramref name="totalUsers"/> users: the other rows are empty.
    /// </summary>
    public TopNResult Scatter(int[] users, int totalUsers)
    {
        if (users.Length != Users) throw new ArgumentException($"{users.Length} users given for {Users} rows.", nameof(users));
        var full = new TopNResult(totalUsers, N);
        for (int j = 0; j < users.Length; j++)
        {
            int u = users[j];
            full.Counts[u] = Counts[j];
            Items.AsSpan(j * N, N).CopyTo(full.Items.AsSpan(u * N, N));
            Scores.AsSpan(j * N, N).CopyTo(full.Scores.AsSpan(u * N, N));
        }
        full.AddRuleRemoved(RuleRemoved);
        return full;
    }
}
