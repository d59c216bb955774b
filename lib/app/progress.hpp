#pragma once

// How long-running commands show progress: one line rewritten in place on a
// terminal (stderr), a log record every few seconds otherwise, nothing with
// --quiet. Records and reports stay on stdout, untouched.

#include <chrono>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace foodpipe::app {

class ProgressLine {
public:
  ProgressLine(bool terminal, bool quiet, std::string component);

  // `line` for the terminal; `message` and `fields` for the log.
  void update(std::chrono::steady_clock::duration elapsed, const std::string& line, std::string_view message,
              const log::Fields& fields);

  // Ends the terminal line, if one was drawn.
  void finish();

private:
  bool m_terminal;
  bool m_quiet;
  std::string m_component;
  bool m_dirty = false;
  std::chrono::steady_clock::duration m_next_log = std::chrono::seconds(5);
};

[[nodiscard]] double seconds_of(std::chrono::steady_clock::duration duration);

// "h:mm:ss"
[[nodiscard]] std::string clock_text(std::chrono::steady_clock::duration duration);

} // namespace foodpipe::app
