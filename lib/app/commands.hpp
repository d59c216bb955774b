#pragma once

// The subcommand table (one entry per working subcommand, in help order).

#include <span>
#include <string_view>

#include "app/command.hpp"

namespace foodpipe::app {

Command make_seed_db_command();
Command make_produce_command();
Command make_consume_command();
Command make_inspect_command();
Command make_replay_command();
Command make_offsets_command();
Command make_doctor_command();

// All subcommands, in the order `foodpipe help` lists them.
[[nodiscard]] std::span<const Command> commands();

// nullptr when no subcommand has this name.
[[nodiscard]] const Command* find_command(std::string_view name);

// The closest subcommand name for "did you mean"; empty when none is close.
[[nodiscard]] std::string_view suggest_command(std::string_view name);

} // namespace foodpipe::app
