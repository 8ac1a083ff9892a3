-- question: Which items does the model think are alike? The k nearest items to one item by the cosine of their
--           factor vectors in the newest model (1 = same direction in taste space). Items that users who like one also
--           like end up close; a neighbour list full of unrelated best sellers hints at under-regularized factors.
-- inputs:   table item_factors (the newest run only), recommendations (for the default item)
-- params:   item_id ID (default: the item the newest lists recommend most), k BIGINT (default: 10)
-- returns:  item_id ID, similar_item_id ID, rank BIGINT, cosine DOUBLE

SET VARIABLE resolved_item_id = coalesce(CAST(getvariable('item_id') AS VARCHAR), (
    SELECT CAST(item_id AS VARCHAR) FROM recommendations
    WHERE run_date = (SELECT max(run_date) FROM recommendations)
    GROUP BY item_id ORDER BY count(*) DESC, CAST(item_id AS VARCHAR) LIMIT 1));
SET VARIABLE resolved_k = coalesce(CAST(getvariable('k') AS BIGINT), 10);

WITH target AS (
    SELECT item_id, factors FROM item_factors WHERE CAST(item_id AS VARCHAR) = getvariable('resolved_item_id')
),
scored AS (
    SELECT t.item_id, f.item_id AS similar_item_id,
           CAST(list_cosine_similarity(t.factors, f.factors) AS DOUBLE) AS cosine
    FROM target t JOIN item_factors f ON f.item_id <> t.item_id
)
SELECT item_id, similar_item_id,
       row_number() OVER (ORDER BY cosine DESC, CAST(similar_item_id AS VARCHAR)) AS rank,
       round(cosine, 4) AS cosine
FROM scored
ORDER BY rank
LIMIT getvariable('resolved_k');
