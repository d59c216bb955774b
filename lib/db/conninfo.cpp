#include "db/conninfo.hpp"

#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

#include "core/redact.hpp"
#include "db/error.hpp"
#include "db/handles.hpp"

namespace foodpipe::db {
namespace {

std::string env_value(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string keyword_value(const ConninfoKeywords& keywords, std::string_view keyword) {
  for (const auto& [key, value] : keywords) {
    if (key == keyword) {
      return value;
    }
  }
  return {};
}

std::string os_user_name() {
  // getpwuid_r: this may run on any thread.
  passwd entry{};
  passwd* found = nullptr;
  std::string buffer(4096, '\0');
  if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr) {
    return found->pw_name;
  }
  return {};
}

} // namespace

ConninfoKeywords parse_conninfo(std::string_view conninfo) {
  const std::string text(conninfo);
  char* raw_error = nullptr;
  ConninfoOptionsPtr options(PQconninfoParse(text.c_str(), &raw_error));
  const PqStringPtr error(raw_error);
  if (!options) {
    std::string reason = error ? error.get() : "out of memory";
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
      reason.pop_back();
    }
    throw DbError("invalid PostgreSQL connection string '" + redact_conninfo(conninfo) + "' (" +
                      reason + "); pass a conninfo like 'host=localhost dbname=food_orders' "
                      "or a URI like postgresql://user@localhost:5432/food_orders to --db",
                  "", false, ExitCode::usage);
  }
  ConninfoKeywords keywords;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr) {
      keywords.emplace_back(option->keyword, option->val);
    }
  }
  return keywords;
}

std::string quote_conninfo_value(std::string_view value) {
  const bool needs_quotes =
      value.empty() || value.find_first_of(" \t\n\r\f\v'\\") != std::string_view::npos;
  if (!needs_quotes) {
    return std::string(value);
  }
  std::string quoted = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') {
      quoted.push_back('\\');
    }
    quoted.push_back(c);
  }
  quoted.push_back('\'');
  return quoted;
}

std::string format_conninfo(const ConninfoKeywords& keywords) {
  std::string text;
  for (const auto& [key, value] : keywords) {
    if (!text.empty()) {
      text.push_back(' ');
    }
    text.append(key).append("=").append(quote_conninfo_value(value));
  }
  return text;
}

std::string with_database(std::string_view conninfo, std::string_view dbname) {
  auto keywords = parse_conninfo(conninfo);
  bool replaced = false;
  for (auto& [key, value] : keywords) {
    if (key == "dbname") {
      value = dbname;
      replaced = true;
    }
  }
  if (!replaced) {
    keywords.emplace_back("dbname", std::string(dbname));
  }
  return format_conninfo(keywords);
}

std::string maintenance_conninfo(std::string_view conninfo, std::string_view maintenance_db) {
  return with_database(conninfo, maintenance_db);
}

std::string target_database_name(std::string_view conninfo) {
  const auto keywords = parse_conninfo(conninfo);
  for (const std::string& candidate :
       {keyword_value(keywords, "dbname"), env_value("PGDATABASE"), keyword_value(keywords, "user"),
        env_value("PGUSER")}) {
    if (!candidate.empty()) {
      return candidate;
    }
  }
  return os_user_name();
}

std::string describe_target(std::string_view conninfo) {
  const auto keywords = parse_conninfo(conninfo);
  std::string host = keyword_value(keywords, "host");
  if (host.empty()) {
    host = keyword_value(keywords, "hostaddr");
  }
  if (host.empty()) {
    host = env_value("PGHOST");
  }
  if (host.empty()) {
    host = "local socket";
  }
  std::string port = keyword_value(keywords, "port");
  if (port.empty()) {
    port = env_value("PGPORT");
  }
  if (port.empty()) {
    port = "5432";
  }
  return host + ":" + port + "/" + target_database_name(conninfo);
}

} // namespace foodpipe::db
