-- question: How have the runs gone? The latest runs of every job (or of one), newest first: status, duration, input
--           size and the headline metrics. A failed or rejected run kept the previous lists live and says why in
--           reason; a gap in the dates is a night that did not run.
-- inputs:   tables runs, run_metrics
-- params:   job VARCHAR (default: every job), max_runs BIGINT (default: 30)
-- returns:  job VARCHAR, run_id VARCHAR, run_date DATE, status VARCHAR, seconds DOUBLE, input_rows BIGINT,
--           model_ndcg DOUBLE, popular_ndcg DOUBLE, coverage DOUBLE, reason VARCHAR

SET VARIABLE resolved_max_runs = coalesce(CAST(getvariable('max_runs') AS BIGINT), 30);

SELECT r.job, r.run_id, r.run_date, r.status, round(r.seconds, 1) AS seconds, r.input_rows,
       round(max(m.value) FILTER (WHERE m.metric LIKE 'model.ndcg@%'), 4) AS model_ndcg,
       round(max(m.value) FILTER (WHERE m.metric LIKE 'popular.ndcg@%'), 4) AS popular_ndcg,
       round(max(m.value) FILTER (WHERE m.metric LIKE 'model.coverage@%'), 3) AS coverage,
       r.reason
FROM runs r LEFT JOIN run_metrics m USING (run_id)
WHERE getvariable('job') IS NULL OR r.job = CAST(getvariable('job') AS VARCHAR)
GROUP BY r.job, r.run_id, r.run_date, r.status, r.seconds, r.input_rows, r.reason, r.started_at
ORDER BY r.started_at DESC
LIMIT getvariable('resolved_max_runs');
