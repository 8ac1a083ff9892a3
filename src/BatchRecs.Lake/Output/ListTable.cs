using BatchRecs.Core.Data;
using BatchRecs.Core.Index;

namespace BatchRecs.Lake.Output;

/// <summary>
/// One published table of top-N lists, as <see cref="ListWriter"/> writes it: row u of <paramref name="Lists"/> is the
/// list of owner u (a user, or an item for similar items), its entries are dense indices of <paramref name="Listed"/>.
/// </summary>
/// <param name="Lists">the lists, dense indices (row = owner).</param>
/// <param name="Owners">dense owner index ⇄ external id.</param>
/// <param name="OwnerColumn">the column of the owner's id (<c>user_id</c>, or <c>item_id</c> for similar items).</param>
/// <param name="Listed">dense listed-item index ⇄ external id.</param>
/// <param name="ListedColumn">the column of the listed item's id (<c>item_id</c>, or <c>similar_item_id</c>).</param>
/// <param name="Source">the <c>source</c> column's value on every row, or null for a table without that column.</param>
/// <param name="RunId">the <c>run_id</c> column's value on every row.</param>
public sealed record ListTable(TopNResult Lists, IdMap Owners, string OwnerColumn, IdMap Listed, string ListedColumn, string? Source, string RunId)
{
    /// <summary>The <c>recommendations</c> partition: <c>user_id, item_id, rank, score, source, run_id</c>.</summary>
    public static ListTable Recommendations(PublishRequest req) =>
        new(req.Recommendations, req.Users, "user_id", req.Items, "item_id", req.Source, req.Run.RunId);

    /// <summary>The <c>similar_items</c> partition: <c>item_id, similar_item_id, rank, score, run_id</c>.</summary>
    /// <param name="req">the run; its item ids name both the owners and the neighbours.</param>
    /// <param name="similar">row i = item i's most similar items (<see cref="Core.Index.SimilarItems"/>).</param>
    public static ListTable SimilarItems(PublishRequest req, TopNResult similar) =>
        similar.Users == req.Items.Count
            ? new(similar, req.Items, "item_id", req.Items, "similar_item_id", null, req.Run.RunId)
            : throw new ArgumentException($"similar items have {similar.Users} rows, but the run has {req.Items.Count} items: row i must be item i.", nameof(similar));

    /// <summary>The columns in file order with their Parquet types, as the manifest lists them.</summary>
    public IReadOnlyList<ManifestColumn> Schema
    {
        get
        {
            static string Id(IdMap m) => m.Kind == IdKind.Int64 ? "INT64" : "STRING";
            var columns = new List<ManifestColumn> { new(OwnerColumn, Id(Owners)), new(ListedColumn, Id(Listed)), new("rank", "INT32"), new("score", "FLOAT") };
            if (Source is not null) columns.Add(new("source", "STRING"));
            columns.Add(new("run_id", "STRING"));
            return columns;
        }
    }
}
