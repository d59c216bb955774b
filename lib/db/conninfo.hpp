#pragma once

// Reading and rewriting libpq connection strings (keyword=value lists and
// postgresql:// URIs) without connecting. Parsing is libpq's own
// (PQconninfoParse), so every form libpq accepts is accepted here.
//
// The returned strings may hold a password: pass them to libpq, never to a
// message or log (use redact_conninfo or describe_target for that).
// All functions are thread-safe; those that parse throw DbError (exit code 2,
// SQLSTATE empty) when libpq rejects the string.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foodpipe::db {

using ConninfoKeywords = std::vector<std::pair<std::string, std::string>>;

// The keywords the string sets explicitly, in libpq's keyword order (defaults
// from the environment are not filled in).
[[nodiscard]] ConninfoKeywords parse_conninfo(std::string_view conninfo);

// "keyword=value ..." with values quoted as libpq requires: in single quotes,
// with ' and \ escaped by a backslash, when empty or holding a space, quote or
// backslash.
[[nodiscard]] std::string format_conninfo(const ConninfoKeywords& keywords);
[[nodiscard]] std::string quote_conninfo_value(std::string_view value);

// The same connection with dbname replaced (keyword=value form, even for a URI).
[[nodiscard]] std::string with_database(std::string_view conninfo, std::string_view dbname);

// The same server's maintenance database, where CREATE DATABASE is run.
[[nodiscard]] std::string maintenance_conninfo(std::string_view conninfo,
                                               std::string_view maintenance_db = "postgres");

// The database a connection would open, as libpq picks it: dbname, else
// $PGDATABASE, else the user name (user, else $PGUSER, else the OS user).
[[nodiscard]] std::string target_database_name(std::string_view conninfo);

// The string for messages and logs: libpq's own parse of it, written as
// keyword=value whatever form it came in, with every value libpq marks as
// secret (password, sslpassword) shown as "***". Built from the parsed values,
// so no part of a secret survives however it was quoted or percent-encoded; a
// string libpq cannot parse is not shown at all. Never throws.
[[nodiscard]] std::string redact_conninfo(std::string_view conninfo);

// The secret values the string sets (password, sslpassword), for scrubbing
// texts that might quote them; empty when libpq cannot parse the string.
[[nodiscard]] std::vector<std::string> conninfo_secrets(std::string_view conninfo);

// "host:port/dbname" for messages, without secrets; defaults as libpq applies
// them ($PGHOST or the local socket, $PGPORT or 5432).
[[nodiscard]] std::string describe_target(std::string_view conninfo);

} // namespace foodpipe::db
