using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using Xunit;

namespace BatchRecs.Tests;

/// <summary>Combined pairs compared bit for bit: the id maps, and every entry's user, item, strength and times.</summary>
public static class PairAssert
{
    public static void Same(InteractionLog expected, InteractionLog actual, string? what = null)
    {
        Assert.True(actual.SortedPairs, what);
        Assert.Equal(Enumerable.Range(0, expected.UserCount).Select(expected.UserIds.ExternalAt), Enumerable.Range(0, actual.UserCount).Select(actual.UserIds.ExternalAt));
        Assert.Equal(Enumerable.Range(0, expected.ItemCount).Select(expected.ItemIds.ExternalAt), Enumerable.Range(0, actual.ItemCount).Select(actual.ItemIds.ExternalAt));
        Assert.Equal(expected.Users, actual.Users);
        Assert.Equal(expected.Items, actual.Items);
        Assert.Equal(expected.Values, actual.Values); // bit for bit: the same additions in the same order
        Assert.Equal(expected.Times, actual.Times);
        Assert.Equal(expected.FirstTimes, actual.FirstTimes);
    }

    /// <summary>
    /// <paramref name="actual"/>, split where its pairs were combined, against the split of the whole log
    /// (<see cref="TemporalSplit.PerUserLast"/> over every pair at once): the same matrices, times and cuts.
    /// </summary>
    public static void SameSplit(InteractionLog whole, PairSplit spec, SplitPairs actual)
    {
        var isTrain = TemporalSplit.PerUserLast(whole, spec.HoldoutFraction).IsTrain;
        Assert.Equal(whole.Count, actual.Count);
        SameMatrix(whole.ToUserItemMatrix(isTrain, keep: true), actual.Train);
        if (spec.HoldoutFraction > 0) SameMatrix(whole.ToUserItemMatrix(isTrain, keep: false), actual.HeldOut!);
        else Assert.Null(actual.HeldOut);
        long[]? Part(long[]? times, bool keep) => times?.Where((_, e) => isTrain[e] == keep).ToArray();
        if (spec.LastTimes)
        {
            Assert.Equal(Part(whole.Times, true), actual.Times!.Train);
            Assert.Equal(Part(spec.HoldoutFraction > 0 ? whole.Times : null, false), actual.Times.HeldOut);
        }
        else Assert.Null(actual.Times);
        if (spec.FirstTimes)
        {
            Assert.Equal(Part(whole.FirstTimes, true), actual.FirstTimes!.Train);
            Assert.Equal(Part(spec.HoldoutFraction > 0 ? whole.FirstTimes : null, false), actual.FirstTimes.HeldOut);
        }
        else Assert.Null(actual.FirstTimes);
        if (spec.Cuts) Assert.Equal(TemporalSplit.FirstHeldOutTimes(whole, isTrain), actual.Cuts);
        else Assert.Null(actual.Cuts);
    }

    /// <summary>The same shape and entries (read back from its store when <paramref name="actual"/> holds its rows only).</summary>
    public static void SameMatrix(CsrMatrix expected, CsrMatrix actual)
    {
        actual = actual.WithEntries();
        Assert.Equal((expected.Rows, expected.Cols), (actual.Rows, actual.Cols));
        Assert.Equal(expected.RowPtr, actual.RowPtr);
        Assert.Equal(expected.ColIdx, actual.ColIdx);
        Assert.Equal(expected.Values, actual.Values);
    }
}
