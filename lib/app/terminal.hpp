#pragma once

// The terminal `foodpipe inspect --watch` draws on: keys read one at a time
// without echo (raw mode, so Ctrl-C is a key, not a signal), the alternate
// screen with the cursor hidden, its size, and redrawing in place. Everything
// it changes is put back by restore(), which the destructor calls: on `q`,
// on Ctrl-C, on SIGINT/SIGTERM (their handler only sets the stop flag, and the
// loop then returns through here) and on an exception. Log records (a
// librdkafka connection refused every second while the broker is away) would
// be written over the screen when stderr is the same terminal: they go to
// /dev/null while the screen is shown (the screen says what is away), and
// stderr is back before the command prints its last words.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "app/watch_screen.hpp"

namespace foodpipe::app {

// What the screen sends to leave: the cursor shown again, then the normal
// screen back, in that order (the last bytes a watch writes).
inline constexpr std::string_view k_leave_screen = "\033[?25h\033[?1049l";

class Terminal {
public:
  // Takes stdout (a terminal) to the alternate screen and, when stdin is a
  // terminal too, stdin to raw mode. Throws foodpipe::Error when the mode
  // cannot be set.
  Terminal();
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // The terminal as it was; safe to call twice.
  void restore() noexcept;

  // Replaces what the screen shows: from the top left, each line cleared to
  // its end, then the rest of the screen cleared.
  void draw(const std::string& screen) const;

  // Columns and rows (TIOCGWINSZ); 80x24 when the terminal does not say.
  [[nodiscard]] ScreenSize size() const;

  // The keys typed before `deadline` (empty when none). Returns early, with
  // what it has, as soon as a key arrives, the window is resized or a signal
  // asks to stop.
  [[nodiscard]] std::string wait_for_keys(std::chrono::steady_clock::time_point deadline);

  // True once after each SIGWINCH.
  [[nodiscard]] bool resized() noexcept;

private:
  bool m_raw = false;    // stdin's settings were changed (and saved)
  bool m_active = false; // the alternate screen is shown
  bool m_keys = false;   // stdin can still be read
  int m_stderr = -1;     // the terminal's stderr, while fd 2 is /dev/null
  struct Saved;          // termios and the SIGWINCH action before us
  std::unique_ptr<Saved> m_saved;
};

} // namespace foodpipe::app
