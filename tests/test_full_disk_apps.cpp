// Whole apps on a filesystem that really fills up. Each run writes into a tmpfs mounted with room
// for an earlier run plus a fraction of a new one (0 to 90%), so the disk fills at a different
// point of the writing each time: HDF5 files, JSON, CSV, the model folder, the commit. Every
// such run must end with exactly one error line and an exit status (never a signal: the apps once
// crashed in HDF5's cleanup at exit after a failed flush), leave no staging folder or lock, and
// leave the earlier run byte for byte as it was. With room to spare, the run replaces it.
// Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped, saying so.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "tests/app_runner.h"
#include "tests/multitask_fixtures.h"
#include "tests/predict_perturbation_fixtures.h"

namespace fs = std::filesystem;
using cg::test::TempDir;

namespace {

// A tmpfs of `bytes` (rounded up to whole 4 KiB pages) mounted on `dir` while it lives.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, uint64_t bytes) : dir_(dir) {
    fs::create_directories(dir);
    const uint64_t kib = (bytes + 4095) / 4096 * 4;
    const std::string cmd = "mount -t tmpfs -o size=" + std::to_string(kib) + "k tmpfs '" + dir + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) why_ += buf;
    mounted_ = p && pclose(p) == 0;
    if (!mounted_ && why_.empty()) why_ = "mount failed";
  }
  ~TmpfsMount() {
    if (mounted_) std::system(("umount '" + dir_ + "' 2>/dev/null || umount -l '" + dir_ + "'").c_str());
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  std::string dir_, why_;
  bool mounted_ = false;
};

// Whether this process may mount a tmpfs; the reason when it may not.
std::string cannot_mount(const TempDir& tmp) {
  if (geteuid() != 0) return "not root (mounting a small tmpfs needs CAP_SYS_ADMIN)";
  TmpfsMount probe(tmp.file("probe_mount"), 64 * 1024);
  return probe.mounted() ? "" : "mount -t tmpfs failed: " + probe.why();
}

// Every regular file under `root`, by relative path, with its content.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out[fs::relative(e.path(), root).string()] = ss.str();
  }
  return out;
}

// Bytes a copy of `root` takes on a tmpfs: whole pages per file.
uint64_t pages_bytes(const std::map<std::string, std::string>& files) {
  uint64_t total = 0;
  for (const auto& [name, content] : files) total += (content.size() + 4095) / 4096 * 4096;
  return total;
}

// Runs `args(out)` of `app` into full disks, as the header says. `args` builds the command for
// an output folder.
void check_full_disks(const std::string& app, const TempDir& tmp, const std::function<std::string(const std::string&)>& args) {
  const cg::test::AppResult ref = cg::test::run_app(app, tmp, args(tmp.file("ref")));
  REQUIRE_MESSAGE(ref.code == 0, ref.output);
  const auto earlier = snapshot(tmp.file("ref"));
  REQUIRE(!earlier.empty());
  const uint64_t need = pages_bytes(earlier);
  const std::string prefix = app + ": error: ";
  int level = 0;
  for (const double fraction : {0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.5}) {
    CAPTURE(fraction);
    const std::string mnt = tmp.file("full" + std::to_string(level++));
    // Room for the earlier run and a fraction of the new one (tmpfs counts file pages only).
    const uint64_t room = need + static_cast<uint64_t>(fraction * static_cast<double>(need));
    TmpfsMount mount(mnt, room);
    REQUIRE_MESSAGE(mount.mounted(), mount.why());
    const std::string out = mnt + "/run";
    fs::copy(tmp.file("ref"), out, fs::copy_options::recursive);
    REQUIRE(snapshot(out) == earlier);

    const cg::test::AppResult r = cg::test::run_app(app, tmp, args(out) + " --overwrite");
    INFO("room " << room << " bytes for a run of " << need << "; output:\n" << r.output);
    REQUIRE_MESSAGE(r.code >= 0, "killed by a signal");
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(mnt)) entries.push_back(e.path().filename().string());
    CHECK_MESSAGE(entries == std::vector<std::string>{"run"}, "left beside the run: " << entries.size() << " entries");
    if (fraction < 1) {
      CHECK(r.code != 0);
      const size_t at = r.output.find(prefix);
      REQUIRE_MESSAGE(at != std::string::npos, "no '" << prefix << "' line");
      CHECK(r.output.find(prefix, at + 1) == std::string::npos);
      const std::string line = r.output.substr(at);
      CHECK_MESSAGE(line.find('\n') == line.size() - 1, "the error is not one last line");
      std::string lower = line;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      CHECK_MESSAGE(lower.find("no space left") != std::string::npos, "the error does not say the disk is full");
      CHECK(snapshot(out) == earlier);  // the earlier run, byte for byte
    } else {
      CHECK(r.code == 0);
      const auto now = snapshot(out);
      CHECK(now.size() == earlier.size());
      for (const auto& [name, content] : earlier) CHECK_MESSAGE(now.count(name) == 1, "missing " << name);
    }
  }
}

}  // namespace

TEST_CASE("full disk: predict_perturbation and train_multitask stop with one error line and keep the earlier run") {
  if (!cg::test::have_app("predict_perturbation") || !cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  const std::string why = cannot_mount(tmp);
  if (!why.empty()) {
    MESSAGE("skipped the full-disk test: " << why);
    return;
  }
  namespace pp = cg::test::perturb;
  const std::string data = tmp.file("cells.h5ad");
  pp::write_data(data, pp::standard_cells());
  SUBCASE("predict_perturbation benchmark") {
    check_full_disks("predict_perturbation", tmp, [&](const std::string& out) { return pp::base_args(data, out); });
  }
  SUBCASE("predict_perturbation train (a model folder)") {
    check_full_disks("predict_perturbation", tmp, [&](const std::string& out) {
      return "train --data " + data + " --model scgen --seed 0 --epochs 2 --device cpu --out " + out;
    });
  }
  SUBCASE("train_multitask") {
    namespace mt = cg::test::multitask;
    mt::write_modality(tmp.file("a.h5ad"), mt::cell_names(30), 5, 3);
    mt::write_modality(tmp.file("b.h5ad"), mt::cell_names(30), 4, 3);
    check_full_disks("train_multitask", tmp, [&](const std::string& out) {
      return "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
             " --label-key type --epochs 3 --device cpu --out " + out;
    });
  }
}
