-- question: How far into the catalogue do the lists reach? Items split into ten popularity deciles by their
--           interactions in the newest run's window (decile 1 = the most popular tenth), and for each decile: its
--           share of demand, how many of its items the newest lists recommend at all (coverage) and its share of the
--           recommendation slots. A healthy recommender reaches well into the tail (coverage in deciles 6-10) without
--           showing the tail more than users want it.
-- inputs:   tables item_propensity (the newest run only), recommendations
-- params:   none
-- returns:  decile BIGINT, items BIGINT, min_interactions INTEGER, max_interactions INTEGER, pct_demand DOUBLE,
--           items_recommended BIGINT, pct_coverage DOUBLE, pct_slots DOUBLE

WITH latest AS (
    SELECT item_id FROM recommendations WHERE run_date = (SELECT max(run_date) FROM recommendations)
),
items AS (
    SELECT item_id, interactions, ntile(10) OVER (ORDER BY interactions DESC, item_id) AS decile FROM item_propensity
),
shown AS (SELECT item_id, count(*) AS slots FROM latest GROUP BY item_id),
totals AS (SELECT (SELECT sum(interactions) FROM item_propensity) AS pairs, (SELECT count(*) FROM latest) AS slots)
SELECT i.decile,
       count(*) AS items,
       min(i.interactions) AS min_interactions,
       max(i.interactions) AS max_interactions,
       round(CAST(100.0 * sum(i.interactions) / any_value(t.pairs) AS DOUBLE), 1) AS pct_demand,
       count(s.item_id) AS items_recommended,
       round(100.0 * count(s.item_id) / count(*), 1) AS pct_coverage,
       round(CAST(100.0 * coalesce(sum(s.slots), 0) / any_value(t.slots) AS DOUBLE), 1) AS pct_slots
FROM items i CROSS JOIN totals t LEFT JOIN shown s USING (item_id)
GROUP BY i.decile
ORDER BY i.decile;
