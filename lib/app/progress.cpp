#include "app/progress.hpp"

#include <cinttypes>
#include <cstdio>

namespace foodpipe::app {

ProgressLine::ProgressLine(bool terminal, bool quiet, std::string component)
    : m_terminal(terminal), m_quiet(quiet), m_component(std::move(component)) {}

void ProgressLine::update(std::chrono::steady_clock::duration elapsed, const std::string& line,
                          std::string_view message, const log::Fields& fields) {
  if (m_quiet) {
    return;
  }
  if (m_terminal) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    m_dirty = true;
  } else if (elapsed >= m_next_log) {
    log::info(m_component, message, fields);
    m_next_log = elapsed + std::chrono::seconds(5);
  }
}

void ProgressLine::finish() {
  if (m_dirty) {
    std::fputs("\n", stderr);
    m_dirty = false;
  }
}

double seconds_of(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

std::string clock_text(std::chrono::steady_clock::duration duration) {
  const auto total = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%" PRId64 ":%02" PRId64 ":%02" PRId64, static_cast<std::int64_t>(total / 3600),
                static_cast<std::int64_t>((total / 60) % 60), static_cast<std::int64_t>(total % 60));
  return buffer;
}

std::optional<std::string> eta_text(std::uint64_t done, std::uint64_t total,
                                    std::chrono::steady_clock::duration elapsed) {
  const double seconds = seconds_of(elapsed);
  if (done == 0 || seconds <= 0) {
    return std::nullopt;
  }
  const double left = static_cast<double>(total > done ? total - done : 0) * seconds / static_cast<double>(done);
  return clock_text(std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(left)));
}

} // namespace foodpipe::app
