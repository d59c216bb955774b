#include "db/array_literal.hpp"

namespace foodpipe::db {

std::string text_array(const std::vector<std::string>& values) {
  std::string text = "{";
  for (const std::string& value : values) {
    if (text.size() > 1) {
      text.push_back(',');
    }
    text.push_back('"');
    for (const char c : value) {
      if (c == '"' || c == '\\') {
        text.push_back('\\');
      }
      text.push_back(c);
    }
    text.push_back('"');
  }
  text.push_back('}');
  return text;
}

} // namespace foodpipe::db
