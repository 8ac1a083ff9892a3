using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// index=auto: exact when the measured cost of exact scoring fits exact_budget_seconds, the IVF when it does not; the
/// choice and its reason are kept. The catalogues and budgets are far apart (a few milliseconds against 60 s; seconds
/// against 1 ms), so the timed sample decides the same way on any machine.
/// </summary>
public class IndexAutoTests
{
    [Fact]
    public void Auto_picks_exact_on_a_small_catalogue_and_says_why()
    {
        var (plan, model, history) = Plan(users: 300, items: 200, budget: 60);
        var (lists, ivf) = plan.Retrieve(model, history, Ones(model.Items));
        var choice = plan.Index!;
        Assert.True(choice.Exact);
        Assert.Null(ivf);
        Assert.True(choice.EstimateSeconds is > 0 and < 60);
        Assert.Contains("within exact_budget_seconds 60", choice.Reason);
        // Exact means exact: the lists equal the reference search.
        var reference = ExactTopN.SearchReference(model.UserFactors, model.ItemFactors, model.Factors, new TopNQuery(plan.N, history));
        Assert.Equal(reference.Items, lists.Items);
    }

    [Fact]
    public void Auto_picks_the_ivf_when_exact_scoring_would_overrun_its_budget_and_says_why()
    {
        var (plan, model, history) = Plan(users: 20_000, items: 4_000, budget: 0.001);
        var (_, ivf) = plan.Retrieve(model, history, Ones(model.Items));
        var choice = plan.Index!;
        Assert.False(choice.Exact);
        Assert.NotNull(ivf);
        Assert.True(choice.EstimateSeconds > 0.001, $"estimate {choice.EstimateSeconds}");
        Assert.Contains("over exact_budget_seconds 0.001", choice.Reason);
    }

    [Fact]
    public void A_job_that_names_its_index_is_not_second_guessed()
    {
        var (plan, model, history) = Plan(users: 300, items: 200, budget: 60, index: "ivf");
        plan.Retrieve(model, history, Ones(model.Items));
        Assert.False(plan.Index!.Exact);
        Assert.Null(plan.Index.EstimateSeconds);
        Assert.Equal("index=ivf set by the job", plan.Index.Reason);
    }

    private static (ModelPlan, AlsModel, CsrMatrix) Plan(int users, int items, double budget, string index = "auto")
    {
        var settings = JobSettings.Create(null, ["top_n=10", "factors=16", $"index={index}", $"exact_budget_seconds={budget.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]);
        var f = SyntheticFactors.Generate(users, items, 16, seed: 5);
        var model = new AlsModel(users, items, 16, f.Users, f.Items, []);
        // Each user has seen three items.
        var rows = Enumerable.Range(0, users * 3).Select(e => e / 3).ToArray();
        var cols = Enumerable.Range(0, users * 3).Select(e => (e * 7 + e / 3) % items).ToArray();
        var history = CsrMatrix.FromEntries(users, items, rows, cols, Enumerable.Repeat(1f, rows.Length).ToArray());
        return (new ModelPlan(settings, new LocalExecutor()), model, history);
    }

    private static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();
}
