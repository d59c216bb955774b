#pragma once

// SIGINT/SIGTERM handling: the handler only sets an atomic flag; long-running
// loops poll stop_requested() with short timeouts and wind down on their own.

namespace foodpipe {

// Installs the handlers (idempotent). A second signal while stopping restores
// the default action, so a third Ctrl-C kills a stuck process the usual way.
void install_signal_handlers();

[[nodiscard]] bool stop_requested() noexcept;

// The first signal that asked us to stop (SIGINT, SIGTERM), 0 if none.
[[nodiscard]] int stop_signal() noexcept;

// For tests and for jobs that want to stop themselves.
void request_stop(int signal_number = 0) noexcept;
void reset_stop_request() noexcept;

} // namespace foodpipe
