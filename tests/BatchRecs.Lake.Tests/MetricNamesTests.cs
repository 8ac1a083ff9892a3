using BatchRecs.Core.Evaluation;
using BatchRecs.Lake.Output;

namespace BatchRecs.Lake.Tests;

/// <summary>Metric names are a contract analysts query: these pin the spelled-out names.</summary>
public class MetricNamesTests
{
    [Fact]
    public void Evaluation_names_are_those_the_evaluation_report_writes()
    {
        var report = new EvaluationReport(20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Assert.Equal(MetricNames.AtKMetrics.Select(m => MetricNames.Model(m, 20)), report.Named(MetricNames.ModelRanker).Select(kv => kv.Key));
        Assert.Equal(MetricNames.AtKMetrics.Select(m => MetricNames.Popular(m, 20)), report.Named(MetricNames.PopularRanker).Select(kv => kv.Key));
        Assert.Subset(MetricNames.AtKMetrics.ToHashSet(), MetricNames.Headline.ToHashSet());
    }

    [Fact]
    public void Names_are_spelled_as_the_lake_stores_them()
    {
        Assert.Equal("model.ndcg@10", MetricNames.ModelNdcg(10));
        Assert.Equal("popular.ndcg@10", MetricNames.PopularNdcg(10));
        Assert.Equal("model.recall@5", MetricNames.ModelRecall(5));
        Assert.Equal("popular.snips_recall@7", MetricNames.Popular(MetricNames.SnipsRecall, 7));
        Assert.Equal("time.fit_eval_s", MetricNames.StageSeconds(StageNames.FitEval));
        Assert.Equal("time.total_s", MetricNames.TotalSeconds);
        Assert.Equal("similar.items", MetricNames.SimilarItems);
        Assert.Equal("memory.pairs_peak_mb", MetricNames.StagePeakMegabytes(StageNames.Pairs));
        Assert.Equal("memory.peak_mb", MetricNames.PeakMegabytes);
        Assert.Equal("fit.iter003.loss", MetricNames.FitIteration(StageNames.Fit, 3, MetricNames.LossField));
        Assert.Equal("fit_eval.iter012.seconds", MetricNames.FitIteration(StageNames.FitEval, 12, MetricNames.SecondsField));
        Assert.Equal("fit.iterations", MetricNames.FitIterations(StageNames.Fit));
        Assert.Equal("fit.loss_final", MetricNames.FitLossFinal(StageNames.Fit));
        Assert.Equal("fit.seconds_per_iteration", MetricNames.FitSecondsPerIteration(StageNames.Fit));
        Assert.Equal(["read", "read_exposures", "pairs", "rules", "read_unbiased", "read_feedback", "fit_eval", "score_eval", "eval_popular", "merge", "fit", "score", "ope", "similar", "publish"], StageNames.InOrder);
    }

    [Fact]
    public void Names_parse_back()
    {
        Assert.True(MetricNames.TryParseAtK("model.recall@20", MetricNames.ModelRanker, MetricNames.Recall, out int k));
        Assert.Equal(20, k);
        Assert.False(MetricNames.TryParseAtK("model.recall@x", MetricNames.ModelRanker, MetricNames.Recall, out _));
        Assert.False(MetricNames.TryParseAtK("popular.recall@20", MetricNames.ModelRanker, MetricNames.Recall, out _));
        Assert.True(MetricNames.TryParseStageSeconds("time.score_eval_s", out string stage));
        Assert.Equal("score_eval", stage);
        Assert.False(MetricNames.TryParseStageSeconds("index.build_s", out _));
        Assert.True(MetricNames.TryParseFitIteration("fit_eval.iter007.loss", StageNames.FitEval, MetricNames.LossField, out int it));
        Assert.Equal(7, it);
        Assert.False(MetricNames.TryParseFitIteration("fit_eval.iter007.loss", StageNames.Fit, MetricNames.LossField, out _));
        Assert.False(MetricNames.TryParseFitIteration("fit.iter007.seconds", StageNames.Fit, MetricNames.LossField, out _));
    }
}
