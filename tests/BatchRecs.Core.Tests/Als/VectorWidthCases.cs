using BatchRecs.Core.Als;

namespace BatchRecs.Core.Tests.Als;

/// <summary>A kernel check written once and run on one set of vector widths (a type parameter: the kernels are compiled for it).</summary>
internal interface IWidthsCheck
{
    void Run<TW>() where TW : struct, IVectorWidths;
}

/// <summary>
/// The sets of vector widths every kernel test runs on, by name (theory data cannot carry a type): "hardware" is
/// what production runs (Vector512 → 256 → 128 on an AVX-512 machine), the others cap it, so one run on an AVX-512
/// machine covers every width. Elsewhere a cap above what the CPU has runs the hardware path again; re-running the
/// tests with <c>DOTNET_EnableAVX512=0</c> and <c>DOTNET_EnableAVX=0</c> covers what production runs there.
/// </summary>
internal static class VectorWidthCases
{
    public static TheoryData<string> Names => new() { "hardware", "256", "128", "scalar" };

    public static void Run<TC>(string widths, TC check) where TC : IWidthsCheck
    {
        switch (widths)
        {
            case "hardware": check.Run<HardwareWidths>(); break;
            case "256": check.Run<UpTo256>(); break;
            case "128": check.Run<UpTo128>(); break;
            case "scalar": check.Run<ScalarOnly>(); break;
            default: throw new ArgumentException($"unknown widths '{widths}'.", nameof(widths));
        }
    }
}
