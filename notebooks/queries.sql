-- How good was the last run, against the popularity baseline?
SELECT m.metric, round(m.value, 4) AS value
FROM run_metrics m
WHERE m.run_id = (SELECT run_id FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC LIMIT 1)
  AND (m.metric LIKE 'model.%' OR m.metric LIKE 'popular.%')
ORDER BY m.metric;

-- Which items are over-exposed: share of users who get each item, top 20.
SELECT item_id, count(*) AS users,
       round(100.0 * count(*) / (SELECT count(DISTINCT user_id) FROM recommendations
                                 WHERE run_date = (SELECT max(run_date) FROM recommendations)), 2) AS pct_users
FROM recommendations
WHERE run_date = (SELECT max(run_date) FROM recommendations)
GROUP BY item_id ORDER BY users DESC LIMIT 20;

-- Run history: status, duration, size.
SELECT run_id, run_date, status, round(seconds, 1) AS seconds, input_rows, users, items, reason
FROM runs ORDER BY started_at DESC LIMIT 30;
