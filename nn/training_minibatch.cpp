// MinibatchIterator: shuffled minibatches over host rows, one host-to-device transfer per batch.
#include <cstring>
#include <limits>
#include <numeric>

#include "nn/training.h"

namespace cg::nn {

void shuffle_in_place(std::vector<int64_t>& order, Generator& gen) {
  CG_CHECK(order.size() <= std::numeric_limits<uint32_t>::max(),
           "shuffle: at most 2^32 - 1 rows, found " << order.size());
  for (size_t i = order.size(); i-- > 1;) std::swap(order[i], order[gen.next_below(static_cast<uint32_t>(i + 1))]);
}

MinibatchIterator::MinibatchIterator(const float* data, int64_t rows, int64_t cols, std::shared_ptr<Generator> gen,
                                     Options options)
    : data_(data), rows_(rows), cols_(cols), gen_(std::move(gen)), options_(options) {
  CG_CHECK(data != nullptr || rows * cols == 0, "minibatch iterator: data pointer is null");
  CG_CHECK(rows > 0 && cols > 0,
           "minibatch iterator: needs at least one row and one column, found " << rows << " x " << cols);
  // next_below draws 32-bit values.
  CG_CHECK(rows <= static_cast<int64_t>(std::numeric_limits<uint32_t>::max()),
           "minibatch iterator: at most 2^32 - 1 rows, found " << rows);
  CG_CHECK(options_.batch_size > 0, "minibatch iterator: batch size must be positive, found " << options_.batch_size);
  CG_CHECK(options_.dtype != DType::I32, "minibatch iterator: the output dtype must be floating-point");
  CG_CHECK(!options_.shuffle || gen_ != nullptr, "minibatch iterator: shuffling needs a generator");
  CG_CHECK(!options_.drop_last || rows >= options_.batch_size, "minibatch iterator: drop_last with batch size "
                                                                   << options_.batch_size << " and only " << rows
                                                                   << " rows would yield no batch at all");
}

namespace {
const float* cpu_f32_data(const Tensor& data) {
  CG_CHECK(data.defined() && data.device() == Device::CPU && data.dtype() == DType::F32,
           "minibatch iterator: expected a float32 CPU tensor, found "
               << (data.defined() ? data.describe() : std::string("an undefined tensor")));
  return data.data<float>();
}
}  // namespace

MinibatchIterator::MinibatchIterator(const Tensor& data, std::shared_ptr<Generator> gen, Options options)
    : MinibatchIterator(cpu_f32_data(data), data.rows(), data.cols(), std::move(gen), options) {
  keep_alive_ = data;
}

void MinibatchIterator::check_extra_name(const std::string& name, int64_t rows) const {
  CG_CHECK(!name.empty(), "minibatch iterator: an extra column set needs a name");
  for (const auto& e : extras_) CG_CHECK(e.name != name, "minibatch iterator: extra '" << name << "' added twice");
  CG_CHECK(rows == rows_, "minibatch iterator: extra '" << name << "' has " << rows << " rows, the data has " << rows_);
}

void MinibatchIterator::add_labels(const std::string& name, const int32_t* labels, int64_t rows) {
  check_extra_name(name, rows);
  CG_CHECK(labels != nullptr, "minibatch iterator: labels '" << name << "' pointer is null");
  extras_.push_back(Extra{name, nullptr, labels, 1});
}

void MinibatchIterator::add_columns(const std::string& name, const float* data, int64_t rows, int64_t cols) {
  check_extra_name(name, rows);
  CG_CHECK(data != nullptr && cols > 0, "minibatch iterator: columns '" << name << "' need data and cols > 0");
  extras_.push_back(Extra{name, data, nullptr, cols});
}

int64_t MinibatchIterator::batches_per_epoch() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? rows_ / b : (rows_ + b - 1) / b;
}

void MinibatchIterator::start_epoch() {
  order_.resize(static_cast<size_t>(rows_));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (options_.shuffle) shuffle_in_place(order_, *gen_);
  position_ = 0;
  ++epoch_;
}

namespace {
// Rows `rows` of a row-major [*, cols] float matrix into one host tensor, converted and moved.
Tensor gather(const float* src, int64_t cols, const std::vector<int64_t>& rows, DType dtype, Device device) {
  const int64_t n = static_cast<int64_t>(rows.size());
  Tensor host = Tensor::empty({n, cols}, DType::F32, Device::CPU);
  float* dst = host.data<float>();
  for (int64_t r = 0; r < n; ++r)
    std::memcpy(dst + r * cols, src + rows[r] * cols, static_cast<size_t>(cols) * sizeof(float));
  if (dtype != DType::F32) host = host.to(dtype);
  return device == Device::CPU ? host : host.to(device);
}
}  // namespace

bool MinibatchIterator::next(Batch& out) {
  if (position_ < 0) start_epoch();
  const int64_t remaining = rows_ - position_;
  const int64_t n = std::min(remaining, options_.batch_size);
  if (n <= 0 || (options_.drop_last && n < options_.batch_size)) {
    position_ = -1;
    return false;
  }
  out.rows.assign(order_.begin() + position_, order_.begin() + position_ + n);
  position_ += n;
  out.x = gather(data_, cols_, out.rows, options_.dtype, options_.device);
  out.extra.clear();
  for (const Extra& e : extras_) {
    if (e.f) {
      out.extra[e.name] = gather(e.f, e.cols, out.rows, options_.dtype, options_.device);
    } else {
      std::vector<int32_t> labels(out.rows.size());
      for (size_t r = 0; r < labels.size(); ++r) labels[r] = e.i[out.rows[r]];
      out.extra[e.name] = Tensor::from_indices(labels, options_.device);
    }
  }
  return true;
}

}  // namespace cg::nn
