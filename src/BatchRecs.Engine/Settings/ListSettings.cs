namespace BatchRecs.Engine.Settings;

/// <summary>Who gets a list and what a list may hold.</summary>
/// <param name="MinHistory"><c>min_history</c>: users with fewer distinct items in the window get the popularity fallback.</param>
/// <param name="MinSegmentUsers"><c>min_segment_users</c>: users with history a segment needs for its own popularity.</param>
/// <param name="MaxPerCategory"><c>max_per_category</c>: items of one category per list (0 = no cap).</param>
/// <param name="SimilarItems"><c>similar_items</c>: publish every item's most similar items.</param>
/// <param name="SimilarN"><c>similar_n</c>: similar items per item.</param>
/// <param name="ExploreSlots"><c>explore_slots</c>: positions per list filled by the exploration policy (0 = off).</param>
/// <param name="ExplorePool"><c>explore_pool</c>: the deepest model rank exploration draws from (0 = auto: 10·top_n).</param>
/// <param name="ExploreUniform"><c>explore_uniform</c>: share of exploration slots drawn from the whole eligible catalogue.</param>
public sealed record ListSettings(int MinHistory, int MinSegmentUsers, int MaxPerCategory, bool SimilarItems, int SimilarN,
    int ExploreSlots, int ExplorePool, double ExploreUniform)
{
    /// <summary>The explore_pool in effect for lists of <paramref name="topN"/>.</summary>
    public int PoolFor(int topN) => ExplorePool > 0 ? ExplorePool : 10 * topN;
}
