#include "apps/common/app_cli.h"

#include <hdf5.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "autograd/error.h"
#include "base/version.h"
#include "nn/progress.h"
#include "omics/hdf5_util.h"

namespace cg::apps {

std::vector<ConfigFile> read_config_files(int argc, char** argv) {
  std::vector<ConfigFile> out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::string path;
    if (a == "--config" && i + 1 < argc) path = argv[i + 1];
    else if (a.rfind("--config=", 0) == 0) path = a.substr(9);
    else continue;
    const std::string source = "--config " + path;
    std::ifstream f(path);
    if (!f) throw Error(source + ": cannot open the file");
    nlohmann::json j;
    try {
      f >> j;
    } catch (const nlohmann::json::exception& e) {
      throw Error(source + ": not valid JSON (" + e.what() + ")");
    }
    out.push_back({source, std::filesystem::path(path).parent_path().string(), std::move(j)});
  }
  return out;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      const std::function<void()>& load_config_files) {
  app.set_version_flag("--version", std::string("cellgrad ") + CELLGRAD_VERSION);
  // Verbosity on the app and on every subcommand, so it may come anywhere on the line.
  std::vector<CLI::App*> commands = app.get_subcommands([](CLI::App*) { return true; });
  commands.insert(commands.begin(), &app);
  for (CLI::App* command : commands) {
    command->add_flag_callback(
        "--quiet", [] { nn::set_verbosity(nn::Verbosity::Quiet); },
        "print only warnings and errors (no progress lines or notes; they are still written to warnings.txt)");
    command->add_flag_callback(
        "--verbose", [] { nn::set_verbosity(nn::Verbosity::Verbose); },
        "print every epoch (default: every epoch on a terminal, about every 10% in a log file)");
  }
  // Paths and names go into config.json and .h5ad strings, which must be UTF-8: an argument that
  // is not is refused here, in one line, before anything runs (not as a JSON library error at
  // the end of a run).
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t bad = omics::h5::first_invalid_utf8(arg);
    if (bad == std::string::npos) continue;
    std::string shown;
    for (unsigned char ch : arg) {
      char b[8];
      std::snprintf(b, sizeof b, ch < 0x80 && ch >= 0x20 ? "%c" : "\\x%02X", ch);
      shown += b;
    }
    const std::string name = std::filesystem::path(argv[0]).filename().string();
    std::fprintf(stderr,
                 "%s: error: argument %d ('%s') is not valid UTF-8 (byte %zu); paths and names are written to "
                 "config.json and .h5ad files, which need UTF-8: rename the file or folder\n",
                 name.c_str(), i, shown.c_str(), bad);
    return 2;
  }
  load_config_files();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: CLI11 prints them
    // One line in the same form as every other error, naming the app.
    const std::string name = std::filesystem::path(argc > 0 ? argv[0] : "cellgrad").filename().string();
    std::fprintf(stderr, "%s: error: %s (see --help)\n", name.c_str(), e.what());
    return 2;  // the usual exit status of a command-line mistake
  }
  return std::nullopt;
}

void refuse_flags_besides_resume(const std::vector<const CLI::App*>& commands) {
  for (const CLI::App* command : commands)
    for (const CLI::Option* o : command->get_options())
      if (o->count() > 0 && o->get_name() != "--resume" && o->get_name() != "--device")
        throw Error(o->get_name() + ": --resume continues with the interrupted run's own settings; give only " +
                    "--resume OUT (and --device)");
}

void prepare_app_process() { H5dont_atexit(); }

Device resolve_device(const std::string& d) {
  if (d == "cpu") return Device::CPU;
  if (d == "cuda") {
    if (!cuda_available()) throw Error("--device cuda: no CUDA device is available (use --device cpu or auto)");
    return Device::CUDA;
  }
  return cuda_available() ? Device::CUDA : Device::CPU;
}

}  // namespace cg::apps
