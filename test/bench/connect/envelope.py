#!/usr/bin/env python3
"""Rewrite foodpipe orders into Kafka Connect's JSON schema envelope, for test/bench/run-connect.

Reads `kcat -C -J` lines (one JSON object per message: partition, offset, key, payload) on
stdin and writes, per partition P, a file OUTDIR/pP with one "key<TAB>value" line per message,
value being {"schema": ..., "payload": ...} as JsonConverter with schemas.enable=true reads it:
  items          the order's line items as a JSON string (io.debezium.data.Json -> jsonb)
  total_amount   Connect's Decimal logical type, scale 2: the unscaled value as big-endian
                 two's-complement bytes, base64 (JsonConverter's default decimal.format)
  created_at     the ISO-8601 string as produced (io.debezium.time.ZonedTimestamp -> timestamptz)
  source_*       the original message's topic, partition and offset, the values foodpipe stores
Prints the number of messages written on stdout.

usage: envelope.py SOURCE_TOPIC OUTDIR < kcat-json-lines
"""

import base64
import decimal
import json
import sys

SCHEMA = {
    "type": "struct",
    "name": "foodpipe.Order",
    "optional": False,
    "fields": [
        {"field": "order_id", "type": "string", "optional": False},
        {"field": "customer_id", "type": "string", "optional": False},
        {"field": "customer_name", "type": "string", "optional": True},
        {"field": "customer_email", "type": "string", "optional": True},
        {"field": "items", "type": "string", "optional": False, "name": "io.debezium.data.Json", "version": 1},
        {
            "field": "total_amount",
            "type": "bytes",
            "optional": False,
            "name": "org.apache.kafka.connect.data.Decimal",
            "version": 1,
            "parameters": {"scale": "2", "connect.decimal.precision": "10"},
        },
        {"field": "status", "type": "string", "optional": False},
        {
            "field": "created_at",
            "type": "string",
            "optional": False,
            "name": "io.debezium.time.ZonedTimestamp",
            "version": 1,
        },
        {"field": "source_topic", "type": "string", "optional": True},
        {"field": "source_partition", "type": "int32", "optional": True},
        {"field": "source_offset", "type": "int64", "optional": True},
    ],
}
CENT = decimal.Decimal("0.01")


def decimal_bytes(amount):
    """Connect's Decimal: the unscaled integer, big-endian two's complement, base64."""
    unscaled = int(decimal.Decimal(amount).quantize(CENT) * 100)
    length = unscaled.bit_length() // 8 + 1
    return base64.b64encode(unscaled.to_bytes(length, "big", signed=True)).decode("ascii")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: envelope.py SOURCE_TOPIC OUTDIR < kcat-json-lines")
    source_topic, outdir = sys.argv[1], sys.argv[2]
    schema_json = json.dumps(SCHEMA, separators=(",", ":"))
    files = {}
    written = 0
    for line in sys.stdin:
        message = json.loads(line)
        # parse_float=str keeps the amount's digits exactly as produced.
        order = json.loads(message["payload"], parse_float=str)
        items = json.loads(message["payload"])["items"]
        payload = {
            "order_id": order["order_id"],
            "customer_id": order["customer_id"],
            "customer_name": order.get("customer_name"),
            "customer_email": order.get("customer_email"),
            "items": json.dumps(items, separators=(",", ":")),
            "total_amount": decimal_bytes(order["total_amount"]),
            "status": order["status"],
            "created_at": order["created_at"],
            "source_topic": source_topic,
            "source_partition": message["partition"],
            "source_offset": message["offset"],
        }
        partition = message["partition"]
        if partition not in files:
            files[partition] = open(f"{outdir}/p{partition}", "w", encoding="utf-8")
        value = '{"schema":' + schema_json + ',"payload":' + json.dumps(payload, separators=(",", ":")) + "}"
        files[partition].write((message.get("key") or "") + "\t" + value + "\n")
        written += 1
    for f in files.values():
        f.close()
    print(written)


if __name__ == "__main__":
    main()
