-- Every order status event the consumer applied: one row per event_id, written
-- in the same transaction as the orders.status change it caused and the
-- consumer's offsets (see 003), so an event is in this table exactly when its
-- move is in orders. A redelivered or replayed event finds its event_id here
-- and is counted as a duplicate instead of being applied twice. Events that
-- were not applied (illegal move, unknown order) go to dead_letters instead.

CREATE TABLE order_events (
    event_id         text         PRIMARY KEY,
    -- Deleting an order (docs/replay.md repairs by delete + replay) takes its
    -- history with it; the replay then applies the events again.
    order_id         varchar(50)  NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
    -- The status the event moved the order to: the same set as orders.status.
    status           varchar(20)  NOT NULL
        CHECK (status IN ('pending', 'confirmed', 'preparing', 'out_for_delivery',
                          'delivered', 'cancelled')),
    -- The status it moved the order from. The first event's is the status the
    -- order message carried, which a redelivered order message is compared
    -- with (orders.status has moved on since).
    previous_status  varchar(20)  NOT NULL,
    -- When it happened, as the producer says; applied_at is when it was stored.
    occurred_at      timestamptz  NOT NULL,
    -- Why, for a cancellation; NULL otherwise.
    reason           text,
    source_topic     text         NOT NULL,
    source_partition integer      NOT NULL,
    source_offset    bigint       NOT NULL,
    applied_at       timestamptz  NOT NULL DEFAULT now(),
    -- The order in which events were applied (applied_at is the same for a
    -- whole batch): an order's events ascend in it as they were applied.
    applied_seq      bigint       GENERATED ALWAYS AS IDENTITY,
    -- A message is at most one event, as in dead_letters.
    UNIQUE (source_topic, source_partition, source_offset)
);

-- One order's timeline (`foodpipe inspect order ID`), oldest first.
CREATE INDEX order_events_order_id_occurred_at_idx ON order_events (order_id, occurred_at);
