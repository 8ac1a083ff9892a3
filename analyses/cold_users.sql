-- question: How many listed users get a cold-start list? The share of the users listed on the run date whose list
--           holds items of each source: 'als' (the model) and 'popular' (the popularity fallback for users under
--           min_history or listed in users_input without history), plus any other source the lists carry. 'als' and
--           'popular' are always reported, 0 users included.
-- inputs:   table recommendations (column source)
-- params:   run_date DATE (default: the latest run date in recommendations)
-- returns:  run_date DATE, source VARCHAR, users BIGINT, pct_users DOUBLE

SET VARIABLE resolved_run_date = coalesce(CAST(getvariable('run_date') AS DATE), (SELECT max(run_date) FROM recommendations));

WITH listed AS (
    SELECT user_id, coalesce(source, 'unknown') AS source FROM recommendations WHERE run_date = getvariable('resolved_run_date')
),
sources AS (
    SELECT source FROM (VALUES ('als'), ('popular')) AS known(source)
    UNION
    SELECT DISTINCT source FROM listed
),
per_source AS (
    SELECT source, count(DISTINCT user_id) AS users FROM listed GROUP BY source
)
SELECT getvariable('resolved_run_date') AS run_date,
       s.source,
       coalesce(p.users, 0) AS users,
       round(100.0 * coalesce(p.users, 0) / nullif((SELECT count(DISTINCT user_id) FROM listed), 0), 2) AS pct_users
FROM sources s LEFT JOIN per_source p USING (source)
ORDER BY users DESC, s.source;
