#pragma once

// How long-running commands show progress: one line rewritten in place on a
// terminal (stderr), a log record every few seconds otherwise, nothing with
// --quiet. Records and reports stay on stdout, untouched.

#include <chrono>
#include <cstdint>
#include <optional>
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

// The time left, as clock_text, at the average rate so far: `done` of `total`
// after `elapsed`. nullopt while nothing is done yet (no rate to go by).
[[nodiscard]] std::optional<std::string> eta_text(std::uint64_t done, std::uint64_t total,
                                                  std::chrono::steady_clock::duration elapsed);

} // namespace foodpipe::app
