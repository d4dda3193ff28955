#pragma once
// Warnings and notes a run gives its user. They go to stderr as they happen and are kept, so
// the app writes them into the run folder too (warnings.txt, and metrics.json where it has
// one): a warning that only scrolled past on a terminal is lost to whoever reads the results.
#include <string>
#include <vector>

namespace cg::apps {

class RunFolder;

// Prints "warning: <text>" to stderr and keeps it. A line already given is not repeated (a
// sweep meets the same small group once per held-out type and seed).
void warn(const std::string& text);
// Prints "note: <text>" to stderr (not under --quiet) and keeps it.
void note(const std::string& text);
// Everything kept since the start (or the last clear), as printed.
const std::vector<std::string>& run_notes();
void clear_run_notes();
// Writes the kept lines to warnings.txt in the run folder (nothing when there are none).
void write_run_notes(const RunFolder& run);

}  // namespace cg::apps
