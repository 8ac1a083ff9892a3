-- question: How good are tonight's recommendations? For the run that published the lists of the run date, each
--           evaluation metric at K = top_n for the model and for the popularity baseline, measured on the same
--           held-out interactions, and the lift (model / popularity: above 1 the model beats the best sellers).
--           coverage (share of the catalogue recommended to someone) and gini (0 = every item shown equally, 1 = one
--           item takes all) describe the lists, not their accuracy; ips_* and snips_* are the inverse-propensity
--           (popularity-debiased) recall and DCG.
-- inputs:   tables recommendations, run_metrics
-- params:   run_date DATE (default: the latest run date in recommendations)
-- returns:  run_date DATE, run_id VARCHAR, metric VARCHAR, model DOUBLE, popular DOUBLE, lift DOUBLE

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));

WITH run AS (
    SELECT any_value(run_id) AS run_id FROM recommendations WHERE run_date = getvariable('resolved_run_date')
),
metrics AS (
    SELECT split_part(m.metric, '.', 1) AS model, split_part(m.metric, '.', 2) AS metric, m.value
    FROM run_metrics m JOIN run USING (run_id)
    WHERE (m.metric LIKE 'model.%' OR m.metric LIKE 'popular.%') AND m.metric LIKE '%@%'
)
SELECT getvariable('resolved_run_date') AS run_date,
       (SELECT run_id FROM run) AS run_id,
       metric,
       round(max(value) FILTER (WHERE model = 'model'), 4) AS model,
       round(max(value) FILTER (WHERE model = 'popular'), 4) AS popular,
       round(max(value) FILTER (WHERE model = 'model') / nullif(max(value) FILTER (WHERE model = 'popular'), 0), 2) AS lift
FROM metrics
GROUP BY metric
ORDER BY metric;
