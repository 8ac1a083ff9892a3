using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace BatchRecs.Core.Als;

/// <summary>
/// The float operations of one vector width, as static members of a struct, so a kernel is written once as a
/// generic method over <typeparamref name="TV"/> and the JIT compiles one straight-line copy per width (the
/// shape of TensorPrimitives' operator structs, turned around: here the width is the type parameter).
/// </summary>
/// <remarks>
/// <see cref="MulAdd"/> is what the ALS kernels use: a·b + c, fused where the hardware has a fused multiply-add
/// and a multiply then an add where it has not (x86 without FMA3: a software-emulated fused multiply-add costs
/// about 20 times as much). <see cref="FusedMultiplyAdd"/> is always fused (emulated when it must be), for the
/// top-N scan, whose scores must equal <see cref="Index.ScoreKey.Dot"/> bit for bit. Either way the choice is
/// fixed per machine, so every row takes the same path and results stay deterministic.
/// </remarks>
internal interface IVectorOps<TV> where TV : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>Accumulator tiles of a register-blocked kernel hold at most this many vectors per row
    /// (32 vector registers with AVX-512, 16 with AVX2 or SSE).</summary>
    static abstract int TileVectors { get; }

    static abstract TV Zero { get; }
    static abstract TV Load(ref float source, nuint index);
    static abstract void Store(TV value, ref float destination, nuint index);
    static abstract TV Create(float value);
    static abstract TV Add(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    static abstract TV MulAdd(TV a, TV b, TV c);
    static abstract TV FusedMultiplyAdd(TV a, TV b, TV c);
    static abstract float Sum(TV value);
    static abstract TV GreaterThanOrEqual(TV a, TV b);
    static abstract TV Or(TV a, TV b);
    static abstract bool IsZero(TV value);
    static abstract uint ExtractMostSignificantBits(TV value);
}

/// <summary>Vector512 (AVX-512).</summary>
internal readonly struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Count => 16;
    public static int TileVectors => 4;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source, nuint index) => Vector512.LoadUnsafe(ref source, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> GreaterThanOrEqual(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsZero(Vector512<float> value) => value == Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint ExtractMostSignificantBits(Vector512<float> value) => (uint)value.ExtractMostSignificantBits();
}

/// <summary>Vector256 (AVX2; on .NET 10 it always comes with FMA3).</summary>
internal readonly struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Count => 8;
    public static int TileVectors => 2;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source, nuint index) => Vector256.LoadUnsafe(ref source, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> GreaterThanOrEqual(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Or(Vector256<float> a, Vector256<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsZero(Vector256<float> value) => value == Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint ExtractMostSignificantBits(Vector256<float> value) => value.ExtractMostSignificantBits();
}

/// <summary>Vector128 (SSE on x86, AdvSimd on Arm64).</summary>
internal readonly struct Ops128 : IVectorOps<Vector128<float>>
{
    /// <summary>A hardware fused multiply-add for 128-bit vectors: FMA3 on x86, AdvSimd on Arm64 (a JIT-time constant).</summary>
    public static bool HasFusedMultiplyAdd => Fma.IsSupported || AdvSimd.IsSupported;

    public static int Count => 4;
    public static int TileVectors => 2;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source, nuint index) => Vector128.LoadUnsafe(ref source, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, nuint index) => value.StoreUnsafe(ref destination, index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Create(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    // The intrinsics, not HasFusedMultiplyAdd: the JIT folds them while importing, so the emulated branch is never compiled.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> GreaterThanOrEqual(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Or(Vector128<float> a, Vector128<float> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsZero(Vector128<float> value) => value == Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint ExtractMostSignificantBits(Vector128<float> value) => value.ExtractMostSignificantBits();
}

/// <summary>A compile-time count of vectors per row of a register tile: the JIT specializes each struct and folds <c>N</c>.</summary>
internal interface IVectorCount { static abstract int N { get; } }
internal readonly struct N1 : IVectorCount { public static int N => 1; }
internal readonly struct N2 : IVectorCount { public static int N => 2; }
internal readonly struct N3 : IVectorCount { public static int N => 3; }
internal readonly struct N4 : IVectorCount { public static int N => 4; }
