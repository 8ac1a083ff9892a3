using System.Globalization;

namespace BatchRecs.Engine.Simulation;

/// <summary>
/// What a simulation shows about the feedback loop, from its nights: the three claims the loop's design makes — without
/// exploration the lists concentrate, exploring with logged propensities does not cost the model's own slots and spreads
/// the lists, and the off-policy estimate finds the true CTR of the lists it judged.
/// </summary>
/// <param name="BaselineGiniFirst">the baseline's list Gini on the first night.</param>
/// <param name="BaselineGiniLast">the same on the last night.</param>
/// <param name="BaselineGiniRises">nights on which the baseline's Gini rose over the night before.</param>
/// <param name="Nights">nights per policy.</param>
/// <param name="BaselineCtrModel">the baseline's true CTR of its model slots on the last night.</param>
/// <param name="ExploreCtrModel">the explorer's.</param>
/// <param name="ExploreGini">the explorer's list Gini on the last night.</param>
/// <param name="OpeCovered">nights on which the explorer's interval covered the true CTR of the lists it judged.</param>
/// <param name="OpeJudged">nights with an estimate to judge.</param>
/// <param name="OpeMeanError">the estimate's mean relative error over those nights (NaN without one).</param>
public sealed record SimulationVerdict(double BaselineGiniFirst, double BaselineGiniLast, int BaselineGiniRises, int Nights,
    double BaselineCtrModel, double ExploreCtrModel, double ExploreGini, int OpeCovered, int OpeJudged, double OpeMeanError)
{
    public static SimulationVerdict Of(IReadOnlyList<NightResult> nights)
    {
        List<NightResult> Policy(string name) => nights.Where(r => r.Policy == name).OrderBy(r => r.Night).ToList();
        var baseline = Policy("baseline");
        var explore = Policy("explore");
        var judged = explore.Where(r => r.OpeCtr is not null && r.OpeTrueCtr is not null).ToList();
        return new SimulationVerdict(baseline[0].Gini, baseline[^1].Gini, baseline.Zip(baseline.Skip(1)).Count(p => p.Second.Gini > p.First.Gini),
            baseline.Count, baseline[^1].TrueCtrModel, explore[^1].TrueCtrModel, explore[^1].Gini,
            judged.Count(r => r.OpeCtrLow <= r.OpeTrueCtr && r.OpeTrueCtr <= r.OpeCtrHigh), judged.Count,
            judged.Count == 0 ? double.NaN : judged.Average(r => Math.Abs(r.OpeCtr!.Value - r.OpeTrueCtr!.Value) / r.OpeTrueCtr!.Value));
    }

    /// <summary>The three claims, a line each, with their figures.</summary>
    public IEnumerable<string> Lines()
    {
        yield return string.Create(CultureInfo.InvariantCulture,
            $"without exploration the lists concentrate: baseline Gini {BaselineGiniFirst:F3} → {BaselineGiniLast:F3}, rising on {BaselineGiniRises} of {Nights - 1} nights");
        yield return string.Create(CultureInfo.InvariantCulture,
            $"exploring pays: on the last night the model slots' true CTR is {ExploreCtrModel:F4} explore vs {BaselineCtrModel:F4} baseline, Gini {ExploreGini:F3} vs {BaselineGiniLast:F3}");
        yield return OpeJudged == 0 ? "off-policy estimate: no night had earlier feedback to estimate from"
            : string.Create(CultureInfo.InvariantCulture,
                $"off-policy estimate: its 95 % interval covers the true CTR of the lists it judged on {OpeCovered} of {OpeJudged} nights, {OpeMeanError:P1} off on average");
    }
}
