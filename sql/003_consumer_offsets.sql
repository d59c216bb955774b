-- Where each consumer group is in each partition, stored next to the data it
-- describes: the consumer updates a partition's next_offset in the same
-- transaction that writes the batch, so the database never holds a row without
-- its offset or an offset without its rows (exactly-once effect). On partition
-- assignment the consumer starts from here, not from Kafka's committed offset.

CREATE TABLE consumer_offsets (
    group_id    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    -- The offset of the next message to read (Kafka's convention), not the last one read.
    next_offset bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
