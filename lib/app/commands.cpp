#include "app/commands.hpp"

#include <algorithm>
#include <vector>

#include "app/text.hpp"

namespace foodpipe::app {

std::span<const Command> commands() {
  static const std::vector<Command> k_commands = {
      make_seed_db_command(),
      make_produce_command(),
      make_consume_command(),
      make_inspect_command(),
      make_replay_command(),
      make_offsets_command(),
      make_doctor_command(),
  };
  return k_commands;
}

const Command* find_command(std::string_view name) {
  for (const auto& command : commands()) {
    if (command.name == name) {
      return &command;
    }
  }
  return nullptr;
}

std::string_view suggest_command(std::string_view name) {
  std::string_view best;
  std::size_t best_distance = 0;
  for (const auto& command : commands()) {
    const auto distance = edit_distance(name, command.name);
    if (best.empty() || distance < best_distance) {
      best = command.name;
      best_distance = distance;
    }
  }
  // Like ninja: suggest only when the typo is small relative to the word.
  const auto limit = std::max<std::size_t>(2, name.size() / 3);
  if (best_distance > limit && !(name.size() >= 3 && best.substr(0, name.size()) == name)) {
    return {};
  }
  return best;
}

} // namespace foodpipe::app
