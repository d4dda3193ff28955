#include "apps/common/process_role.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "autograd/process_group.h"
#include "base/error.h"

namespace cg::apps {
namespace {

std::vector<std::string>& scratch_folders() {
  static auto* folders = new std::vector<std::string>();  // read by the atexit handler
  return *folders;
}

void remove_scratch_folders() {
  for (const std::string& f : scratch_folders()) {
    std::error_code ec;
    std::filesystem::remove_all(f, ec);
  }
}

}  // namespace

void join_process_group(const char* app, bool supported) {
  if (!started_by_mpirun()) return;
  ProcessGroup* group = launched_process_group();
  if (!group || group->size() < 2) return;
  if (!supported)
    throw Error(std::string(app) + " does not train across processes yet; run it without mpirun (train_multitask does)");
  if (group->rank() == 0) return;
  // Silence: rank 0 says everything once (mpirun reports a process that fails alone).
  if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr))
    throw Error("cannot silence the output of process " + std::to_string(group->rank()));
  std::atexit(remove_scratch_folders);
}

bool writes_outputs() {
  const ProcessGroup* g = current_process_group();
  return !g || g->rank() == 0;
}

std::string own_output_folder(const std::string& out) {
  if (writes_outputs()) return out;
  std::error_code ec;
  const std::filesystem::path root = std::filesystem::temp_directory_path(ec);
  const std::filesystem::path scratch =
      (ec ? std::filesystem::path("/tmp") : root) /
      ("cellgrad-rank" + std::to_string(current_process_group()->rank()) + "-" + std::to_string(::getpid()) + "-" +
       std::to_string(scratch_folders().size()));
  scratch_folders().push_back(scratch.string());
  std::filesystem::create_directories(scratch);
  return (scratch / "run").string();
}

}  // namespace cg::apps
