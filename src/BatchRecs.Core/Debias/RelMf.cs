namespace BatchRecs.Core.Debias;

/// <summary>
/// The Rel-MF estimator of Saito et al. 2020 ("Unbiased Recommender Learning from Missing-Not-At-Random Implicit
/// Feedback", WSDM'20, §3, the unbiased pointwise loss), generalized to confidence-weighted ALS (Hu, Koren &amp;
/// Volinsky 2008).
/// </summary>
/// <remarks>
/// <para>A click Y_ui = O_ui·R_ui is an exposure (probability θ_i) times relevance (γ_ui). The ideal confidence-weighted
/// loss is Σ γ·c·(1 − s)² + (1 − γ)·s², with c = confidence(r). Its unbiased estimate from clicks is
/// Σ Y·(c/θ)·(1 − s)² + (1 − Y/θ)·s²: E_O[Y/θ] = γ. An unclicked pair (Y = 0) keeps weight 1 and target 0. For a
/// clicked pair, expanding in s gives an s² coefficient c/θ + 1 − 1/θ and a linear one −2c/θ, so the pair's loss is
/// c′·(s − p′)² + const with</para>
/// <code>
///   c′ = 1 + (c − 1)/θ          (= 1 + α·r/θ for the linear confidence)
///   p′ = c / (θ + c − 1)        (= (1 + α·r)/(θ + α·r))
/// </code>
/// <para>α = 0 (c ≡ 1) is the paper's Rel-MF exactly (weight 1, target 1/θ); θ = 1 is plain HKV ALS (c′ = c, p′ = 1).
/// The confidence stays ≥ 1, so every row's normal equation stays positive definite, and the weights replace c and p
/// where the problem is built (<see cref="Als.AlsProblem.BuildRelMf"/>): no extra pass when solving.</para>
/// <para>Worked example: r = 1, α = 2, θ = 0.25: c = 3, c′ = 1 + 2/0.25 = 9, p′ = 3/(0.25 + 2) = 4/3. The
/// older form (c with target 1/θ = 4) over-shrank rare items' scores by γ(c − 1)(θ − 1)·s² in expectation.</para>
/// </remarks>
public static class RelMf
{
    /// <summary>c′ = 1 + (c − 1)/θ: the confidence of a clicked pair with HKV confidence c and propensity θ ∈ (0, 1].</summary>
    public static float Confidence(float c, float theta) => (float)(1.0 + ((double)c - 1.0) / theta);

    /// <summary>p′ = c/(θ + c − 1): the target of a clicked pair with HKV confidence c and propensity θ ∈ (0, 1].</summary>
    public static float Preference(float c, float theta) => (float)(c / (theta + ((double)c - 1.0)));
}
