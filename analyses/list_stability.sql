-- question: How much do everyone's lists move between two run dates? For the users listed on both dates: how many
--           of the earlier list's items are still in the later list, and how many users fall in each band. Kept near
--           the list length everywhere means the lists hardly move; near 0, they churn completely every night.
-- inputs:   table recommendations (at least two run dates)
-- params:   run_date DATE (default: the latest run date), previous_run_date DATE (default: the latest run date before it)
-- returns:  run_date DATE, previous_run_date DATE, items_kept BIGINT, users BIGINT, pct_users DOUBLE

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));
SET VARIABLE resolved_previous_run_date = coalesce(CAST(getvariable('previous_run_date') AS DATE),
    (SELECT max(run_date) FROM recommendations WHERE run_date < getvariable('resolved_run_date')));

WITH now AS (SELECT user_id, item_id FROM recommendations WHERE run_date = getvariable('resolved_run_date')),
before AS (SELECT user_id, item_id FROM recommendations WHERE run_date = getvariable('resolved_previous_run_date')),
per_user AS (
    SELECT before.user_id, count(now.item_id) AS kept
    FROM before LEFT JOIN now USING (user_id, item_id)
    WHERE before.user_id IN (SELECT user_id FROM now)
    GROUP BY before.user_id
)
SELECT getvariable('resolved_run_date') AS run_date,
       getvariable('resolved_previous_run_date') AS previous_run_date,
       kept AS items_kept,
       count(*) AS users,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct_users
FROM per_user
GROUP BY kept
ORDER BY kept DESC;
