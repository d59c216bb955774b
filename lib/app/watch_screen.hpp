#pragma once

// What `foodpipe inspect --watch` shows of one sample: the screen redrawn on a
// terminal (a full layout, and a narrow one under k_narrow_columns), the plain
// snapshot printed per interval without a terminal, and the JSON line of
// --json (report_json.cpp). Pure: a frame in, text out, for any width, with or
// without colour, so unit tests see exactly what a terminal would.

#include <cstddef>
#include <cstdint>
#include <string>

#include "pipeline/inspect.hpp"
#include "pipeline/watch.hpp"

namespace foodpipe::app {

// Under this many columns the screen drops columns and folds lines rather
// than letting the terminal wrap them.
inline constexpr std::size_t k_narrow_columns = 80;

// One sample with what was computed from it, as the screen and the JSON line show it.
struct WatchFrame {
  const pipeline::WatchSample* sample = nullptr;
  const pipeline::WatchRates* rates = nullptr;
  const pipeline::LagHistory* history = nullptr;
  pipeline::WatchView view = pipeline::WatchView::group;
  std::string bootstrap_servers;
  double interval_s = 1;
  std::uint64_t number = 1; // 1 for the first sample
  bool paused = false;
};

struct ScreenSize {
  std::size_t columns = 0; // 0: no limit (a plain snapshot)
  std::size_t rows = 0;    // 0: no limit
};

// The screen's lines joined by '\n' (no newline after the last): never a line
// wider than size.columns, never more than size.rows - 1 lines (the last row
// stays free so that nothing scrolls); the partitions that do not fit are
// counted in a line of their own. Colour escapes only with `colour`.
[[nodiscard]] std::string render_watch_screen(const WatchFrame& frame, ScreenSize size, bool colour);

// One snapshot for a pipe or a log file: a separator line naming the sample
// and its time, then the full layout without keys, ending in '\n'.
[[nodiscard]] std::string render_watch_snapshot(const WatchFrame& frame);

// `line` cut to `columns` display columns (0: as it is); colour escapes are
// kept and do not count, and a cut line ends with a reset.
[[nodiscard]] std::string fit_to_width(const std::string& line, std::size_t columns);

// "12.3/s" (one decimal under 100, none above), or `gap`'s word: "-" before a
// rate exists, "new" for a partition new since the last sample, "reset" for a
// counter that went backwards.
[[nodiscard]] std::string rate_text(const std::optional<double>& per_s,
                                    pipeline::RateGap gap = pipeline::RateGap::first_sample);

} // namespace foodpipe::app
