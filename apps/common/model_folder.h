#pragma once
// A model folder: what a trained model needs to be applied to new cells later, checked on the
// way back in. Layout:
//   manifest.json   format "cellgrad-model", format_version, cellgrad_version, app, and for every
//                   other file its size and SHA-256 (so a truncated or altered file is refused)
//   config.json     the resolved settings of the training run
//   model.json      what the app needs besides the weights (feature names, class and condition
//                   values, preprocessing statistics learned on the training cells, ...)
//   *.h5            the weights (nn/checkpoint.h files)
// Written into a run folder's staging area (`model/`) or on its own through a RunFolder
// (--save-model DIR), so it appears whole or not at all.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cg::apps {

constexpr int kModelFormatVersion = 1;

// Writes manifest.json into `dir` for `files` (names relative to `dir`, already written).
void seal_model_folder(const std::string& dir, const std::string& app, const std::vector<std::string>& files);

struct ModelFolder {
  std::string dir;
  nlohmann::json manifest, config, model;  // manifest.json, config.json, model.json
  std::string file(const std::string& name) const { return dir + "/" + name; }
};

// Reads and checks a model folder made by `app`: the manifest (a missing folder or manifest, a
// different format, a newer format version or another app's model are refused), every file it
// lists (present, same size, same SHA-256), and parses config.json and model.json. Every
// problem is a cg::Error naming the folder and what was expected and found.
ModelFolder open_model_folder(const std::string& dir, const std::string& app);

// SHA-256 of a file as lowercase hex (exposed for tests).
std::string sha256_of_file(const std::string& path);

// A required entry of model.json, or an error naming the folder and the key.
const nlohmann::json& model_entry(const ModelFolder& m, const std::string& key);

}  // namespace cg::apps
