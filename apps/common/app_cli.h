#pragma once
// What every app's command line shares: --config files read before the flags (so flags win)
// and --device resolved against the machine.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/tensor.h"

namespace cg::apps {

// Every `--config FILE` / `--config=FILE` in argv, in order, as ("--config FILE", parsed JSON).
// A file that cannot be opened or is not valid JSON is an error naming it.
std::vector<std::pair<std::string, nlohmann::json>> read_config_files(int argc, char** argv);

// "cpu", "cuda" (an error when no CUDA device is available) or "auto".
Device resolve_device(const std::string& device);

}  // namespace cg::apps
