-- question: Did the run check out? The checks the run that published the lists of the run date made on itself:
--           the IVF index's recall against exact search on canary users (the run fails under recall_floor), the
--           held-out evaluation's size, input and output volumes, and the seconds of each stage.
-- inputs:   tables recommendations, run_metrics
-- params:   run_date DATE (default: the latest run date in recommendations)
-- returns:  run_date DATE, run_id VARCHAR, metric VARCHAR, value DOUBLE

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));

SELECT m.run_date, m.run_id, m.metric, round(m.value, 4) AS value
FROM run_metrics m
WHERE m.run_id = (SELECT any_value(run_id) FROM recommendations WHERE run_date = getvariable('resolved_run_date'))
  AND (m.metric LIKE 'index.%' OR m.metric LIKE 'eval.%' OR m.metric LIKE 'time.%'
       OR m.metric LIKE 'input.%' OR m.metric LIKE 'output.%')
ORDER BY m.metric;
