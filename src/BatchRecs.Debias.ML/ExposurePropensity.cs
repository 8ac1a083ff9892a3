using BatchRecs.Core.Data;
using BatchRecs.Core.Debias;
using BatchRecs.Core.Errors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchRecs.Debias.ML;

/// <summary>The fitted exposure model: per-item propensities and what the model learned.</summary>
/// <param name="Propensity">p_i, scaled so the most exposed item has 1 (as the popularity estimate), clipped to [p_min, 1].</param>
/// <param name="Weights">logistic-regression weights of [log(1 + item interactions), log(1 + user activity)].</param>
/// <param name="Bias">the logistic regression's intercept as trained (before the negative-sampling correction).</param>
/// <param name="TrainingRows">rows the model was trained on: sampled exposures plus as many non-exposed pairs.</param>
public sealed record ExposureFit(float[] Propensity, float[] Weights, float Bias, int TrainingRows);

/// <summary>
/// Propensities from an exposure (impression) log: a logistic regression (ML.NET SDCA, single-threaded and seeded,
/// so deterministic) of P(user u was shown item i) on the item's popularity and the user's activity, trained on
/// every logged exposure against as many sampled non-exposed pairs. The sampling shifts the intercept by the
/// log of the negative sampling rate; the model is then read at the mean user activity for every item. Items the
/// exposure log never mentions still get a propensity from their popularity, which is the point of a model.
/// </summary>
public static class ExposurePropensity
{
    private sealed class Row
    {
        public bool Label { get; set; }
        [VectorType(2)] public float[] Features { get; set; } = [];
    }

    /// <param name="exposures">user × item CSR of distinct exposed pairs (ids mapped to the run's indices).</param>
    /// <param name="itemInteractions">n_i per item.</param>
    /// <param name="userActivity">interactions per user.</param>
    /// <param name="pMin">p_min: propensities are clipped to [p_min, 1] (<c>propensity_clip</c>).</param>
    /// <param name="seed">seeds the sampling of positives and negatives and ML.NET's trainer.</param>
    /// <param name="maxPositives">at most this many exposures train the model (a uniform sample beyond it).</param>
    public static ExposureFit Fit(CsrMatrix exposures, ReadOnlySpan<int> itemInteractions, ReadOnlySpan<int> userActivity,
        double pMin = 0.05, ulong seed = 42, int maxPositives = 200_000)
    {
        Propensity.Check(0, pMin);
        if (exposures.NonZeros == 0) throw new BadInputException("the exposure log has no exposures of known users and items.");
        if (itemInteractions.Length != exposures.Cols || userActivity.Length != exposures.Rows)
            throw new ArgumentException("itemInteractions/userActivity must match the exposure matrix's shape.");
        var rows = new List<Row>();
        var rng = new Random(unchecked((int)seed));
        var items = itemInteractions.ToArray();
        var activity = userActivity.ToArray();
        float[] Features(int u, int i) => [MathF.Log(1 + items[i]), MathF.Log(1 + activity[u])];

        // Positives: every exposure (or a uniform sample of them).
        double keepPositive = Math.Min(1.0, (double)maxPositives / exposures.NonZeros);
        for (int u = 0; u < exposures.Rows; u++)
            foreach (int i in exposures.RowCols(u))
                if (keepPositive >= 1 || rng.NextDouble() < keepPositive) rows.Add(new Row { Label = true, Features = Features(u, i) });
        int positives = rows.Count;
        // Negatives: as many random non-exposed pairs.
        long nonExposed = (long)exposures.Rows * exposures.Cols - exposures.NonZeros;
        int negatives = 0;
        for (int attempts = 0; negatives < positives && attempts < positives * 20; attempts++)
        {
            int u = rng.Next(exposures.Rows), i = rng.Next(exposures.Cols);
            if (exposures.Contains(u, i)) continue;
            rows.Add(new Row { Label = false, Features = Features(u, i) });
            negatives++;
        }
        if (negatives == 0) throw new BadInputException("every (user, item) pair was exposed: propensities are all 1; use propensity=popularity.");

        // Shuffled here, seeded, rather than by SDCA's own shuffle: ML.NET's RowShufflingTransformer hands rows between a
        // producer task and the trainer, and on a loaded 2-core machine that hand-over stalled a small test fit for minutes
        // (dotnet/machinelearning#5416 is the same code's earlier trouble).
        for (int j = rows.Count - 1; j > 0; j--)
        {
            int k = rng.Next(j + 1);
            (rows[j], rows[k]) = (rows[k], rows[j]);
        }
        var ml = new MLContext(seed: (int)(seed & 0x7FFFFFFF));
        var data = ml.Data.LoadFromEnumerable(rows);
        var trainer = ml.BinaryClassification.Trainers.SdcaLogisticRegression(new Microsoft.ML.Trainers.SdcaLogisticRegressionBinaryTrainer.Options
        {
            NumberOfThreads = 1,
            Shuffle = false,
            MaximumNumberOfIterations = 50,
            L2Regularization = 1e-4f,
        });
        var model = trainer.Fit(data);
        var weights = model.Model.SubModel.Weights.ToArray();
        float bias = model.Model.SubModel.Bias;

        // Undo the negative sampling: logit_true = logit_sampled + log(negatives / nonExposed · positives / exposures).
        double correction = Math.Log((double)negatives / nonExposed) - Math.Log((double)positives / exposures.NonZeros);
        double meanActivity = 0;
        foreach (int a in activity) meanActivity += Math.Log(1 + a);
        meanActivity /= Math.Max(1, activity.Length);
        var raw = new double[items.Length];
        double max = 0;
        for (int i = 0; i < items.Length; i++)
        {
            double logit = bias + weights[0] * Math.Log(1 + items[i]) + weights[1] * meanActivity + correction;
            raw[i] = 1 / (1 + Math.Exp(-logit));
            max = Math.Max(max, raw[i]);
        }
        var p = new float[items.Length];
        for (int i = 0; i < p.Length; i++) p[i] = (float)Propensity.Clip(max > 0 ? raw[i] / max : 1, pMin);
        return new ExposureFit(p, weights, bias, rows.Count);
    }
}
