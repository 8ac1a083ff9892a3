using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Lake.Tests;

public class FileCheckpointTests
{
    /// <summary>
    /// The engine boundary as an executor whose block tasks weigh the fit where they read the strengths sees it: both sides
    /// rows only (the hangfire executor does this for pairs its shard tasks stored; here nothing runs, only the problem is built).
    /// </summary>
    private sealed class WeighsElsewhere : IExecutor
    {
        public string Name => "weighs-elsewhere";
        public int Blocks(CsrMatrix rows) => 1;
        public (CsrMatrix UserItem, CsrMatrix ItemUser)? StoredSides(CsrMatrix strengths, EntryWeights weights) =>
            (CsrMatrix.RowsOnly(strengths.Rows, strengths.Cols, strengths.RowPtr), CsrMatrix.RowsOnly(strengths.Cols, strengths.Rows, strengths.Transpose().RowPtr));
        public void RunHalfStep(HalfStep step, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public TopNResult Score(ScoringStep step, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    [Fact]
    public void A_fingerprint_tells_fits_apart_by_their_strengths_and_weights_also_when_the_problem_holds_rows_only()
    {
        var s = new AlsSettings(Factors: 4, Alpha: 2);
        var m = CsrMatrix.FromEntries(3, 4, [0, 0, 1, 2], [0, 3, 2, 1], [1, 2, 3, 4]);
        var other = CsrMatrix.FromEntries(3, 4, [0, 0, 1, 2], [0, 3, 2, 1], [1, 2, 3, 5]); // one strength differs
        var moved = CsrMatrix.FromEntries(3, 4, [0, 0, 1, 2], [0, 3, 2, 0], [1, 2, 3, 4]); // one item differs
        float[] theta = [0.5f, 1, 1, 1], otherTheta = [0.5f, 1, 0.25f, 1];
        var executor = new WeighsElsewhere();
        ulong Of(AlsProblem p, AlsSettings settings) => FileCheckpoint.Fingerprint(p, settings, null, null);

        var stored = AlsProblem.Build(m, s, executor);
        Assert.False(stored.UserItemConf.HasEntries);
        Assert.NotNull(stored.Stored);
        Assert.Equal(Of(stored, s), Of(AlsProblem.Build(m, s, executor), s));
        var prints = new[]
        {
            Of(stored, s), Of(AlsProblem.Build(other, s, executor), s), Of(AlsProblem.Build(moved, s, executor), s),
            Of(AlsProblem.BuildRelMf(m, s, theta, executor), s), Of(AlsProblem.BuildRelMf(m, s, otherTheta, executor), s),
            Of(stored, s with { Alpha = 3 }),
            Of(AlsProblem.Build(m, s), s), Of(AlsProblem.Build(other, s), s), Of(AlsProblem.BuildRelMf(m, s, theta), s),
        };
        Assert.Equal(prints.Length, prints.Distinct().Count());
    }
}
