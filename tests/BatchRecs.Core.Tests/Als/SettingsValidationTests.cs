using BatchRecs.Core.Errors;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;

namespace BatchRecs.Core.Tests.Als;

/// <summary>Bad settings and bad input fail before any work, with a message naming the setting.</summary>
public class SettingsValidationTests
{
    private static CsrMatrix Tiny() => TestProblems.RandomStrengths(10, 8, 0.3, 1);

    public static IEnumerable<object[]> BadSettings() =>
    [
        [new AlsSettings(Factors: 0), "factors"],
        [new AlsSettings(Factors: -3), "factors"],
        [new AlsSettings(Alpha: -1f), "alpha"],
        [new AlsSettings(Alpha: float.NaN), "alpha"],
        [new AlsSettings(Regularization: -0.1f), "regularization"],
        [new AlsSettings(Regularization: float.PositiveInfinity), "regularization"],
        [new AlsSettings(Iterations: 0), "iterations"],
        [new AlsSettings(CgSteps: 0), "cg_steps"],
    ];

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Fit_rejects_bad_settings_naming_the_setting(AlsSettings bad, string name)
    {
        var problem = AlsProblem.Build(Tiny(), new AlsSettings());
        var e = Assert.Throws<BadInputException>(() => ImplicitAls.Fit(problem, bad, new LocalExecutor(1)));
        Assert.Equal(ExitCodes.BadInput, e.ExitCode);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Build_rejects_a_NaN_or_negative_strength_naming_the_value_and_the_user()
    {
        var m = Tiny();
        var values = (float[])m.Values.Clone();
        values[m.RowPtr[3] + 1] = float.NaN;
        var bad = new CsrMatrix(m.Rows, m.Cols, m.RowPtr, m.ColIdx, values);
        var e = Assert.Throws<BadInputException>(() => AlsProblem.Build(bad, new AlsSettings()));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("user index 3", e.Message);

        values[m.RowPtr[3] + 1] = -2f;
        Assert.Throws<BadInputException>(() => AlsProblem.Build(new CsrMatrix(m.Rows, m.Cols, m.RowPtr, m.ColIdx, values), new AlsSettings()));
    }

    [Fact]
    public void Fit_rejects_empty_input()
    {
        var empty = new CsrMatrix(4, 3, new int[5], [], []);
        var e = Assert.Throws<BadInputException>(() => ImplicitAls.Fit(AlsProblem.Build(empty, new AlsSettings()), new AlsSettings(), new LocalExecutor(1)));
        Assert.Contains("empty input", e.Message);
    }

    [Fact]
    public void Fold_in_rejects_unknown_items_and_bad_strengths()
    {
        var s = new AlsSettings(Factors: 4, Iterations: 1);
        var model = ImplicitAls.Fit(AlsProblem.Build(Tiny(), s), s, new LocalExecutor(1));
        Assert.ThrowsAny<ArgumentException>(() => ImplicitAls.FoldIn(model, [8], [1f], s));
        Assert.ThrowsAny<ArgumentException>(() => ImplicitAls.FoldIn(model, [-1], [1f], s));
        var e = Assert.ThrowsAny<ArgumentException>(() => ImplicitAls.FoldIn(model, [2], [float.NaN], s));
        Assert.Contains("NaN", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => ImplicitAls.FoldIn(model, [2], [1f], s with { Factors = 5 }));
    }

    [Fact]
    public void Block_solver_rejects_column_indices_outside_the_dst_factors()
    {
        // The kernels read dst rows unchecked, so a bad CSR must be caught at the block's edge.
        var bad = new CsrMatrix(1, 3, [0, 2], [0, 7], [1f, 1f]);
        var s = new AlsSettings(Factors: 4);
        var e = Assert.ThrowsAny<ArgumentException>(() =>
            BlockSolver.Solve(bad, default, new RowBlock(0, 0, 1), new float[12], new float[16], new float[4], s));
        Assert.Contains("column index 7", e.Message);
    }
}
