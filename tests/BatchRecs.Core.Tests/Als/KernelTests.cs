using BatchRecs.Core.Als;

namespace BatchRecs.Core.Tests.Als;

/// <summary>
/// Each kernel of <see cref="FactorMath{TW}"/> against its scalar twin in <see cref="ReferenceKernels"/>, on every
/// set of vector widths (<see cref="VectorWidthCases"/>), for every vector length 0..256 and every k 1..130, so that
/// every remainder of every width and every register-tile shape (1–4 vectors, 4-row bands, the last k mod 4 rows)
/// is exercised. Seeded data. Tolerances scale with the magnitude of the terms summed: both sides may err by about
/// (terms · 2⁻²⁴) · Σ|term|, since different widths sum in different orders.
/// </summary>
public class KernelTests
{
    public static TheoryData<string> Widths => VectorWidthCases.Names;

    private const float Sentinel = 12345f; // written past the end of every output: kernels must not touch it
    private const int Guard = 5;

    [Theory]
    [MemberData(nameof(Widths))]
    public void Dot_Axpy_Xpby_Scale_match_the_reference_for_every_length_0_to_256(string widths) => VectorWidthCases.Run(widths, new Streaming());

    [Theory]
    [MemberData(nameof(Widths))]
    public void SymMatVec_matches_the_reference_for_k_1_to_130(string widths) => VectorWidthCases.Run(widths, new SymMatVecCheck());

    [Theory]
    [MemberData(nameof(Widths))]
    public void AccumulateEntries_matches_the_reference_for_k_1_to_130(string widths) => VectorWidthCases.Run(widths, new AccumulateCheck());

    [Theory]
    [MemberData(nameof(Widths))]
    public void RankUpdateUpper_matches_the_reference_on_the_upper_triangle_for_k_1_to_130(string widths) => VectorWidthCases.Run(widths, new RankUpdateCheck());

    [Theory]
    [MemberData(nameof(Widths))]
    public void Cholesky_factor_and_solve_match_the_reference_for_k_1_to_130(string widths) => VectorWidthCases.Run(widths, new CholeskyCheck());

    [Theory]
    [MemberData(nameof(Widths))]
    public void CholeskyUpper_reports_a_matrix_that_is_not_positive_definite(string widths) => VectorWidthCases.Run(widths, new NotPositiveDefinite());

    private readonly struct Streaming : IWidthsCheck
    {
        public void Run<TW>() where TW : struct, IVectorWidths
        {
            for (int n = 0; n <= 256; n++)
            {
                var rng = new Random(n);
                var a = TestProblems.RandomVector(n, rng);
                var b = TestProblems.RandomVector(n, rng, scale: 3f);
                string at = $"n={n} ({typeof(TW).Name})";

                float dot = FactorMath<TW>.Dot(a, b), refDot = ReferenceKernels.Dot(a, b);
                float dotMagnitude = 0f;
                for (int i = 0; i < n; i++) dotMagnitude += Math.Abs(a[i] * b[i]);
                Assert.True(Math.Abs(dot - refDot) <= Tolerance(dotMagnitude, n), $"Dot {at}: {dot} vs {refDot}");

                float alpha = -0.37f;
                var fast = Guarded(b); var slow = (float[])b.Clone();
                FactorMath<TW>.Axpy(alpha, a, fast.AsSpan(0, n));
                ReferenceKernels.Axpy(alpha, a, slow);
                Close(slow, fast, i => Math.Abs(b[i]) + Math.Abs(alpha * a[i]), 2, $"Axpy {at}");

                fast = Guarded(b); slow = (float[])b.Clone();
                FactorMath<TW>.Xpby(a, alpha, fast.AsSpan(0, n));
                ReferenceKernels.Xpby(a, alpha, slow);
                Close(slow, fast, i => Math.Abs(a[i]) + Math.Abs(alpha * b[i]), 2, $"Xpby {at}");

                fast = Guarded(b); slow = (float[])b.Clone();
                FactorMath<TW>.Scale(alpha, fast.AsSpan(0, n));
                ReferenceKernels.Scale(alpha, slow);
                Close(slow, fast, i => Math.Abs(alpha * b[i]), 1, $"Scale {at}");
            }
        }
    }

    private readonly struct SymMatVecCheck : IWidthsCheck
    {
        public void Run<TW>() where TW : struct, IVectorWidths
        {
            const float lambda = 0.25f;
            for (int k = 1; k <= 130; k++)
            {
                var rng = new Random(1000 + k);
                var m = Symmetric(k, rng);
                var v = TestProblems.RandomVector(k, rng);
                var fast = Guarded(new float[k]); var slow = new float[k];
                FactorMath<TW>.SymMatVec(m, v, fast, k, lambda);
                ReferenceKernels.SymMatVec(m, v, slow, k, lambda);
                Close(slow, fast, i =>
                {
                    float s = Math.Abs(lambda * v[i]);
                    for (int j = 0; j < k; j++) s += Math.Abs(m[i * k + j] * v[j]);
                    return s;
                }, k + 1, $"SymMatVec k={k} ({typeof(TW).Name})");
            }
        }
    }

    private readonly struct AccumulateCheck : IWidthsCheck
    {
        public void Run<TW>() where TW : struct, IVectorWidths
        {
            for (int k = 1; k <= 130; k++)
            {
                var rng = new Random(2000 + k);
                int dstRows = 40, n = 1 + k % 23;
                var dst = TestProblems.RandomVector(dstRows * k, rng);
                var cols = Enumerable.Range(0, n).Select(_ => rng.Next(dstRows)).ToArray();
                var conf = Enumerable.Range(0, n).Select(_ => 1f + (float)rng.NextDouble() * 4).ToArray();
                var pref = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
                var v = TestProblems.RandomVector(k, rng);
                var start = TestProblems.RandomVector(k, rng);
                foreach (bool residual in new[] { false, true })
                    foreach (var p in new[] { Array.Empty<float>(), pref })
                    {
                        var fast = Guarded(start); var slow = (float[])start.Clone();
                        FactorMath<TW>.AccumulateEntries(fast, v, dst, k, cols, conf, p, residual);
                        ReferenceKernels.AccumulateEntries(slow, v, dst, k, cols, conf, p, residual);
                        int kk = k;
                        Close(slow, fast, i =>
                        {
                            // |acc| + Σₑ (c·p + |c − 1|·Σ|y·v|)·|yₑᵢ|: every term the kernel sums, in absolute value
                            float s = Math.Abs(start[i]);
                            for (int e = 0; e < n; e++)
                            {
                                float dotMagnitude = 0f;
                                for (int f = 0; f < kk; f++) dotMagnitude += Math.Abs(dst[cols[e] * kk + f] * v[f]);
                                float coef = (residual ? conf[e] * (p.Length > 0 ? p[e] : 1f) : 0f) + Math.Abs(conf[e] - 1f) * dotMagnitude;
                                s += coef * Math.Abs(dst[cols[e] * kk + i]);
                            }
                            return s;
                        }, k + n + 2, $"AccumulateEntries k={k} residual={residual} pref={p.Length > 0} ({typeof(TW).Name})");
                    }
            }
        }
    }

    private readonly struct RankUpdateCheck : IWidthsCheck
    {
        public void Run<TW>() where TW : struct, IVectorWidths
        {
            for (int k = 1; k <= 130; k++)
            {
                var rng = new Random(3000 + k);
                int n = k % 7 == 0 ? 0 : 1 + k % 37;
                var y = TestProblems.RandomVector(n * k, rng);
                var z = TestProblems.RandomVector(n * k, rng);
                var a = TestProblems.RandomVector(k * k, rng);
                var fast = Guarded(a); var slow = (float[])a.Clone();
                FactorMath<TW>.RankUpdateUpper(fast, k, z, y, n);
                ReferenceKernels.RankUpdateUpper(slow, k, z, y, n);
                for (int i = 0; i < k; i++)
                {
                    int row = i, kk = k;
                    Close(slow.AsSpan(i * k + i, k - i), fast.AsSpan(i * k + i, k - i), j =>
                    {
                        float s = Math.Abs(a[row * kk + row + j]);
                        for (int e = 0; e < n; e++) s += Math.Abs(z[e * kk + row] * y[e * kk + row + j]);
                        return s;
                    }, n + 1, $"RankUpdateUpper k={k} n={n} row {i} ({typeof(TW).Name})");
                }
                Assert.Equal(Sentinel, fast[k * k]);
            }
        }
    }

    private readonly struct CholeskyCheck : IWidthsCheck
    {
        public void Run<TW>() where TW : struct, IVectorWidths
        {
            for (int k = 1; k <= 130; k++)
            {
                var rng = new Random(4000 + k);
                // A = BᵀB + k·I is well conditioned and positive definite; U's entries are of order √k.
                var bm = TestProblems.RandomVector(k * k, rng);
                var a = new float[k * k];
                ReferenceKernels.RankUpdateUpper(a, k, bm, bm, k);
                for (int i = 0; i < k; i++) a[i * k + i] += k;
                var fast = Guarded(a); var slow = (float[])a.Clone();
                string at = $"k={k} ({typeof(TW).Name})";
                Assert.True(FactorMath<TW>.CholeskyUpper(fast, k), at);
                Assert.True(ReferenceKernels.CholeskyUpper(slow, k));
                Assert.Equal(Sentinel, fast[k * k]);
                for (int i = 0; i < k; i++)
                    Near(slow.AsSpan(i * k + i, k - i), fast.AsSpan(i * k + i, k - i), MathF.Sqrt(k), $"U row {i} {at}");

                var rhs = TestProblems.RandomVector(k, rng);
                var xFast = new float[k]; var xSlow = new float[k];
                FactorMath<TW>.CholeskySolveUpper(fast, (float[])rhs.Clone(), xFast, k);
                ReferenceKernels.CholeskySolveUpper(slow, (float[])rhs.Clone(), xSlow, k);
                Near(xSlow, xFast, 1f, $"solve {at}");
                // And the solution really solves A·x = rhs (A's upper triangle mirrored).
                var ax = new float[k];
                ReferenceKernels.SymMatVec(Mirror(a, k), xFast, ax, k);
                Near(rhs, ax, k, $"A·x {at}");
            }
        }
    }

    private readonly struct NotPositiveDefinite : IWidthsCheck
    {
        public void Run<TW>() where TW : struct, IVectorWidths
        {
            float[] indefinite = [1, 2, 2, 1]; // eigenvalues 3 and −1
            Assert.False(FactorMath<TW>.CholeskyUpper(indefinite, 2));
            float[] nan = [float.NaN, 0, 0, 1];
            Assert.False(FactorMath<TW>.CholeskyUpper(nan, 2));
            // The same failure deep inside a vector-sized matrix: the last pivot is −1.
            const int k = 37;
            var big = new float[k * k];
            for (int i = 0; i < k; i++) big[i * k + i] = 1f;
            big[(k - 2) * k + k - 1] = 2f;
            Assert.False(FactorMath<TW>.CholeskyUpper(big, k));
        }
    }

    /// <summary>Both sides may err by (terms + 2)·2⁻²⁴ of the magnitude: allow twice that.</summary>
    private static float Tolerance(float magnitude, int terms) => 2f * (terms + 2) * MathF.ScaleB(1f, -24) * magnitude + 1e-30f;

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, Func<int, float> magnitude, int terms, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = Tolerance(magnitude(i), terms);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (tol {tol})");
        }
        for (int i = expected.Length; i < actual.Length; i++) Assert.True(actual[i] == Sentinel, $"{what}: wrote past the end, at {i}");
    }

    private static void Near(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float scale, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = 1e-5f * scale + 1e-6f;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (tol {tol})");
        }
    }

    /// <summary>A copy of <paramref name="values"/> followed by <see cref="Guard"/> sentinels.</summary>
    private static float[] Guarded(float[] values)
    {
        var g = new float[values.Length + Guard];
        values.CopyTo(g, 0);
        g.AsSpan(values.Length).Fill(Sentinel);
        return g;
    }

    private static float[] Symmetric(int k, Random rng) => Mirror(TestProblems.RandomVector(k * k, rng), k);

    private static float[] Mirror(float[] upper, int k)
    {
        var m = (float[])upper.Clone();
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++) m[i * k + j] = m[j * k + i];
        return m;
    }
}
