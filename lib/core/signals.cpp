#include "core/signals.hpp"

#include <atomic>
#include <csignal>

namespace foodpipe {
namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "signal handler needs lock-free atomics");

extern "C" void on_signal(int signal_number) {
  // The first signal is the one that stopped us (and names the exit status);
  // it is recorded before the flag, so whoever sees the flag sees it.
  int none = 0;
  g_signal.compare_exchange_strong(none, signal_number);
  if (g_stop.exchange(true)) {
    // Asked twice: the next one gets the default action.
    std::signal(signal_number, SIG_DFL);
  }
}

} // namespace

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR and loops notice
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }

int stop_signal() noexcept { return g_signal.load(); }

void request_stop(int signal_number) noexcept {
  g_signal.store(signal_number);
  g_stop.store(true);
}

void reset_stop_request() noexcept {
  g_signal.store(0);
  g_stop.store(false);
}

} // namespace foodpipe
