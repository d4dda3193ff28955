// Checkpoint save/load: the layout described in nn/checkpoint.h over nn/hdf5_tensor_io.h.
#include "nn/checkpoint.h"

#include <cmath>
#include <set>
#include <sstream>

#include "autograd/error.h"
#include "autograd/optim.h"
#include "base/atomic_write.h"
#include "nn/hdf5_tensor_io.h"
#include "nn/loss_weighting.h"

namespace cg::nn {

namespace {

constexpr const char* kFormat = "cellgrad-checkpoint";
constexpr int64_t kFormatVersion = 1;

std::string describe(DType d, const Shape& s) { return std::string(dtype_name(d)) + shape_str(s); }

template <class T>
void check_names(const std::string& path, const char* kind, const std::vector<std::pair<std::string, T>>& items) {
  std::set<std::string> seen;
  for (const auto& [name, ptr] : items) {
    CG_CHECK(
        !name.empty() && name != "." && name.find('/') == std::string::npos,
        "checkpoint '" << path << "': " << kind << " name '" << name << "' is not usable (empty, '.' or contains '/')");
    CG_CHECK(seen.insert(name).second,
             "checkpoint '" << path << "': " << kind << " name '" << name << "' is used twice");
    CG_CHECK(ptr != nullptr, "checkpoint '" << path << "': " << kind << " '" << name << "' is a null pointer");
  }
}

void write_named(const h5::File& f, hid_t parent, const std::string& group, const NamedTensors& tensors,
                 const std::string& where) {
  h5::Hid g = h5::create_group(f, parent, group, where);
  for (const auto& [name, t] : tensors) h5::write_tensor(f, g.get(), name, t, where + "/" + group);
}

std::vector<uint64_t> generator_words(const Generator& g) { return {g.seed(), g.stream(), g.offset()}; }

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& s) {
  CG_CHECK(!path.empty(), "save_checkpoint: empty path");
  check_names(path, "module", s.modules);
  check_names(path, "optimizer", s.optimizers);
  check_names(path, "generator", s.generators);
  check_names(path, "loss weighting", s.loss_weightings);
  for (const auto& [name, v] : s.scalars)
    CG_CHECK(!name.empty() && name != "." && name.find('/') == std::string::npos,
             "checkpoint '" << path << "': scalar name '" << name << "' is not usable (empty, '.' or contains '/')");

  // The writer closes the file itself (a failed flush throws before anything is renamed); when it
  // throws, its handles close (groups before the file) before the temporary is removed.
  write_atomically(path, "checkpoint '" + path + "': ", [&](const std::string& tmp) {
    h5::File f = h5::File::create(tmp);
    const hid_t root = f.id();
    h5::write_attr_string(f, root, "format", kFormat);
    h5::write_attr_i64(f, root, "format_version", kFormatVersion);
    h5::write_attr_i64(f, root, "step", s.step);
    h5::write_attr_i64(f, root, "epoch", s.epoch);
    h5::write_string(f, root, "metadata", s.metadata);

    h5::Hid modules = h5::create_group(f, root, "modules", "");
    for (const auto& [name, m] : s.modules) {
      h5::Hid g = h5::create_group(f, modules.get(), name, "/modules");
      const std::string where = "/modules/" + name;
      write_named(f, g.get(), "parameters", m->named_parameters(), where);
      write_named(f, g.get(), "buffers", m->named_buffers(), where);
    }
    h5::Hid optimizers = h5::create_group(f, root, "optimizers", "");
    for (const auto& [name, opt] : s.optimizers) {
      write_named(f, optimizers.get(), name, opt->state(), "/optimizers");
      h5::Hid g = h5::open_group(f, optimizers.get(), name, "/optimizers");
      h5::write_attr_f64(f, g.get(), "lr", opt->lr(), "/optimizers/" + name);
    }
    h5::Hid generators = h5::create_group(f, root, "generators", "");
    for (const auto& [name, gen] : s.generators)
      h5::write_u64(f, generators.get(), name, generator_words(*gen), "/generators");
    h5::Hid weightings = h5::create_group(f, root, "loss_weightings", "");
    for (const auto& [name, w] : s.loss_weightings) {
      write_named(f, weightings.get(), name, w->state(), "/loss_weightings");
      if (Generator* gen = w->generator()) {
        h5::Hid g = h5::open_group(f, weightings.get(), name, "/loss_weightings");
        h5::write_u64(f, g.get(), "rng", generator_words(*gen), "/loss_weightings/" + name);
      }
    }
    h5::Hid scalars = h5::create_group(f, root, "scalars", "");
    for (const auto& [name, v] : s.scalars)
      h5::write_tensor(f, scalars.get(), name, Tensor::from_vector(std::vector<double>{v}, {1}), "/scalars");

    // Groups must close before the file for the close to flush everything.
    modules.close(), optimizers.close(), generators.close(), weightings.close(), scalars.close();
    f.close();
  });
}

namespace {

// Everything read from the file and checked, waiting to be applied.
struct Pending {
  std::vector<std::pair<Tensor, Tensor>> copies;  // destination, host source
  std::vector<std::pair<Optimizer*, NamedTensors>> optimizer_states;
  std::vector<std::pair<Optimizer*, double>> optimizer_lrs;
  std::vector<std::pair<LossWeighting*, NamedTensors>> weighting_states;
  std::vector<std::pair<Generator*, std::vector<uint64_t>>> generators;
};

class Loader {
 public:
  explicit Loader(const h5::File& f) : f_(f) {}

  // Matches one group's datasets against the expected tensors by name, shape and dtype,
  // reading the matching ones; every difference is recorded, none thrown.
  NamedTensors match(hid_t parent, const std::string& group, const std::string& where, const NamedTensors& expected,
                     const std::set<std::string>& ignore = {}) {
    NamedTensors read;
    h5::Hid g = h5::open_group(f_, parent, group, where);
    const std::string at = where + "/" + group;
    if (!g.valid()) {
      issues_.push_back("missing group " + at);
      return read;
    }
    std::set<std::string> in_file;
    for (const auto& n : h5::list_members(f_, g.get(), at))
      if (!ignore.count(n)) in_file.insert(n);
    for (const auto& [name, t] : expected) {
      const std::string full = at + "/" + name;
      if (!in_file.count(name)) {
        issues_.push_back("missing " + full + " " + describe(t.dtype(), t.shape()));
        continue;
      }
      in_file.erase(name);
      const h5::TensorInfo info = h5::tensor_info(f_, g.get(), name, at);
      if (!info.ok) {
        issues_.push_back("unreadable " + full + ": " + info.problem);
        continue;
      }
      if (info.shape != t.shape() || info.dtype != t.dtype()) {
        issues_.push_back("different " + full + ": file " + describe(info.dtype, info.shape) + ", expected " +
                          describe(t.dtype(), t.shape()));
        continue;
      }
      read.emplace_back(name, h5::read_tensor(f_, g.get(), name, info, at));
    }
    for (const auto& name : in_file) {
      const h5::TensorInfo info = h5::tensor_info(f_, g.get(), name, at);
      issues_.push_back("unexpected " + at + "/" + name + (info.ok ? " " + describe(info.dtype, info.shape) : ""));
    }
    return read;
  }

  // Groups present in the file under `parent` but not requested.
  void unexpected_members(hid_t parent, const std::string& where, const std::set<std::string>& requested) {
    for (const auto& n : h5::list_members(f_, parent, where))
      if (!requested.count(n)) issues_.push_back("unexpected " + where + "/" + n + " (not requested)");
  }

  void issue(std::string s) { issues_.push_back(std::move(s)); }
  const std::vector<std::string>& issues() const { return issues_; }

 private:
  const h5::File& f_;
  std::vector<std::string> issues_;
};

h5::Hid require_group(const h5::File& f, hid_t parent, const std::string& name) {
  h5::Hid g = h5::open_group(f, parent, name, "");
  if (!g.valid()) f.fail("group '/" + name + "' is missing (not a complete checkpoint)");
  return g;
}

template <class T> std::set<std::string> names_of(const std::vector<std::pair<std::string, T>>& items) {
  std::set<std::string> out;
  for (const auto& [n, p] : items) out.insert(n);
  return out;
}

void check_format(const h5::File& f) {
  if (H5Aexists(f.id(), "format") <= 0 || h5::read_attr_string(f, f.id(), "format") != kFormat)
    f.fail(std::string("not a cellgrad checkpoint (no '") + kFormat + "' format attribute)");
  const int64_t version = h5::read_attr_i64(f, f.id(), "format_version");
  if (version != kFormatVersion)
    f.fail("format version " + std::to_string(version) + " is not supported (this build reads version " +
           std::to_string(kFormatVersion) + ")");
}

}  // namespace

void load_checkpoint(const std::string& path, TrainingState& s) {
  check_names(path, "module", s.modules);
  check_names(path, "optimizer", s.optimizers);
  check_names(path, "generator", s.generators);
  check_names(path, "loss weighting", s.loss_weightings);
  const h5::File f = h5::File::open_read(path);
  check_format(f);
  const hid_t root = f.id();
  Loader loader(f);
  Pending pending;

  h5::Hid modules = require_group(f, root, "modules");
  loader.unexpected_members(modules.get(), "/modules", names_of(s.modules));
  for (const auto& [name, m] : s.modules) {
    h5::Hid g = h5::open_group(f, modules.get(), name, "/modules");
    if (!g.valid()) {
      loader.issue("missing module /modules/" + name);
      continue;
    }
    for (const char* kind : {"parameters", "buffers"}) {
      const NamedTensors expected = std::string(kind) == "parameters" ? m->named_parameters() : m->named_buffers();
      const NamedTensors read = loader.match(g.get(), kind, "/modules/" + name, expected);
      for (const auto& [n, t] : read)
        for (const auto& [en, et] : expected)
          if (en == n) pending.copies.emplace_back(et, t);
    }
  }

  h5::Hid optimizers = require_group(f, root, "optimizers");
  loader.unexpected_members(optimizers.get(), "/optimizers", names_of(s.optimizers));
  for (const auto& [name, opt] : s.optimizers) {
    if (!h5::exists(optimizers.get(), name)) {
      loader.issue("missing optimizer /optimizers/" + name);
      continue;
    }
    // The live state buffers tell the expected names and sizes.
    NamedTensors read = loader.match(optimizers.get(), name, "/optimizers", opt->state());
    const NamedTensors expected = opt->state();
    if (read.size() != expected.size()) continue;
    for (const auto& [n, t] : read)
      if (n == "step") {
        const double step = t.item();
        if (!(step >= 0 && std::floor(step) == step))
          loader.issue("different /optimizers/" + name + "/step: " + std::to_string(step) + " is not a step count");
      }
    h5::Hid g = h5::open_group(f, optimizers.get(), name, "/optimizers");
    pending.optimizer_lrs.emplace_back(opt, h5::read_attr_f64(f, g.get(), "lr", "/optimizers/" + name));
    pending.optimizer_states.emplace_back(opt, std::move(read));
  }

  h5::Hid generators = require_group(f, root, "generators");
  loader.unexpected_members(generators.get(), "/generators", names_of(s.generators));
  for (const auto& [name, gen] : s.generators) {
    if (!h5::exists(generators.get(), name)) {
      loader.issue("missing generator /generators/" + name);
      continue;
    }
    std::vector<uint64_t> words = h5::read_u64(f, generators.get(), name, "/generators");
    if (words.size() != 3) loader.issue("different /generators/" + name + ": expected 3 words (seed, stream, offset)");
    else pending.generators.emplace_back(gen, std::move(words));
  }

  h5::Hid weightings = require_group(f, root, "loss_weightings");
  loader.unexpected_members(weightings.get(), "/loss_weightings", names_of(s.loss_weightings));
  for (const auto& [name, w] : s.loss_weightings) {
    if (!h5::exists(weightings.get(), name)) {
      loader.issue("missing loss weighting /loss_weightings/" + name);
      continue;
    }
    Generator* gen = w->generator();
    const NamedTensors expected = w->state();
    std::set<std::string> ignore;
    if (gen) ignore.insert("rng");
    NamedTensors read = loader.match(weightings.get(), name, "/loss_weightings", expected, ignore);
    if (gen) {
      h5::Hid g = h5::open_group(f, weightings.get(), name, "/loss_weightings");
      if (!h5::exists(g.get(), "rng")) {
        loader.issue("missing /loss_weightings/" + name + "/rng");
      } else {
        std::vector<uint64_t> words = h5::read_u64(f, g.get(), "rng", "/loss_weightings/" + name);
        if (words.size() == 3) pending.generators.emplace_back(gen, std::move(words));
        else loader.issue("different /loss_weightings/" + name + "/rng: expected 3 words");
      }
    }
    if (read.size() == expected.size()) pending.weighting_states.emplace_back(w, std::move(read));
  }

  std::map<std::string, double> scalars;
  if (h5::Hid g = h5::open_group(f, root, "scalars", ""); g.valid()) {
    for (const auto& name : h5::list_members(f, g.get(), "/scalars")) {
      const h5::TensorInfo info = h5::tensor_info(f, g.get(), name, "/scalars");
      if (!info.ok || info.shape != Shape{1} || info.dtype == DType::I32) {
        loader.issue("unreadable /scalars/" + name + ": expected one float64 value");
        continue;
      }
      scalars[name] = h5::read_tensor(f, g.get(), name, info, "/scalars").item();
    }
  }
  const int64_t step = h5::read_attr_i64(f, root, "step");
  const int64_t epoch = h5::read_attr_i64(f, root, "epoch");
  std::string metadata = h5::read_string(f, root, "metadata");

  if (!loader.issues().empty()) {
    std::ostringstream os;
    os << "checkpoint '" << path << "' does not match what is being restored (" << loader.issues().size()
       << " difference" << (loader.issues().size() == 1 ? "" : "s") << "):";
    for (const auto& i : loader.issues()) os << "\n  " << i;
    throw Error(os.str());
  }

  // Apply: the parts that still validate values (optimizers, loss weightings) go first.
  try {
    for (auto& [opt, state] : pending.optimizer_states) opt->load_state(state);
    for (auto& [w, state] : pending.weighting_states) w->load_state(state);
  } catch (const Error& e) {
    throw Error("checkpoint '" + path + "': " + e.what());
  }
  for (auto& [opt, lr] : pending.optimizer_lrs) opt->set_lr(lr);
  for (auto& [dst, src] : pending.copies) Tensor(dst).copy_(src);
  for (auto& [gen, words] : pending.generators) {
    // The stream is fixed at construction, so the generator is rebuilt to restore it too.
    *gen = Generator(words[0], words[1]);
    gen->set_state(words[0], words[2]);
  }
  s.step = step;
  s.epoch = epoch;
  s.scalars = std::move(scalars);
  s.metadata = std::move(metadata);
}

std::string read_checkpoint_metadata(const std::string& path) {
  const h5::File f = h5::File::open_read(path);
  check_format(f);
  return h5::read_string(f, f.id(), "metadata");
}

}  // namespace cg::nn
