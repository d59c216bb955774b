#pragma once

// `foodpipe inspect --verify`: the audit of the group's stored progress
// against the topic. The inspect command parses the options and hands the
// run over here (defined in inspect_verify.cpp).
//
// Options read from vm: "topic", "group", "limit" (how many problems to name),
// "strict", plus ctx.json; returns ExitCode::ok when every offset still in the
// log below the group's stored offsets is accounted for (ranges removed by
// retention before consumption are reported as a warning, and fail only with
// "strict"), ExitCode::failure naming what is not.

#include "app/command.hpp"

namespace foodpipe::app {

[[nodiscard]] ExitCode run_inspect_verify(const Context& ctx, const po::variables_map& vm);

} // namespace foodpipe::app
