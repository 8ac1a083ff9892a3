namespace BatchRecs.Core.Index;

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

    public ReadOnlySpan<int> ItemsOf(int u) => Items.AsSpan(u * N, Counts[u]);
    public ReadOnlySpan<float> ScoresOf(int u) => Scores.AsSpan(u * N, Counts[u]);
    public long TotalRows => Counts.Sum(c => (long)c);

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
        return full;
    }
}
