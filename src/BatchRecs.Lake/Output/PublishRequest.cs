using BatchRecs.Core.Data;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Input;

namespace BatchRecs.Lake.Output;

/// <summary>Everything a run publishes: the lists, the factors and the metadata.</summary>
/// <param name="UserFactors">users × <paramref name="Factors"/>, row-major, indexed like <paramref name="Users"/>.</param>
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
    string? ItemsFile = null);

/// <summary>Per-item propensities and the interaction counts they came from (the <c>item_propensity</c> table).</summary>
public sealed record ItemPropensities(float[] Propensity, int[] Interactions);
