-- Offsets a consumer group never read because they were gone from the log when
-- it got there: retention (or kafka-delete-records) moved the partition's log
-- start past the group's stored next offset. The consumer continues from the
-- log start and records the range here, in the same transaction that moves the
-- offset past it, so the loss is reported (`inspect --verify`, the
-- foodpipe_consumer_skipped_offsets_total metric), never hidden.
--
-- Ordinary gaps are not recorded: transaction markers, aborted transactions and
-- compacted-away keys are offsets without a message to read.

CREATE TABLE skipped_offsets (
    group_id    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    -- [from_offset, to_offset): the first offset not read and the log start it
    -- continued from.
    from_offset bigint      NOT NULL CHECK (from_offset >= 0),
    to_offset   bigint      NOT NULL CHECK (to_offset > from_offset),
    reason      text        NOT NULL CHECK (reason IN ('retention')),
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition, from_offset)
);
