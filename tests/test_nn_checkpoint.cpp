// Checkpoints: bit-identical resumption, clear errors for bad files and mismatched models, and
// an existing checkpoint surviving failed saves.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/loss_weighting.h"
#include "tests/file_size_limit.h"
#include "tests/op_check.h"

using namespace cg;
using namespace cg::nn;

namespace {

// A fresh folder under /tmp, removed (with its files) at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cellgrad_ckpt_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

bool file_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear, with its own dropout generator.
struct Run {
  std::shared_ptr<Generator> dropout_gen;
  std::shared_ptr<Sequential> model;
  std::unique_ptr<Adam> adam;
  Tensor x, y;

  Run(uint64_t init_seed, int64_t width = 8, double lr = 0.01, Device device = Device::CPU)
      : dropout_gen(std::make_shared<Generator>(init_seed + 1)) {
    Generator init(init_seed);
    model = std::make_shared<Sequential>();
    model->append(std::make_shared<Linear>(4, width, init));
    model->append(std::make_shared<BatchNorm1d>(width));
    model->append(std::make_shared<ActivationLayer>(Activation::ReLU));
    model->append(std::make_shared<Dropout>(0.3, dropout_gen));
    model->append(std::make_shared<Linear>(width, 2, init));
    model->to(device);
    adam = std::make_unique<Adam>(model->parameters(), AdamOptions{lr});
    Generator data(1234);  // the same data in every run
    x = data.normal({16, 4}).to(device);
    y = data.normal({16, 2}).to(device);
  }

  void train(int steps) {
    for (int i = 0; i < steps; ++i) {
      adam->zero_grad();
      const Tensor out = model->forward(x);
      mean(square(out - y)).backward();
      adam->step();
    }
  }

  TrainingState state(int64_t step = 0) {
    TrainingState s;
    s.modules = {{"model", model.get()}};
    s.optimizers = {{"adam", adam.get()}};
    s.generators = {{"dropout", dropout_gen.get()}};
    s.step = step;
    return s;
  }

  // Every parameter and buffer, as raw float bits.
  std::vector<float> values() const {
    std::vector<float> out;
    for (const auto& group : {model->named_parameters(), model->named_buffers()})
      for (const auto& [n, t] : group) {
        const auto v = t.to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
      }
    return out;
  }
};

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checkpoint round trip: continued training is bit-identical on the CPU") {
  TempDir dir;
  const std::string path = dir / "ckpt.h5";

  Run first(7);
  first.train(5);
  UncertaintyWeighting weighting({"rna", "adt"});
  weighting.parameters()[0].fill_(0.25);
  PCGrad pcgrad({"rna", "adt"}, 5);
  pcgrad.generator()->next_below(10);  // a non-zero offset to restore
  TrainingState saved = first.state(5);
  saved.epoch = 2;
  saved.loss_weightings = {{"uncertainty", &weighting}, {"pcgrad", &pcgrad}};
  saved.scalars = {{"best_val_loss", 0.125}};
  saved.metadata = R"({"lr": 0.01, "note": "unicode \u00e9 and, commas"})";
  save_checkpoint(path, saved);
  CHECK(!file_exists(path + ".tmp-" + std::to_string(getpid())));
  first.train(5);
  const std::vector<float> a = first.values();

  Run second(99, 8, /*lr=*/0.5);  // different initial weights and lr: all must come from the file
  CHECK(!bit_identical(second.values(), a));
  UncertaintyWeighting weighting2({"rna", "adt"});
  PCGrad pcgrad2({"rna", "adt"}, 0);
  TrainingState loaded = second.state();
  loaded.loss_weightings = {{"uncertainty", &weighting2}, {"pcgrad", &pcgrad2}};
  load_checkpoint(path, loaded);
  CHECK(loaded.step == 5);
  CHECK(loaded.epoch == 2);
  CHECK(loaded.scalars.at("best_val_loss") == 0.125);
  CHECK(loaded.metadata == saved.metadata);
  CHECK(read_checkpoint_metadata(path) == saved.metadata);
  CHECK(second.adam->lr() == 0.01);
  CHECK(second.adam->step_count() == 5);
  CHECK(weighting2.log_variances().at("rna") == 0.25);
  CHECK(pcgrad2.generator()->seed() == 5);
  CHECK(pcgrad2.generator()->offset() == pcgrad.generator()->offset());
  second.train(5);
  const std::vector<float> b = second.values();
  CHECK(bit_identical(a, b));
}

TEST_CASE("checkpoint: the same state written twice, seconds apart, is the same bytes") {
  // HDF5 stamps every object with its modification time unless told not to: two saves of one
  // model (a run's model and its --save-model copy) differed whenever a second ticked between them.
  TempDir dir;
  Run run(7);
  run.train(2);
  const TrainingState state = run.state(2);
  save_checkpoint(dir / "a.h5", state);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  save_checkpoint(dir / "b.h5", state);
  const std::string a = read_bytes(dir / "a.h5");
  CHECK(a.size() > 1000);
  CHECK(a == read_bytes(dir / "b.h5"));
}

TEST_CASE("checkpoint: truncated, non-HDF5 and missing files give an error naming the file") {
  TempDir dir;
  Run run(1);
  const std::string good = dir / "good.h5";
  save_checkpoint(good, run.state());

  const std::string bytes = read_bytes(good);
  const std::string cut = dir / "truncated.h5";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  TrainingState s = run.state();
  std::string msg = error_of([&] { load_checkpoint(cut, s); });
  CHECK(msg.find(cut) != std::string::npos);

  const std::string text = dir / "notes.h5";
  std::ofstream(text) << "this is not HDF5\n";
  msg = error_of([&] { load_checkpoint(text, s); });
  CHECK(msg.find(text) != std::string::npos);
  CHECK(msg.find("not an HDF5 file") != std::string::npos);

  msg = error_of([&] { load_checkpoint(dir / "absent.h5", s); });
  CHECK(msg.find("absent.h5") != std::string::npos);
  CHECK(msg.find("no such file") != std::string::npos);
}

TEST_CASE("checkpoint: a mismatched model lists every differing name and shape, and nothing changes") {
  TempDir dir;
  const std::string path = dir / "ckpt.h5";
  Run narrow(1, 8);
  narrow.train(1);
  save_checkpoint(path, narrow.state());

  Run wide(2, 10);
  const std::vector<float> before = wide.values();
  TrainingState s = wide.state();
  const std::string msg = error_of([&] { load_checkpoint(path, s); });
  INFO(msg);
  for (const char* name :
       {"/modules/model/parameters/0.weight", "/modules/model/parameters/0.bias", "/modules/model/parameters/1.weight",
        "/modules/model/parameters/1.bias", "/modules/model/buffers/1.running_mean",
        "/modules/model/buffers/1.running_var", "/modules/model/parameters/4.weight", "/optimizers/adam/exp_avg",
        "/optimizers/adam/exp_avg_sq"})
    CHECK(msg.find(name) != std::string::npos);
  CHECK(msg.find("file float32[8, 4], expected float32[10, 4]") != std::string::npos);
  // 4.bias [2] matches and is not reported.
  CHECK(msg.find("4.bias") == std::string::npos);
  CHECK(bit_identical(wide.values(), before));

  // Missing and unexpected entries: a generator not in the file, an optimizer not requested.
  Run same(3, 8);
  Generator extra(0);
  TrainingState t = same.state();
  t.generators.emplace_back("noise", &extra);
  t.optimizers.clear();
  const std::string msg2 = error_of([&] { load_checkpoint(path, t); });
  INFO(msg2);
  CHECK(msg2.find("missing generator /generators/noise") != std::string::npos);
  CHECK(msg2.find("unexpected /optimizers/adam") != std::string::npos);
}

namespace {
// A strategy whose state() fails, to interrupt a save half-way through the file.
struct FailingWeighting : FixedWeights {
  FailingWeighting() : FixedWeights({"a"}, {}) {}
  NamedTensors state() const override { throw Error("simulated failure while writing"); }
};
}  // namespace

TEST_CASE("checkpoint: a failed save leaves the existing checkpoint intact and no temporary file") {
  TempDir dir;
  const std::string path = dir / "ckpt.h5";
  Run run(4);
  save_checkpoint(path, run.state(1));
  const std::string good = read_bytes(path);
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());

  run.train(2);
  // 1. Interrupted half-way: the temporary file exists when the failure happens.
  FailingWeighting failing;
  TrainingState s = run.state(3);
  s.loss_weightings = {{"bad", &failing}};
  CHECK(error_of([&] { save_checkpoint(path, s); }).find("simulated failure") != std::string::npos);
  CHECK(!file_exists(tmp));
  CHECK(read_bytes(path) == good);

  // 2. The temporary path cannot be created (a folder sits there).
  REQUIRE(mkdir(tmp.c_str(), 0700) == 0);
  const std::string msg = error_of([&] { save_checkpoint(path, run.state(3)); });
  CHECK(msg.find(tmp) != std::string::npos);
  CHECK(read_bytes(path) == good);
  rmdir(tmp.c_str());

  // 3. The target folder has disappeared.
  const std::string gone = dir / "gone";
  REQUIRE(mkdir(gone.c_str(), 0700) == 0);
  REQUIRE(rmdir(gone.c_str()) == 0);
  CHECK(error_of([&] { save_checkpoint(gone + "/ckpt.h5", run.state(3)); }).find(gone) != std::string::npos);

  // 4. The disk fills up half-way: the failed write (or the flush when the file is closed) is
  // an error before anything is renamed.
  const TrainingState later = run.state(3);
  const std::string full_msg = cg::test::error_when_disk_full(good.size() / 2, [&] { save_checkpoint(path, later); });
  CHECK_MESSAGE(full_msg.find(path) != std::string::npos, full_msg);
  CHECK(!file_exists(tmp));
  CHECK(read_bytes(path) == good);

  // The surviving checkpoint still loads and holds step 1.
  Run fresh(5);
  TrainingState loaded = fresh.state();
  load_checkpoint(path, loaded);
  CHECK(loaded.step == 1);

  // Bad names are refused before anything is written.
  TrainingState bad_name = run.state();
  bad_name.optimizers = {{"a/b", run.adam.get()}};
  CHECK_THROWS_AS(save_checkpoint(path, bad_name), Error);
  CHECK(read_bytes(path) == good);
}

TEST_CASE("checkpoint: CUDA tensors are saved through the host and loaded back onto the device") {
  if (!cg::test::cuda_ready("checkpoint CUDA round trip")) return;
  TempDir dir;
  // CPU -> file -> CUDA: a pure copy, so the values must match bit for bit.
  Run cpu(11);
  cpu.train(3);
  save_checkpoint(dir / "cpu.h5", cpu.state(3));
  Run gpu(12, 8, 0.01, Device::CUDA);
  TrainingState s = gpu.state();
  load_checkpoint(dir / "cpu.h5", s);
  CHECK(gpu.model->device() == Device::CUDA);
  CHECK(bit_identical(gpu.values(), cpu.values()));
  CHECK(gpu.adam->step_count() == 3);
  // CUDA -> file -> CPU, after training on the GPU (optimizer moments come from device memory).
  gpu.train(2);
  save_checkpoint(dir / "gpu.h5", gpu.state(5));
  Run back(13);
  TrainingState t = back.state();
  load_checkpoint(dir / "gpu.h5", t);
  CHECK(bit_identical(back.values(), gpu.values()));
  CHECK(back.adam->step_count() == 5);
}
