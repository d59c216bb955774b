#pragma once

// The names of the lower layers that are part of what pipeline offers lib/app.
// lib/app includes pipeline and core headers only (test/layering/check); the
// few kafka, db and domain names it needs to fill options and print reports
// are taken into this namespace here, so the boundary between the commands and
// everything below them is this one list, not scattered includes.

#include "db/inspect_queries.hpp"
#include "db/order_batch.hpp"
#include "db/reference_data_loader.hpp"
#include "domain/generator.hpp"
#include "domain/lifecycle.hpp"
#include "domain/order_json.hpp"
#include "domain/rate_schedule.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"
#include "kafka/admin.hpp"
#include "kafka/config.hpp"
#include "kafka/group_admin.hpp"
#include "kafka/replication.hpp"

namespace foodpipe::pipeline {

// Client settings: --bootstrap-servers, -X and --config properties, the replication of new topics.
using kafka::ClientSettings;
using kafka::is_property;
using kafka::librdkafka_version;
using kafka::Properties;
using kafka::validate_properties;
using kafka::choose_replication;
using kafka::k_max_replicas;
using kafka::Replication;
using kafka::ReplicationRequest;
using kafka::RequestedCount;

// What reports hold and how their values are written.
using db::DeadLetterRow;
using db::OrderRow;
using db::describe_position;
using db::UpsertCounts;
using domain::format_timestamp;
using domain::replace_invalid_utf8;
using domain::Timestamp;
using kafka::BrokerInfo;
using kafka::GroupMember;

// Flag values checked where they are read.
using domain::is_valid_run_id;
using domain::parse_reason_code;
using domain::parse_time_scale;
using domain::RateSchedule;

} // namespace foodpipe::pipeline
