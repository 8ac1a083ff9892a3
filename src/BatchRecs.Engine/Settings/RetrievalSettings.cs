namespace BatchRecs.Engine.Settings;

/// <summary>How top-N lists are retrieved (<c>index</c>).</summary>
public enum IndexKind
{
    /// <summary>Exact when its estimated cost is under <c>exact_budget_seconds</c>, else the IVF.</summary>
    Auto,
    /// <summary>An IVF index over the item factors, checked against exact search on canary users.</summary>
    Ivf,
    /// <summary>Exact scoring of every item.</summary>
    Exact,
}

/// <summary>Top-N retrieval: list length and the index.</summary>
/// <param name="TopN"><c>top_n</c>: list length per user, also K of Recall@K/NDCG@K.</param>
/// <param name="Index"><c>index</c>.</param>
/// <param name="Nlist"><c>nlist</c>; 0 = auto.</param>
/// <param name="Nprobe"><c>nprobe</c>; 0 = auto.</param>
/// <param name="RecallFloor"><c>recall_floor</c>.</param>
/// <param name="CanaryUsers"><c>canary_users</c>.</param>
/// <param name="ExactBudgetSeconds"><c>exact_budget_seconds</c>: what <c>index=auto</c> lets exact scoring cost.</param>
public sealed record RetrievalSettings(int TopN, IndexKind Index, int Nlist, int Nprobe, double RecallFloor, int CanaryUsers, double ExactBudgetSeconds);
