#pragma once

// `foodpipe inspect --watch`: the overview or the group view sampled every
// --interval. On a terminal one screen redrawn in place (q or Ctrl-C quits, p
// pauses the redraw); without one a plain snapshot per sample, or with --json
// one JSON object per line. The inspect command checks the options and hands
// the run over here.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "pipeline/inspect.hpp"

namespace foodpipe::app {

struct WatchRequest {
  pipeline::InspectOptions options; // connect_timeout: --connect-timeout as given
  pipeline::WatchView view = pipeline::WatchView::group;
  std::chrono::milliseconds interval{1000};
  std::optional<std::uint64_t> count; // stop after this many samples; nullopt: until q or a signal
  bool json = false;
  bool terminal = false; // stdout is a terminal: draw the screen (--json never does)
  bool colour = false;
};

// The longest one request of a sample waits: the interval, at least a second
// (a connection needs a few round trips), never more than --connect-timeout.
[[nodiscard]] std::chrono::milliseconds sample_timeout(std::chrono::milliseconds interval,
                                                       std::chrono::milliseconds connect_timeout);

// ExitCode::ok after --count samples, q or Ctrl-C (the key); a service that
// goes away is shown, not an exit. A SIGINT/SIGTERM stops it too (app::run
// then makes the exit status 128 + the signal's number).
[[nodiscard]] ExitCode run_inspect_watch(const WatchRequest& request);

} // namespace foodpipe::app
