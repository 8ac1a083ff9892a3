using BatchRecs.Core.Index;

namespace BatchRecs.Core.Tests.Index;

public class ScoreKeyTests
{
    [Fact]
    public void Key_order_is_score_descending_then_item_ascending_and_round_trips()
    {
        float[] scores = [float.NegativeInfinity, -3.5f, -1e-30f, -0f, 0f, 1e-30f, 2f, 2f, float.MaxValue];
        int[] items = [4, 1, 7, 3, 2, 9, 8, 5, 0];
        for (int a = 0; a < scores.Length; a++)
        {
            ulong ka = ScoreKey.Encode(scores[a], items[a]);
            Assert.Equal(items[a], ScoreKey.Item(ka));
            Assert.Equal(scores[a] + 0f, ScoreKey.Score(ka));
            for (int b = 0; b < scores.Length; b++)
            {
                bool better = scores[a] > scores[b] || (scores[a] == scores[b] && items[a] < items[b]);
                Assert.Equal(better, ka > ScoreKey.Encode(scores[b], items[b]));
            }
        }
    }

    [Fact]
    public void SelectLargest_puts_the_n_largest_first()
    {
        var rng = new Random(3);
        for (int len = 1; len < 300; len += 7)
        {
            var keys = Enumerable.Range(0, len).Select(_ => (ulong)rng.NextInt64()).Distinct().ToArray();
            for (int n = 1; n <= keys.Length; n += 5)
            {
                var copy = (ulong[])keys.Clone();
                ScoreKey.SelectLargest(copy, n);
                Assert.Equal(keys.OrderDescending().Take(n).Order(), copy.Take(n).Order());
            }
        }
    }
}
