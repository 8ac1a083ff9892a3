-- question: How concentrated is exposure, compared with demand? The Gini coefficient over all items of the newest
--           model (0 = spread evenly, 1 = everything on one item) and the share taken by the 1 % and 10 % most
--           demanded (or most shown) items, for demand (interaction pairs of the window) and for exposure
--           (recommendation slots of the newest run date). Exposure flatter than demand spreads attention over the
--           long tail; steeper feeds the head.
-- inputs:   tables item_propensity (the newest run only), recommendations
-- params:   none
-- returns:  measure VARCHAR, demand DOUBLE, exposure DOUBLE

WITH shown AS (
    SELECT item_id, count(*) AS slots FROM recommendations
    WHERE run_date = (SELECT max(run_date) FROM recommendations) GROUP BY item_id
),
items AS (
    SELECT CAST(p.interactions AS DOUBLE) AS demand, CAST(coalesce(s.slots, 0) AS DOUBLE) AS exposure
    FROM item_propensity p LEFT JOIN shown s USING (item_id)
),
-- one row per item and kind, ranked ascending (for Gini) and descending (for the top shares)
ranked AS (
    SELECT kind, value,
           row_number() OVER (PARTITION BY kind ORDER BY value) AS asc_rank,
           row_number() OVER (PARTITION BY kind ORDER BY value DESC) AS desc_rank,
           count(*) OVER (PARTITION BY kind) AS n,
           sum(value) OVER (PARTITION BY kind) AS total
    FROM (UNPIVOT items ON demand, exposure INTO NAME kind VALUE value)
),
measures AS (
    -- Gini = Σ (2i − n − 1)·x_i / (n·Σx) over the values sorted ascending
    SELECT kind, 'gini' AS measure, sum((2 * asc_rank - n - 1) * value) / nullif(any_value(n) * any_value(total), 0) AS v FROM ranked GROUP BY kind
    UNION ALL
    SELECT kind, 'share of top 1% items', sum(value) FILTER (WHERE desc_rank <= greatest(1, round(n * 0.01))) / nullif(any_value(total), 0) FROM ranked GROUP BY kind
    UNION ALL
    SELECT kind, 'share of top 10% items', sum(value) FILTER (WHERE desc_rank <= greatest(1, round(n * 0.10))) / nullif(any_value(total), 0) FROM ranked GROUP BY kind
)
SELECT measure,
       round(max(v) FILTER (WHERE kind = 'demand'), 3) AS demand,
       round(max(v) FILTER (WHERE kind = 'exposure'), 3) AS exposure
FROM measures
GROUP BY measure
ORDER BY measure;
