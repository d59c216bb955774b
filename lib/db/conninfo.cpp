#include "db/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <pwd.h>
#include <unistd.h>

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

// libpq's own parse, or null with its reason in `reason`.
ConninfoOptionsPtr parse_options(std::string_view conninfo, std::string& reason) {
  const std::string text(conninfo);
  char* raw_error = nullptr;
  ConninfoOptionsPtr options(PQconninfoParse(text.c_str(), &raw_error));
  const PqStringPtr error(raw_error);
  if (!options) {
    reason = error ? error.get() : "out of memory";
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
      reason.pop_back();
    }
  }
  return options;
}

// libpq marks the values it hides in its own displays with dispchar "*".
bool is_secret(const PQconninfoOption& option) {
  const std::string_view keyword = option.keyword;
  return (option.dispchar != nullptr && option.dispchar[0] == '*') || keyword == "password" ||
         keyword == "sslpassword";
}

bool is_bare_word(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_';
  });
}

// libpq's reason for refusing a string may quote any part of it, a password
// included ('invalid percent-encoded token: "s3cr%t"', or the whole URI), and
// a quote inside a secret makes the quoting ambiguous. So the span from the
// first to the last quote is kept only when each quoted fragment is a single
// character or a bare word (the keyword names libpq's messages are about) and
// no text between fragments is a piece of the string; otherwise it is "***".
std::string mask_quoted_fragments(const std::string& reason, std::string_view conninfo) {
  const auto first = reason.find('"');
  const auto last = reason.rfind('"');
  if (first == std::string::npos) {
    return reason;
  }
  bool keep = last != first;
  const auto inside = std::string_view(reason).substr(first + 1, last > first ? last - first - 1 : 0);
  std::size_t piece_start = 0;
  for (std::size_t index = 0; keep && piece_start <= inside.size(); ++index) {
    const auto quote = std::min(inside.find('"', piece_start), inside.size());
    const auto piece = inside.substr(piece_start, quote - piece_start);
    const bool quoted = index % 2 == 0;
    keep = quoted ? piece.size() == 1 || is_bare_word(piece) : conninfo.find(piece) == std::string_view::npos;
    piece_start = quote + 1;
  }
  if (keep) {
    return reason;
  }
  return reason.substr(0, first) + "\"***\"" + (last > first ? reason.substr(last + 1) : std::string());
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
  std::string reason;
  const ConninfoOptionsPtr options = parse_options(conninfo, reason);
  if (!options) {
    // The string itself is not shown: libpq could not say where its secrets are.
    throw DbError("invalid PostgreSQL connection string (" + mask_quoted_fragments(reason, conninfo) +
                      "); pass a conninfo like 'host=localhost dbname=food_orders' "
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

std::string redact_conninfo(std::string_view conninfo) {
  try {
    std::string reason;
    const ConninfoOptionsPtr options = parse_options(conninfo, reason);
    if (!options) {
      return "(a connection string libpq cannot parse)";
    }
    ConninfoKeywords shown;
    for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
      if (option->val != nullptr) {
        shown.emplace_back(option->keyword, is_secret(*option) ? std::string("***") : std::string(option->val));
      }
    }
    return format_conninfo(shown);
  } catch (const std::exception&) {
    return "(a connection string)"; // out of memory: show nothing rather than fail a message
  }
}

std::vector<std::string> conninfo_secrets(std::string_view conninfo) {
  std::string reason;
  const ConninfoOptionsPtr options = parse_options(conninfo, reason);
  std::vector<std::string> secrets;
  for (const PQconninfoOption* option = options.get(); option != nullptr && option->keyword != nullptr; ++option) {
    if (option->val != nullptr && *option->val != '\0' && is_secret(*option)) {
      secrets.emplace_back(option->val);
    }
  }
  return secrets;
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
