-- Orders as the consumer writes them: one row per order_id, inserted in the
-- same transaction as the consumer's offsets (see 003), so a row exists
-- exactly when its message was consumed. The source_* columns record which
-- Kafka message produced the row, for `foodpipe inspect` to trace it.

CREATE TABLE orders (
    order_id         varchar(50)    PRIMARY KEY,
    customer_id      varchar(50)    NOT NULL,
    customer_name    text,
    customer_email   text,
    -- The line items as they arrived: [{item_id, name, quantity, price, subtotal}].
    items            jsonb          NOT NULL,
    total_amount     numeric(10, 2) NOT NULL CHECK (total_amount > 0),
    status           varchar(20)    NOT NULL
        CHECK (status IN ('pending', 'confirmed', 'preparing', 'out_for_delivery',
                          'delivered', 'cancelled')),
    created_at       timestamptz    NOT NULL,
    processed_at     timestamptz    NOT NULL DEFAULT now(),
    source_topic     text,
    source_partition integer,
    source_offset    bigint
);

-- A customer's history, recent orders, and both at once.
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at);
-- "Which orders contain ITEM-003?": items @> '[{"item_id": "ITEM-003"}]'.
CREATE INDEX orders_items_gin_idx ON orders USING gin (items);
