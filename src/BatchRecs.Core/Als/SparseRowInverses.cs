using System.Collections.Concurrent;

namespace BatchRecs.Core.Als;

/// <summary>
/// (G + λI)⁻¹ of one Gram matrix, per λ, computed once and shared by the blocks of a half-step that run in one process
/// (see <see cref="SparseRowSolver"/>). Owned by whoever runs the half-step (<see cref="Execution.LocalExecutor"/> makes
/// one per half-step) and dropped with it. Thread-safe: blocks on several threads ask for the same λ at once, and it is
/// computed by one of them.
/// </summary>
/// <remarks>
/// A block solved without one computes the same matrices itself, so sharing changes the cost, never the bits.
/// </remarks>
public sealed class SparseRowInverses
{
    private readonly float[] _gram;
    private readonly int _k;
    private readonly ConcurrentDictionary<float, Lazy<float[]?>> _byLambda = new();

    /// <param name="gram">G, k×k row-major; must not change while this cache is in use.</param>
    /// <param name="k">the factor count.</param>
    public SparseRowInverses(float[] gram, int k)
    {
        ArgumentNullException.ThrowIfNull(gram);
        if (gram.Length != k * k) throw new ArgumentException($"gram must be k×k ({k * k} floats), got {gram.Length}.", nameof(gram));
        _gram = gram;
        _k = k;
    }

    /// <summary>Whether this cache was made for <paramref name="gram"/> (the same array).</summary>
    public bool IsFor(float[] gram) => ReferenceEquals(gram, _gram);

    /// <summary>M = (G + λI)⁻¹, or null when G + λI is not positive definite.</summary>
    public float[]? For(float lambda) =>
        _byLambda.GetOrAdd(lambda, l => new Lazy<float[]?>(() => SparseRowSolver.Inverse(_gram, l, _k))).Value;
}
