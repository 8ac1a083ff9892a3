-- question: Who is new, who is gone, and does the first slot hold? Users listed on the run date and on the previous
--           run date, users listed only now (new) and only before (gone), the mean share of the earlier list kept,
--           and the share of users on both dates whose first recommendation stayed the same.
-- inputs:   table recommendations (at least two run dates)
-- params:   run_date DATE (default: the latest run date), previous_run_date DATE (default: the latest run date before it)
-- returns:  run_date DATE, previous_run_date DATE, users_now BIGINT, users_before BIGINT, new_users BIGINT,
--           gone_users BIGINT, mean_share_kept DOUBLE, same_first_item DOUBLE

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));
SET VARIABLE resolved_previous_run_date = coalesce(CAST(getvariable('previous_run_date') AS DATE),
    (SELECT max(run_date) FROM recommendations WHERE run_date < getvariable('resolved_run_date')));

WITH now AS (SELECT user_id, item_id, rank FROM recommendations WHERE run_date = getvariable('resolved_run_date')),
before AS (SELECT user_id, item_id, rank FROM recommendations WHERE run_date = getvariable('resolved_previous_run_date')),
kept AS (
    SELECT before.user_id, count(now.item_id) / count(*) AS share
    FROM before LEFT JOIN now USING (user_id, item_id)
    WHERE before.user_id IN (SELECT user_id FROM now)
    GROUP BY before.user_id
)
SELECT getvariable('resolved_run_date') AS run_date,
       getvariable('resolved_previous_run_date') AS previous_run_date,
       (SELECT count(DISTINCT user_id) FROM now) AS users_now,
       (SELECT count(DISTINCT user_id) FROM before) AS users_before,
       (SELECT count(DISTINCT user_id) FROM now WHERE user_id NOT IN (SELECT user_id FROM before)) AS new_users,
       (SELECT count(DISTINCT user_id) FROM before WHERE user_id NOT IN (SELECT user_id FROM now)) AS gone_users,
       (SELECT round(avg(share), 3) FROM kept) AS mean_share_kept,
       (SELECT round(avg(CASE WHEN now.item_id = before.item_id THEN 1.0 ELSE 0 END), 3)
        FROM now JOIN before USING (user_id) WHERE now.rank = 1 AND before.rank = 1) AS same_first_item;
