#pragma once

// Small text helpers of the command line.

#include <cstddef>
#include <string_view>

namespace foodpipe::app {

// Levenshtein distance (insertions, deletions, substitutions).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

} // namespace foodpipe::app
