-- question: Which items are over- and under-exposed, relative to demand? For every item of the newest model: its
--           share of the (user, item) interaction pairs of the run's window (demand), its share of all recommendation
--           slots of the newest run date (exposure), and exposure_ratio = exposure / demand (1 proportional, above 1
--           over-exposed, below 1 under-exposed). The lists never repeat an item a user already has, so the most
--           popular items sit somewhat below 1; look for the outliers. Ratios of items with few interactions are noise.
-- inputs:   tables item_propensity (the newest run only), recommendations
-- params:   none
-- returns:  item_id ID, interactions INTEGER, users_shown BIGINT, mean_rank DOUBLE, demand_share DOUBLE,
--           exposure_share DOUBLE, exposure_ratio DOUBLE, propensity DOUBLE

WITH latest AS (
    SELECT item_id, rank FROM recommendations WHERE run_date = (SELECT max(run_date) FROM recommendations)
),
shown AS (
    SELECT item_id, count(*) AS users_shown, avg(rank) AS mean_rank FROM latest GROUP BY item_id
),
totals AS (
    SELECT (SELECT count(*) FROM latest) AS slots, (SELECT sum(interactions) FROM item_propensity) AS pairs
)
SELECT p.item_id,
       p.interactions,
       coalesce(s.users_shown, 0) AS users_shown,
       round(s.mean_rank, 1) AS mean_rank,
       CAST(p.interactions / t.pairs AS DOUBLE) AS demand_share,
       CAST(coalesce(s.users_shown, 0) / t.slots AS DOUBLE) AS exposure_share,
       round(CAST((coalesce(s.users_shown, 0) / t.slots) / (p.interactions / t.pairs) AS DOUBLE), 2) AS exposure_ratio,
       round(CAST(p.propensity AS DOUBLE), 3) AS propensity
FROM item_propensity p CROSS JOIN totals t LEFT JOIN shown s USING (item_id)
ORDER BY exposure_ratio DESC, p.interactions DESC, p.item_id;
