-- question: How did a user's list change since the previous run date? The user's list of the run date beside the
--           one of the previous run date, item by item: change is 'new' (not in the earlier list), 'dropped' (gone
--           now), '=' or the move in rank ('+3' = three places up). Ids are compared as text, so INT64 and STRING
--           ids work alike.
-- inputs:   table recommendations (at least two run dates)
-- params:   run_date DATE (default: the latest run date), previous_run_date DATE (default: the latest run date before
--           it), user_id ID (default: the user listed on both dates whose list changed most)
-- returns:  run_date DATE, previous_run_date DATE, user_id ID, item_id ID, rank_before INTEGER, rank_now INTEGER,
--           change VARCHAR, score_before FLOAT, score_now FLOAT

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));
SET VARIABLE resolved_previous_run_date = coalesce(CAST(getvariable('previous_run_date') AS DATE),
    (SELECT max(run_date) FROM recommendations WHERE run_date < getvariable('resolved_run_date')));
SET VARIABLE resolved_user_id = coalesce(CAST(getvariable('user_id') AS VARCHAR), (
    WITH now AS (SELECT user_id, item_id FROM recommendations WHERE run_date = getvariable('resolved_run_date')),
         before AS (SELECT user_id, item_id FROM recommendations WHERE run_date = getvariable('resolved_previous_run_date'))
    SELECT CAST(now.user_id AS VARCHAR)
    FROM now LEFT JOIN before USING (user_id, item_id)
    WHERE now.user_id IN (SELECT user_id FROM before)
    GROUP BY now.user_id
    ORDER BY count(*) FILTER (WHERE before.item_id IS NULL) DESC, CAST(now.user_id AS VARCHAR)
    LIMIT 1));

WITH now AS (
    SELECT user_id, item_id, rank, score FROM recommendations
    WHERE run_date = getvariable('resolved_run_date') AND CAST(user_id AS VARCHAR) = getvariable('resolved_user_id')
),
before AS (
    SELECT user_id, item_id, rank, score FROM recommendations
    WHERE run_date = getvariable('resolved_previous_run_date') AND CAST(user_id AS VARCHAR) = getvariable('resolved_user_id')
)
SELECT getvariable('resolved_run_date') AS run_date,
       getvariable('resolved_previous_run_date') AS previous_run_date,
       coalesce(now.user_id, before.user_id) AS user_id,
       item_id,
       before.rank AS rank_before,
       now.rank AS rank_now,
       CASE WHEN before.rank IS NULL THEN 'new'
            WHEN now.rank IS NULL THEN 'dropped'
            WHEN before.rank = now.rank THEN '='
            WHEN before.rank > now.rank THEN '+' || (before.rank - now.rank)
            ELSE '-' || (now.rank - before.rank) END AS change,
       round(before.score, 3) AS score_before,
       round(now.score, 3) AS score_now
FROM now FULL OUTER JOIN before USING (item_id)
ORDER BY now.rank NULLS LAST, before.rank;
