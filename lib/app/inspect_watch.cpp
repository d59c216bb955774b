#include "app/inspect_watch.hpp"

#include <algorithm>
#include <iostream>
#include <memory>
#include <thread>

#include "app/report_json.hpp"
#include "app/terminal.hpp"
#include "app/watch_screen.hpp"
#include "core/signals.hpp"
#include "pipeline/watch.hpp"

namespace foodpipe::app {
namespace {

using Clock = std::chrono::steady_clock;

// What the keys typed asked for.
struct Keys {
  bool quit = false;
  bool toggle_pause = false;
};

Keys read_keys(const std::string& typed) {
  Keys keys;
  for (const char key : typed) {
    if (key == 'q' || key == 'Q' || key == '\003') { // \003: Ctrl-C, a key in raw mode
      keys.quit = true;
    } else if (key == 'p' || key == 'P' || key == ' ') {
      keys.toggle_pause = !keys.toggle_pause;
    }
  }
  return keys;
}

// Sleeps until `deadline`, in slices, so that a signal is noticed quickly.
void sleep_until(Clock::time_point deadline) {
  while (!stop_requested() && Clock::now() < deadline) {
    std::this_thread::sleep_for(
        std::min<Clock::duration>(deadline - Clock::now(), std::chrono::milliseconds(100)));
  }
}

// Samples, computes and hands each frame to `show`, then `wait`s for the next
// interval; `wait` returns false to stop.
template <typename Show, typename Wait>
void watch_loop(const WatchRequest& request, Show show, Wait wait) {
  auto options = request.options;
  options.connect_timeout = sample_timeout(request.interval, request.options.connect_timeout);
  pipeline::InspectSession session(options, request.view);
  pipeline::LagHistory history;
  std::optional<pipeline::WatchSample> last;
  pipeline::WatchRates rates;
  WatchFrame frame;
  frame.view = request.view;
  frame.bootstrap_servers = request.options.kafka.bootstrap_servers;
  frame.interval_s = static_cast<double>(request.interval.count()) / 1000.0;
  auto next = Clock::now();
  for (std::uint64_t number = 1; !stop_requested(); ++number) {
    auto sample = session.sample();
    rates = pipeline::compute_rates(last ? &*last : nullptr, sample);
    last = std::move(sample);
    history.add(*last);
    frame.sample = &*last;
    frame.rates = &rates;
    frame.history = &history;
    frame.number = number;
    show(frame);
    if ((request.count && number >= *request.count) || stop_requested()) {
      return;
    }
    // The next sample one interval after this one started; a slow sample
    // (a service that did not answer) delays it instead of bunching them up.
    next = std::max(next + request.interval, Clock::now());
    if (!wait(frame, next)) {
      return;
    }
  }
}

// What the screen showed when `p` paused it, kept so that a resized window
// redraws the same numbers rather than newer ones.
struct Frozen {
  pipeline::WatchSample sample;
  pipeline::WatchRates rates;
  pipeline::LagHistory history;
  WatchFrame frame;

  explicit Frozen(const WatchFrame& shown)
      : sample(*shown.sample), rates(*shown.rates), history(*shown.history), frame(shown) {
    frame.sample = &sample;
    frame.rates = &rates;
    frame.history = &history;
    frame.paused = true;
  }
};

void watch_on_terminal(const WatchRequest& request) {
  Terminal terminal;
  std::unique_ptr<Frozen> frozen; // set while paused
  const auto draw = [&](const WatchFrame& frame) {
    terminal.draw(render_watch_screen(frame, terminal.size(), request.colour));
  };
  const auto show = [&](WatchFrame& frame) {
    if (!frozen) {
      draw(frame);
    }
  };
  const auto wait = [&](WatchFrame& frame, Clock::time_point next) {
    // Keys are read at least once per sample, however late the sample was.
    for (bool first = true; !stop_requested() && (first || Clock::now() < next); first = false) {
      const auto keys = read_keys(terminal.wait_for_keys(next));
      if (keys.quit) {
        return false;
      }
      if (keys.toggle_pause) {
        // Paused: the screen says so, once, and stays; resumed: the newest sample at once.
        frozen = frozen ? nullptr : std::make_unique<Frozen>(frame);
        draw(frozen ? frozen->frame : frame);
      } else if (terminal.resized()) {
        draw(frozen ? frozen->frame : frame);
      }
    }
    return true;
  };
  watch_loop(request, show, wait);
  terminal.restore();
}

} // namespace

std::chrono::milliseconds sample_timeout(std::chrono::milliseconds interval,
                                         std::chrono::milliseconds connect_timeout) {
  return std::min(connect_timeout, std::max(interval, std::chrono::milliseconds(1000)));
}

ExitCode run_inspect_watch(const WatchRequest& request) {
  if (request.terminal && !request.json) {
    watch_on_terminal(request);
    return ExitCode::ok;
  }
  auto& out = std::cout;
  const auto show = [&](const WatchFrame& frame) {
    if (request.json) {
      print_json(out, frame);
    } else {
      out << render_watch_snapshot(frame);
    }
    out.flush(); // a script follows it line by line
  };
  const auto wait = [](const WatchFrame& /*frame*/, Clock::time_point next) {
    sleep_until(next);
    return true;
  };
  watch_loop(request, show, wait);
  return ExitCode::ok;
}

} // namespace foodpipe::app
