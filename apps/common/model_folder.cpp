#include "apps/common/model_folder.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "apps/common/run_folder.h"
#include "autograd/error.h"
#include "base/version.h"

namespace fs = std::filesystem;

namespace cg::apps {
namespace {

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(what + ": cannot open " + path);
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception&) {
    throw Error(what + ": " + path + " is not valid JSON");
  }
}

}  // namespace

std::string sha256_of_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open " + path + " to compute its checksum");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Error("SHA-256 is unavailable");
  std::vector<char> buffer(1 << 20);
  while (f) {
    f.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (f.gcount() > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(f.gcount()));
  }
  if (f.bad()) throw Error("reading " + path + " failed while computing its checksum");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

void seal_model_folder(const std::string& dir, const std::string& app, const std::vector<std::string>& files) {
  nlohmann::json manifest = {{"format", "cellgrad-model"},
                             {"format_version", kModelFormatVersion},
                             {"cellgrad_version", CELLGRAD_VERSION},
                             {"app", app},
                             {"files", nlohmann::json::object()}};
  for (const auto& name : files) {
    const std::string path = dir + "/" + name;
    manifest["files"][name] = {{"bytes", fs::file_size(path)}, {"sha256", sha256_of_file(path)}};
  }
  write_text_file(dir + "/manifest.json", manifest.dump(2) + "\n");
}

ModelFolder open_model_folder(const std::string& dir, const std::string& app) {
  const std::string what = "--model " + dir;
  if (!fs::is_directory(dir))
    throw Error(what + ": expected a model folder, found " + (fs::exists(dir) ? "a file" : "nothing at that path"));
  if (!fs::exists(dir + "/manifest.json"))
    throw Error(what +
                ": manifest.json is missing (expected a model folder: a run's model/ or a --save-model folder of " +
                app + ")");
  ModelFolder m;
  m.dir = dir;
  m.manifest = read_json_file(dir + "/manifest.json", what);
  const auto& man = m.manifest;
  if (!man.is_object() || man.value("format", "") != "cellgrad-model")
    throw Error(what + ": manifest.json does not describe a cellgrad model (expected format 'cellgrad-model')");
  if (!man.contains("format_version") || !man["format_version"].is_number_integer())
    throw Error(what + ": manifest.json has no integer format_version");
  const int version = man["format_version"].get<int>();
  if (version > kModelFormatVersion)
    throw Error(what + ": model format version " + std::to_string(version) + " (written by cellgrad " +
                man.value("cellgrad_version", "?") +
                ") is newer than this cellgrad (" CELLGRAD_VERSION ") reads (up to " +
                std::to_string(kModelFormatVersion) + "); upgrade cellgrad");
  if (man.value("app", "") != app)
    throw Error(what + ": this is a model of " + man.value("app", "an unknown app") + ", expected one of " + app);
  if (!man.contains("files") || !man["files"].is_object()) throw Error(what + ": manifest.json lists no files");
  for (const char* required : {"config.json", "model.json"})
    if (!man["files"].contains(required)) throw Error(what + ": manifest.json does not list " + required);
  for (auto it = man["files"].begin(); it != man["files"].end(); ++it) {
    const std::string path = dir + "/" + it.key();
    if (!fs::exists(path)) throw Error(what + ": " + it.key() + " is missing");
    const auto bytes = fs::file_size(path);
    const auto expected = it.value().value("bytes", static_cast<uintmax_t>(0));
    if (bytes != expected)
      throw Error(what + ": " + it.key() + " has " + std::to_string(bytes) + " bytes, the manifest says " +
                  std::to_string(expected) + " (truncated or replaced)");
    if (sha256_of_file(path) != it.value().value("sha256", ""))
      throw Error(what + ": " + it.key() + " does not match its SHA-256 checksum in manifest.json (altered)");
  }
  m.config = read_json_file(dir + "/config.json", what);
  m.model = read_json_file(dir + "/model.json", what);
  return m;
}

const nlohmann::json& model_entry(const ModelFolder& m, const std::string& key) {
  if (!m.model.contains(key)) throw Error("--model " + m.dir + ": model.json has no '" + key + "'");
  return m.model.at(key);
}

}  // namespace cg::apps
