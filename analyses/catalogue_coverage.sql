-- question: What share of the catalogue do the lists recommend? Items recommended to at least one user on the run
--           date, of the items in the newest model. coverage_at_evaluation is the run's own model.coverage@K,
--           measured on the evaluation fit (before the refit on the whole window), so it can differ a little.
-- inputs:   tables recommendations, item_factors (the newest run only), run_metrics
-- params:   run_date DATE (default: the latest run date in recommendations)
-- returns:  run_date DATE, items_recommended BIGINT, items_in_model BIGINT, pct_coverage DOUBLE, coverage_at_evaluation DOUBLE

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));

WITH listed AS (SELECT run_id, item_id FROM recommendations WHERE run_date = getvariable('resolved_run_date'))
SELECT getvariable('resolved_run_date') AS run_date,
       (SELECT count(DISTINCT item_id) FROM listed) AS items_recommended,
       (SELECT count(*) FROM item_factors) AS items_in_model,
       round(100.0 * (SELECT count(DISTINCT item_id) FROM listed) / nullif((SELECT count(*) FROM item_factors), 0), 1) AS pct_coverage,
       (SELECT round(any_value(value), 4) FROM run_metrics
        WHERE run_id = (SELECT any_value(run_id) FROM listed) AND metric LIKE 'model.coverage@%') AS coverage_at_evaluation;
