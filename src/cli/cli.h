#pragma once
// The `avtrace` command line: serve | version | bench. Main() parses flags with CLI11 and runs
// one subcommand; it is the only place that turns a bad configuration into exit code 2.
// Exit codes: 0 ok, 1 runtime failure (or bench target missed when asked to enforce), 2 usage
// or configuration error.

namespace avtrace::cli {

int Main(int argc, char** argv);

}  // namespace avtrace::cli
