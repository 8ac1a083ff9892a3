namespace BatchRecs.Core.Als;

/// <summary>Per-iteration telemetry of a fit.</summary>
/// <param name="Loss">the weighted training loss Σ c(p − xᵀy)² + λ(‖X‖² + ‖Y‖²) after the iteration.</param>
/// <param name="Iteration">1-based number of the iteration.</param>
/// <param name="Seconds">wall-clock seconds the iteration took.</param>
public readonly record struct IterationStats(int Iteration, double Seconds, double Loss);

/// <summary>Fitted factors: users × k and items × k, row-major.</summary>
public sealed class AlsModel(int users, int items, int k, float[] userFactors, float[] itemFactors, IReadOnlyList<IterationStats> history)
{
    public int Users { get; } = users;
    public int Items { get; } = items;
    public int Factors { get; } = k;
    public float[] UserFactors { get; } = userFactors;
    public float[] ItemFactors { get; } = itemFactors;
    public IReadOnlyList<IterationStats> History { get; } = history;

    public ReadOnlySpan<float> UserVector(int u) => UserFactors.AsSpan(u * Factors, Factors);
    public ReadOnlySpan<float> ItemVector(int i) => ItemFactors.AsSpan(i * Factors, Factors);
}
