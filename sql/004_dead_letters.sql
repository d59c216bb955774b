-- Messages the consumer could not apply, kept verbatim with the reason, so
-- nothing is skipped silently. Written in the same transaction as the batch
-- and its offsets. A message has at most one row (the UNIQUE key is its Kafka
-- coordinates), so re-consuming after a crash or a replay adds no duplicates.

CREATE TABLE dead_letters (
    id               bigserial   PRIMARY KEY,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    -- Raw bytes: the message may not be valid UTF-8, or JSON at all.
    message_key      bytea,
    payload          bytea,
    -- The validation reason code (unparseable, schema, ..., conflicting duplicate).
    reason_code      text        NOT NULL,
    reason_detail    text,
    consumer_group   text,
    failed_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_topic, source_partition, source_offset)
);

-- `foodpipe inspect` counts dead letters by reason.
CREATE INDEX dead_letters_reason_code_idx ON dead_letters (reason_code);
