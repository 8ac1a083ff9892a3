using BatchRecs.Core.Als;

namespace BatchRecs.Core.Tests.Als;

/// <summary>
/// Each SIMD kernel in <see cref="FactorMath"/> against its scalar twin in <see cref="ReferenceKernels"/>,
/// for every k from 1 to 130, so that every Vector512/Vector256/scalar remainder and every fixed-k
/// fast path (16, 32, 48, 64) is exercised. Tolerances scale with the magnitude of the terms summed.
/// </summary>
public class KernelTests
{
    public static IEnumerable<object[]> AllK() => Enumerable.Range(1, 130).Select(k => new object[] { k });

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float scale, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = 1e-5f * scale + 1e-6f;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (tol {tol})");
        }
    }

    [Theory]
    [MemberData(nameof(AllK))]
    public void Vector_kernels_match_scalar(int k)
    {
        var rng = new Random(k);
        var a = TestProblems.RandomVector(k, rng);
        var b = TestProblems.RandomVector(k, rng);
        float dot = FactorMath.Dot(a, b), refDot = ReferenceKernels.Dot(a, b);
        Assert.True(Math.Abs(dot - refDot) <= 1e-5f * k, $"Dot k={k}: {dot} vs {refDot}");

        var y1 = (float[])b.Clone(); var y2 = (float[])b.Clone();
        FactorMath.Axpy(0.37f, a, y1);
        ReferenceKernels.Axpy(0.37f, a, y2);
        Close(y2, y1, 1f, "Axpy");

        var p1 = (float[])b.Clone(); var p2 = (float[])b.Clone();
        FactorMath.Xpby(a, -0.6f, p1);
        for (int i = 0; i < k; i++) p2[i] = a[i] + -0.6f * p2[i];
        Close(p2, p1, 1f, "Xpby");
    }

    [Theory]
    [MemberData(nameof(AllK))]
    public void SymMatVec_matches_scalar(int k)
    {
        var rng = new Random(1000 + k);
        var m = Symmetric(k, rng);
        var v = TestProblems.RandomVector(k, rng);
        var fast = new float[k]; var slow = new float[k];
        FactorMath.SymMatVec(m, v, fast, k, 0.25f);
        ReferenceKernels.SymMatVec(m, v, slow, k, 0.25f);
        Close(slow, fast, k, "SymMatVec");
    }

    [Theory]
    [MemberData(nameof(AllK))]
    public void AccumulateEntries_matches_scalar(int k)
    {
        var rng = new Random(2000 + k);
        int dstRows = 40, n = 1 + k % 23;
        var dst = TestProblems.RandomVector(dstRows * k, rng);
        var cols = Enumerable.Range(0, n).Select(_ => rng.Next(dstRows)).ToArray();
        var conf = Enumerable.Range(0, n).Select(_ => 1f + (float)rng.NextDouble() * 4).ToArray();
        var pref = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
        var v = TestProblems.RandomVector(k, rng);
        foreach (bool residual in new[] { false, true })
            foreach (var p in new[] { Array.Empty<float>(), pref })
            {
                var fast = TestProblems.RandomVector(k, new Random(k)); var slow = (float[])fast.Clone();
                FactorMath.AccumulateEntries(fast, v, dst, k, cols, conf, p, residual);
                ReferenceKernels.AccumulateEntries(slow, v, dst, k, cols, conf, p, residual);
                Close(slow, fast, 5f * n * k, $"AccumulateEntries(residual={residual}, pref={p.Length > 0})");
            }
    }

    [Theory]
    [MemberData(nameof(AllK))]
    public void RankUpdateUpper_matches_scalar_on_the_upper_triangle(int k)
    {
        var rng = new Random(3000 + k);
        int n = k % 7 == 0 ? 0 : 1 + k % 37;
        var y = TestProblems.RandomVector(n * k, rng);
        var z = TestProblems.RandomVector(n * k, rng);
        var fast = TestProblems.RandomVector(k * k, rng); var slow = (float[])fast.Clone();
        FactorMath.RankUpdateUpper(fast, k, z, y, n);
        ReferenceKernels.RankUpdateUpper(slow, k, z, y, n);
        for (int i = 0; i < k; i++)
            Close(slow.AsSpan(i * k + i, k - i), fast.AsSpan(i * k + i, k - i), n + 1, $"RankUpdateUpper row {i}");
    }

    [Theory]
    [MemberData(nameof(AllK))]
    public void Cholesky_factor_and_solve_match_scalar(int k)
    {
        var rng = new Random(4000 + k);
        // A = BᵀB + k·I is well conditioned and positive definite.
        var bm = TestProblems.RandomVector(k * k, rng);
        var a = new float[k * k];
        ReferenceKernels.RankUpdateUpper(a, k, bm, bm, k);
        for (int i = 0; i < k; i++) a[i * k + i] += k;
        var fast = (float[])a.Clone(); var slow = (float[])a.Clone();
        Assert.True(FactorMath.CholeskyUpper(fast, k));
        Assert.True(ReferenceKernels.CholeskyUpper(slow, k));
        for (int i = 0; i < k; i++)
            Close(slow.AsSpan(i * k + i, k - i), fast.AsSpan(i * k + i, k - i), MathF.Sqrt(k), $"U row {i}");

        var rhs = TestProblems.RandomVector(k, rng);
        var xFast = new float[k]; var xSlow = new float[k];
        FactorMath.CholeskySolveUpper(fast, (float[])rhs.Clone(), xFast, k);
        ReferenceKernels.CholeskySolveUpper(slow, (float[])rhs.Clone(), xSlow, k);
        Close(xSlow, xFast, 1f, "solve");
        // And the solution really solves A·x = rhs (A's upper triangle mirrored).
        var full = Mirror(a, k);
        var ax = new float[k];
        ReferenceKernels.SymMatVec(full, xFast, ax, k);
        Close(rhs, ax, k, "A·x");
    }

    [Fact]
    public void CholeskyUpper_reports_a_matrix_that_is_not_positive_definite()
    {
        float[] a = [1, 2, 2, 1]; // eigenvalues 3 and −1
        Assert.False(FactorMath.CholeskyUpper(a, 2));
        float[] nan = [float.NaN, 0, 0, 1];
        Assert.False(FactorMath.CholeskyUpper(nan, 2));
    }

    private static float[] Symmetric(int k, Random rng)
    {
        var m = TestProblems.RandomVector(k * k, rng);
        return Mirror(m, k);
    }

    private static float[] Mirror(float[] upper, int k)
    {
        var m = (float[])upper.Clone();
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++) m[i * k + j] = m[j * k + i];
        return m;
    }
}
