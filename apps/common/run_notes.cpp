#include "apps/common/run_notes.h"

#include <cstdio>
#include <mutex>

#include "apps/common/run_folder.h"
#include "nn/progress.h"

namespace cg::apps {
namespace {

std::mutex notes_mutex;
std::vector<std::string>& notes() {
  static std::vector<std::string> kept;
  return kept;
}

void keep(const std::string& line, bool print) {
  std::lock_guard<std::mutex> lock(notes_mutex);
  for (const auto& kept : notes())
    if (kept == line) return;
  if (print) std::fprintf(stderr, "%s\n", line.c_str());
  notes().push_back(line);
}

}  // namespace

void warn(const std::string& text) { keep("warning: " + text, true); }
// --quiet silences notes on the terminal; they are still kept for warnings.txt.
void note(const std::string& text) { keep("note: " + text, nn::verbosity() != nn::Verbosity::Quiet); }
const std::vector<std::string>& run_notes() { return notes(); }
void clear_run_notes() {
  std::lock_guard<std::mutex> lock(notes_mutex);
  notes().clear();
}

void write_run_notes(const RunFolder& run) {
  if (run_notes().empty()) return;
  std::string text;
  for (const auto& line : run_notes()) text += line + "\n";
  write_text_file(run.path("warnings.txt"), text);
}

}  // namespace cg::apps
