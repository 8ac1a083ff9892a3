using BatchRecs.Core.Errors;
using BatchRecs.Core.Debias;

namespace BatchRecs.Core.Tests.Debias;

public class PropensityTests
{
    [Fact]
    public void Popularity_propensities_follow_the_power_law_and_are_clipped_never_zero()
    {
        var p = Propensity.FromPopularity([100, 25, 1, 0], eta: 0.5, pMin: 0.05);
        Assert.Equal(1f, p[0]);
        Assert.Equal(0.5f, p[1], 6);
        Assert.Equal(0.1f, p[2], 6);
        Assert.Equal(0.05f, p[3]);
        Assert.All(p, x => Assert.InRange(x, 0.05f, 1f));
        Assert.Contains("propensity_clip", Assert.Throws<BadInputException>(() => Propensity.FromPopularity([1], 0.5, 0)).Message);
        Assert.Contains("propensity_eta", Assert.Throws<BadInputException>(() => Propensity.FromPopularity([1], -1, 0.1)).Message);
    }
}
