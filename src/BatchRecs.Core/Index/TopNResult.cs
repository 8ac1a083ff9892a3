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

    /// <summary>
    /// The probability with which the policy that made the lists put each slot's item in its user's list (users × N), or
    /// null when every slot is deterministic (1). Exploration sets it (<see cref="Exploration"/>).
    /// </summary>
    public float[]? Propensities { get; private set; }

    /// <summary>The propensity of user <paramref name="u"/>'s slot <paramref name="rank"/> (0-based): 1 for a deterministic slot.</summary>
    public float PropensityOf(int u, int rank) => Propensities is null ? 1f : Propensities[(long)u * N + rank];

    /// <summary>Gives every slot a propensity (1) and a source (the model), to be overwritten slot by slot.</summary>
    public void InitPropensities()
    {
        Propensities ??= new float[(long)Users * N];
        Array.Fill(Propensities, 1f);
        Sources ??= new ListSource[(long)Users * N];
    }

    /// <summary>Marks all of user <paramref name="u"/>'s slots as coming from <paramref name="source"/>, deterministically (propensity 1).</summary>
    public void SetSource(int u, ListSource source)
    {
        Propensities?.AsSpan((int)((long)u * N), N).Fill(1f);
        if (Sources is null)
        {
            if (source == ListSource.Model) return;
            Sources = new ListSource[(long)Users * N];
        }
        Sources.AsSpan((int)((long)u * N), N).Fill(source);
    }

    /// <summary>A copy of these lists with room for <paramref name="users"/> users (at least <see cref="Users"/>): the rest empty.</summary>
    public TopNResult Grown(int users)
    {
        var grown = new TopNResult(users, N);
        Array.Copy(Counts, grown.Counts, Users);
        Array.Copy(Items, grown.Items, (long)Users * N);
        Array.Copy(Scores, grown.Scores, (long)Users * N);
        if (Propensities is not null)
        {
            grown.InitPropensities();
            Array.Copy(Propensities, grown.Propensities!, (long)Users * N);
            Array.Copy(Sources!, grown.Sources!, (long)Users * N);
        }
        else if (Sources is not null)
        {
            grown.Sources = new ListSource[(long)users * N];
            Array.Copy(Sources, grown.Sources, (long)Users * N);
        }
        grown.AddRuleRemoved(RuleRemoved);
        return grown;
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
