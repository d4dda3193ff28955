#pragma once
// What every app's command line shares: --config files read before the flags (so flags win)
// and --device resolved against the machine.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace CLI {
class App;
}

namespace cg::apps {

struct ConfigFile {
  std::string source;  // "--config FILE", for messages
  std::string folder;  // the file's folder: relative paths inside it are relative to it
  nlohmann::json settings;
};
// Every `--config FILE` / `--config=FILE` in argv, in order. A file that cannot be opened or is
// not valid JSON is an error naming it.
std::vector<ConfigFile> read_config_files(int argc, char** argv);

// Adds --version, reads the --config files (load_config_files, before the flags so that flags
// win) and parses argv. Returns the exit code when the process should end here (--help,
// --version, a malformed flag; CLI11 has printed what to print), nothing otherwise.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      const std::function<void()>& load_config_files);

// Called first in every app's main: HDF5 is told not to register its exit-time cleanup. After
// a failed flush on a full disk, HDF5 keeps the file it could not close, and its cleanup at
// exit() then crashed the process (H5F__close_cb <- H5_term_library) after the clear error line
// had been printed. Every handle we open is closed by RAII; the operating system closes the rest.
void prepare_app_process();

// --resume OUT continues with the interrupted run's own settings: any option given on `commands`
// other than --resume and --device is an error naming it.
void refuse_flags_besides_resume(const std::vector<const CLI::App*>& commands);

// The --deterministic flag's help, the same in every app.
inline constexpr const char* kDeterministicHelp =
    "reproducible GPU runs: ops that would accumulate with atomics (gather_rows' backward) sum in the "
    "CPU's fixed order instead, slower; reductions and cuBLAS are deterministic anyway, and so is the CPU";

// "cpu", "cuda" (an error when no CUDA device is available) or "auto".
Device resolve_device(const std::string& device);

}  // namespace cg::apps
