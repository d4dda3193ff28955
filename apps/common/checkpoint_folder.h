#pragma once
// Where an app keeps the state of a run it may have to resume: "<out>.checkpoints/", beside the
// run folder and outside its staging area (which a killed run loses). It holds the run's
// resolved config.json and the training state; the app removes it once the run is committed.
#include <nlohmann/json.hpp>
#include <string>

namespace cg::apps {

// "<out>.checkpoints" (trailing slashes of `out` ignored).
std::string checkpoint_folder_of(const std::string& out);

// The resolved config.json of the interrupted run whose --out was `out` (--resume OUT); an error
// naming the file when there is none or it is not JSON.
nlohmann::json interrupted_run_config(const std::string& out);

// A fresh run with checkpoints: creates the folder and writes `config` into it. A folder left by
// an interrupted run is refused, naming --resume.
void start_checkpoint_folder(const std::string& out, const nlohmann::json& config);

}  // namespace cg::apps
