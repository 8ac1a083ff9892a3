namespace BatchRecs.Core.Als;

/// <summary>
/// Which vector widths a kernel may use, as a type (a JIT-time constant): a width runs where the CPU accelerates it
/// and the set allows it. Every kernel has one skeleton that runs the widest such width over as much of the data
/// as it covers, then each narrower one over what is left, then scalar code: Vector512 → Vector256 → Vector128 → scalar.
/// </summary>
/// <remarks>
/// Production code uses <see cref="HardwareWidths"/>: everything the CPU offers (what <c>DOTNET_EnableAVX512=0</c> or
/// <c>DOTNET_EnableAVX=0</c> leaves). Tests also run every kernel capped at 256 and 128 bits and with no vectors,
/// so on an AVX-512 machine one test run covers every path. One machine always runs one set, so results are
/// bit-identical across threads, blocks and executors on one CPU kind (different sets round differently).
/// <para>
/// Kernels test <c>Vector512.IsHardwareAccelerated &amp;&amp; TW.Allow512</c> in that order, on purpose: the JIT folds the
/// intrinsic while importing, so a width the CPU lacks is never compiled. Behind a property the dead branch would be
/// imported and inline the runtime's software fallbacks, and the locals those add stop the JIT from keeping the
/// live path's vectors in registers.
/// </para>
/// </remarks>
internal interface IVectorWidths
{
    static abstract bool Allow512 { get; }
    static abstract bool Allow256 { get; }
    static abstract bool Allow128 { get; }

    /// <summary>
    /// The 128-bit width may be used where a fused multiply-add is required (the top-N scan's exact scores) even
    /// when the CPU has none: emulated, it is slower than the scalar path, so production does not; tests do, to
    /// check that path's results on any machine.
    /// </summary>
    static abstract bool AllowEmulatedFusedMultiplyAdd { get; }
}

/// <summary>Every width the CPU accelerates (production).</summary>
internal readonly struct HardwareWidths : IVectorWidths
{
    public static bool Allow512 => true;
    public static bool Allow256 => true;
    public static bool Allow128 => true;
    public static bool AllowEmulatedFusedMultiplyAdd => false;
}

/// <summary>At most Vector256 (for tests).</summary>
internal readonly struct UpTo256 : IVectorWidths
{
    public static bool Allow512 => false;
    public static bool Allow256 => true;
    public static bool Allow128 => true;
    public static bool AllowEmulatedFusedMultiplyAdd => true;
}

/// <summary>Vector128 only (for tests).</summary>
internal readonly struct UpTo128 : IVectorWidths
{
    public static bool Allow512 => false;
    public static bool Allow256 => false;
    public static bool Allow128 => true;
    public static bool AllowEmulatedFusedMultiplyAdd => true;
}

/// <summary>No vectors: the scalar paths alone (for tests).</summary>
internal readonly struct ScalarOnly : IVectorWidths
{
    public static bool Allow512 => false;
    public static bool Allow256 => false;
    public static bool Allow128 => false;
    public static bool AllowEmulatedFusedMultiplyAdd => false;
}
