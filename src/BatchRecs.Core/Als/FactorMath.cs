using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace BatchRecs.Core.Als;

/// <summary>Small dense kernels used by the ALS solvers. Row-major, k = vector length.</summary>
internal static class FactorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>y += a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.MultiplyAdd(x, a, y, y);

    /// <summary>dst = M·v for a k×k row-major symmetric matrix M.</summary>
    public static void SymMatVec(ReadOnlySpan<float> m, ReadOnlySpan<float> v, Span<float> dst, int k)
    {
        for (int r = 0; r < k; r++) dst[r] = TensorPrimitives.Dot(m.Slice(r * k, k), v);
    }
}
