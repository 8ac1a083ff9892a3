using BatchRecs.Core.Data;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Output;

/// <summary>Everything a run publishes: the lists, the factors and the metadata.</summary>
/// <param name="UserFactors">users × <paramref name="Factors"/>, row-major, indexed like <paramref name="Users"/>; the model's
/// users only (users listed without history come after them in <paramref name="Users"/> and have no factors).</param>
/// <param name="Run">the run's row of <c>runs</c>.</param>
/// <param name="Users">dense user index ⇄ external id.</param>
/// <param name="Items">dense item index ⇄ external id.</param>
/// <param name="Recommendations">top-N per user, dense indices.</param>
/// <param name="Source">the <c>source</c> column of the model's rows (e.g. <c>als</c>); fallback rows say <c>popular</c>
/// (<see cref="TopNResult.Sources"/>).</param>
/// <param name="Factors">the factor dimension k.</param>
/// <param name="ItemFactors">items × <paramref name="Factors"/>, row-major, indexed like <paramref name="Items"/>.</param>
/// <param name="InputFiles">the input files read (listed in the manifest).</param>
/// <param name="SkippedInputs">input files skipped as bad input, or null.</param>
/// <param name="ItemPropensity">per-item propensities and counts for the <c>item_propensity</c> table, or null.</param>
/// <param name="ItemsFile">item metadata Parquet loaded as the <c>items</c> table, or null.</param>
/// <param name="SimilarItems">row i = item i's most similar items (dense indices of <paramref name="Items"/>), published as
/// <c>similar_items/run_date=D/</c> and the <c>similar_items</c> table; null: none, and an earlier publish's similar items
/// of this run date are removed with the same commit.</param>
public sealed record PublishRequest(
    RunRecord Run,
    IdMap Users,
    IdMap Items,
    TopNResult Recommendations,
    string Source,
    int Factors,
    float[] UserFactors,
    float[] ItemFactors,
    IReadOnlyList<InputFileInfo> InputFiles,
    IReadOnlyList<SkippedFile>? SkippedInputs = null,
    ItemPropensities? ItemPropensity = null,
    string? ItemsFile = null,
    TopNResult? SimilarItems = null);

/// <summary>Per-item propensities and the interaction counts they came from (the <c>item_propensity</c> table).</summary>
public sealed record ItemPropensities(float[] Propensity, int[] Interactions);
