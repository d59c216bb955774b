#pragma once

// PostgreSQL array literals, for a whole batch bound as one text parameter and
// cast on the server ($1::text[], $2::bigint[]), then unnest()ed or matched
// with = ANY: one round trip instead of one per row.

#include <concepts>
#include <string>
#include <vector>

namespace foodpipe::db {

// {"a","b"}: every element double-quoted, '"' and '\' escaped.
[[nodiscard]] std::string text_array(const std::vector<std::string>& values);

// {1,2,3}
template <std::integral Integer>
[[nodiscard]] std::string integer_array(const std::vector<Integer>& values) {
  std::string text = "{";
  for (const Integer value : values) {
    if (text.size() > 1) {
      text.push_back(',');
    }
    text += std::to_string(value);
  }
  text.push_back('}');
  return text;
}

} // namespace foodpipe::db
