#include "app/terminal.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/signals.hpp"

namespace foodpipe::app {
namespace {

volatile std::sig_atomic_t g_resized = 0;

extern "C" void on_window_change(int /*signal_number*/) {
  g_resized = 1;
}

// All of `bytes`, through partial writes and signals; a terminal that went
// away is not worth an exception on the way out.
void write_all(std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const auto written = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

} // namespace

struct Terminal::Saved {
  termios mode{};
  struct sigaction window_change{};
};

Terminal::Terminal() : m_saved(std::make_unique<Saved>()) {
  if (isatty(STDIN_FILENO) != 0) {
    if (tcgetattr(STDIN_FILENO, &m_saved->mode) != 0) {
      throw Error(std::string("cannot read the terminal's settings: ") + std::strerror(errno));
    }
    termios raw = m_saved->mode;
    // Keys one at a time, not echoed; Ctrl-C and Ctrl-Z arrive as keys. Output
    // processing stays on, so '\n' still returns the carriage.
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG | IEXTEN);
    raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) != 0) {
      throw Error(std::string("cannot put the terminal in raw mode: ") + std::strerror(errno));
    }
    m_raw = true;
    m_keys = true;
  }
  struct sigaction action{};
  action.sa_handler = &on_window_change;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0; // poll() returns at once to redraw
  sigaction(SIGWINCH, &action, &m_saved->window_change);
  if (isatty(STDERR_FILENO) != 0) {
    const int quiet = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    m_stderr = quiet < 0 ? -1 : ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (m_stderr >= 0) {
      ::dup2(quiet, STDERR_FILENO);
    }
    if (quiet >= 0) {
      ::close(quiet);
    }
  }
  m_active = true;
  // The alternate screen keeps the user's scrollback as it was; the cursor is hidden while drawing.
  write_all("\033[?1049h\033[?25l\033[H\033[2J");
}

Terminal::~Terminal() {
  restore();
}

void Terminal::restore() noexcept {
  if (m_active) {
    write_all(k_leave_screen);
    sigaction(SIGWINCH, &m_saved->window_change, nullptr);
    m_active = false;
  }
  if (m_raw) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &m_saved->mode);
    m_raw = false;
  }
  if (m_stderr >= 0) {
    ::dup2(m_stderr, STDERR_FILENO);
    ::close(m_stderr);
    m_stderr = -1;
  }
}

void Terminal::draw(const std::string& screen) const {
  std::string bytes = "\033[H";
  std::size_t start = 0;
  while (start <= screen.size()) {
    const auto end = std::min(screen.find('\n', start), screen.size());
    bytes.append(screen, start, end - start);
    bytes += "\033[K";
    if (end == screen.size()) {
      break;
    }
    bytes += '\n';
    start = end + 1;
  }
  bytes += "\033[J";
  write_all(bytes);
}

ScreenSize Terminal::size() const {
  winsize window{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &window) != 0 || window.ws_col == 0 || window.ws_row == 0) {
    return {80, 24};
  }
  return {window.ws_col, window.ws_row};
}

std::string Terminal::wait_for_keys(std::chrono::steady_clock::time_point deadline) {
  std::string keys;
  // At least one look, even past the deadline: a sample slower than the
  // interval (a service that does not answer) must not make q unreadable.
  bool first = true;
  while (keys.empty() && !stop_requested() && g_resized == 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !first) {
      break;
    }
    first = false;
    pollfd input{m_keys ? STDIN_FILENO : -1, POLLIN, 0};
    const auto ready = ::poll(&input, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready <= 0) {
      continue; // a timeout ends the loop above; EINTR rechecks the flags
    }
    char buffer[64];
    const auto got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got > 0) {
      keys.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      m_keys = false; // stdin closed: no more keys, the watch goes on until a signal or --count
    }
  }
  return keys;
}

bool Terminal::resized() noexcept {
  const bool changed = g_resized != 0;
  g_resized = 0;
  return changed;
}

} // namespace foodpipe::app
