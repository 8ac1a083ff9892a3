namespace BatchRecs.Lake.Output;

/// <summary>
/// The pipeline's stages, in run order: they name the <c>time.STAGE_s</c> metrics, the <c>run.stage</c> log events,
/// and (for the two fits) the <c>FIT.*</c> metrics, checkpoint files and fault points.
/// </summary>
public static class StageNames
{
    public const string Read = "read";
    public const string ReadExposures = "read_exposures";
    public const string Pairs = "pairs";

    /// <summary>Reading the side inputs: users_input, exclude_input, items_input's availability and categories.</summary>
    public const string Rules = "rules";

    /// <summary>Reading unbiased_input, the unbiased validation log the gate judges by.</summary>
    public const string ReadUnbiased = "read_unbiased";

    /// <summary>Reading feedback_input's window (served lists' exposures and outcomes).</summary>
    public const string ReadFeedback = "read_feedback";

    /// <summary>Off-policy estimates of the published lists on the feedback.</summary>
    public const string Ope = "ope";

    /// <summary>The evaluation's two matrices put back together for the published fit.</summary>
    public const string Merge = "merge";

    /// <summary>The evaluated fit, on the training split.</summary>
    public const string FitEval = "fit_eval";
    public const string ScoreEval = "score_eval";

    /// <summary>The popularity baseline's lists, judged on the same hold-out as the evaluated fit's.</summary>
    public const string EvalPopular = "eval_popular";

    /// <summary>The published fit, on the whole window.</summary>
    public const string Fit = "fit";
    public const string Score = "score";

    /// <summary>Similar items of every item (when <c>similar_items</c> is on), from the published fit's item factors.</summary>
    public const string Similar = "similar";
    public const string Publish = "publish";

    /// <summary>Every stage, in run order.</summary>
    public static IReadOnlyList<string> InOrder { get; } = [Read, ReadExposures, Pairs, Rules, ReadUnbiased, ReadFeedback, FitEval, ScoreEval, EvalPopular, Merge, Fit, Score, Ope, Similar, Publish];
}
