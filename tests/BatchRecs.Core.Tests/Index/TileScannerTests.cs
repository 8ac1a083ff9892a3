using BatchRecs.Core.Als;
using BatchRecs.Core.Index;
using BatchRecs.Core.Tests.Als;

namespace BatchRecs.Core.Tests.Index;

/// <summary>
/// The top-N micro-kernel on every set of vector widths: its lists must equal the brute-force oracle's exactly
/// (same items, same float scores), since every width computes <see cref="ScoreKey.Dot"/> per lane.
/// </summary>
public class TileScannerTests
{
    public static TheoryData<string> Widths => VectorWidthCases.Names;

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_width_returns_the_oracle_lists_for_every_dimension_tile_size_and_panel_range(string widths) =>
        VectorWidthCases.Run(widths, new ScanCheck());

    private readonly struct ScanCheck : IWidthsCheck
    {
        public unsafe void Run<TW>() where TW : struct, IVectorWidths
        {
            // 37 items: two full panels and one with 11 padding slots.
            const int itemCount = 37;
            float** rows = stackalloc float*[TileScanner.TileUsers];
            for (int dim = 1; dim <= 70; dim++)
            {
                var items = SeededData.Matrix(itemCount, dim, seed: 500 + dim);
                var users = SeededData.Matrix(TileScanner.TileUsers, dim, seed: 900 + dim);
                var panels = PackedPanels.Pack(items, dim, PackedPanels.IdentitySlots(itemCount));
                var zero = new float[dim];
                foreach (int n in new[] { 3, 50 }) // below the item count (thresholds rise, buffers compact) and above it
                    foreach (int m in new[] { 1, 5, 8 })
                        fixed (float* u = users)
                        fixed (float* z = zero)
                        {
                            for (int j = 0; j < TileScanner.TileUsers; j++) rows[j] = j < m ? u + j * dim : z;
                            var buffers = new CandidateBuffer[m];
                            for (int j = 0; j < m; j++) { buffers[j] = new CandidateBuffer(n); buffers[j].Reset(j); }
                            // two calls, as the blocked scans split the panels into chunks
                            TileScanner.Scan<TW>(rows, m, panels, 0, 1, buffers, ItemExclusions.None);
                            TileScanner.Scan<TW>(rows, m, panels, 1, panels.Panels, buffers, ItemExclusions.None);
                            for (int j = 0; j < m; j++)
                            {
                                var got = new int[n];
                                var scores = new float[n];
                                int count = buffers[j].Drain(got, scores);
                                var (expected, expectedScores) = TopNTestData.Naive(users, items, dim, j, n, null, null);
                                string at = $"dim={dim} N={n} users={m} user {j} ({typeof(TW).Name})";
                                Assert.True(expected.Length == count, $"{at}: {count} items, expected {expected.Length}");
                                Assert.True(expected.AsSpan().SequenceEqual(got.AsSpan(0, count)), $"{at}: items differ");
                                Assert.True(expectedScores.AsSpan().SequenceEqual(scores.AsSpan(0, count)), $"{at}: scores differ");
                            }
                        }
            }
        }
    }
}
