-- Drop the GIN index on orders.items that 002 created.
--
-- Measured on 1,000,000 orders (docs/performance-history.md, "The GIN index on
-- orders.items"): it cost a quarter to a third of consume's ingest rate (8 to 10 µs
-- of server CPU per row) and 40 MiB per million orders, and bought little. With 20
-- menu items and 1 to 5 items per order, about 15% of all orders hold any one item,
-- so "which orders hold ITEM-003" touches most pages of the table either way, and a
-- parallel sequential scan answered it 1.7 to 2.3 times faster than the index; the
-- planner still picked the index in two runs of three. It only won for rare
-- combinations of several items (3 items: 78 to 132 ms against 522 to 920 ms).
--
-- A workload that does need selective containment searches on items can add it
-- back without blocking the consumer (outside a transaction; jsonb_path_ops is
-- smaller than the default operator class and serves @> alone):
--
--   CREATE INDEX CONCURRENTLY orders_items_gin_idx ON orders USING gin (items jsonb_path_ops);
--
-- foodpipe neither needs nor assumes it: no query of foodpipe's uses it.

DROP INDEX IF EXISTS orders_items_gin_idx;
