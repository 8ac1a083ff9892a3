namespace BatchRecs.Engine.Settings;

/// <summary>Who gets a list and what a list may hold.</summary>
/// <param name="MinHistory"><c>min_history</c>: users with fewer distinct items in the window get the popularity fallback.</param>
/// <param name="MinSegmentUsers"><c>min_segment_users</c>: users with history a segment needs for its own popularity.</param>
/// <param name="MaxPerCategory"><c>max_per_category</c>: items of one category per list (0 = no cap).</param>
/// <param name="SimilarItems"><c>similar_items</c>: publish every item's most similar items.</param>
/// <param name="SimilarN"><c>similar_n</c>: similar items per item.</param>
public sealed record ListSettings(int MinHistory, int MinSegmentUsers, int MaxPerCategory, bool SimilarItems, int SimilarN);
