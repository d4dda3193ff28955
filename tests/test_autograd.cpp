// Engine semantics: accumulation, zero_grad, no-grad scopes, detach, tape release and the errors
// around it, diamonds, requires_grad rules, and Tensor basics.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <string>

#include "autograd/allocator.h"
#include "autograd/engine.h"
#include "tests/op_check.h"

using namespace cg;

namespace {
Tensor leaf(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape).set_requires_grad(true);
}
}  // namespace

TEST_CASE("autograd: gradients accumulate over two backward calls and zero_grad clears them") {
  Tensor x = leaf({1, 2, 3}, {3});
  sum(square(x)).backward();  // d/dx sum(x^2) = 2x
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 4, 6});
  Tensor first_grad = x.grad();
  sum(mul_scalar(x, 3.0)).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{5, 7, 9});
  CHECK(x.grad().impl() == first_grad.impl());  // accumulated in place, not replaced
  x.zero_grad();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
  CHECK(x.grad().impl() == first_grad.impl());
  Tensor untouched = leaf({1}, {1});
  untouched.zero_grad();  // no gradient yet: nothing to fill, no error
  CHECK_FALSE(untouched.grad().defined());
}

TEST_CASE("autograd: backward from a leaf, and with an explicit gradient from a non-scalar") {
  Tensor x = leaf({1, 2}, {2});
  x.backward(Tensor::from_vector(std::vector<double>{0.5, 0.25}, {2}));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0.5, 0.25});
  Tensor y = mul_scalar(x, 2.0);
  y.backward(Tensor::from_vector(std::vector<double>{1, 10}, {2}));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2.5, 20.25});
  Tensor z = mul_scalar(x, 2.0);
  CHECK_THROWS_WITH_AS(z.backward(Tensor::ones({3}, DType::F64)), doctest::Contains("does not match"), Error);
}

TEST_CASE("autograd: NoGradGuard records nothing and restores recording when it ends") {
  Tensor x = leaf({1, 2}, {2});
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    Tensor y = exp(x);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    { NoGradGuard nested; }
    CHECK_FALSE(grad_enabled());  // a nested guard restores the outer state, not "on"
    CHECK_THROWS_WITH_AS(sum(y).backward(), doctest::Contains("does not require a gradient"), Error);
  }
  CHECK(grad_enabled());
  CHECK(exp(x).requires_grad());
}

TEST_CASE("autograd: detach cuts the graph but shares the data") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = square(x);
  Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  CHECK(d.storage() == y.storage());
  // x only receives the gradient of the attached path: d(x*2 + detach(x^2))/dx = 2.
  sum(add(mul_scalar(x, 2.0), mul(d, Tensor::ones({2}, DType::F64)))).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 2});
}

TEST_CASE("autograd: a diamond (x used by two branches) sums both paths") {
  Tensor x = leaf({0.5, -1.5}, {2});
  Tensor a = square(x);           // da/dx = 2x
  Tensor b = mul_scalar(x, 3.0);  // db/dx = 3
  Tensor c = exp(x);
  Tensor top = sum(add(mul(a, b), c));  // d/dx (3 x^3 + e^x) = 9 x^2 + e^x
  top.backward();
  const auto g = x.grad().to_vector<double>();
  CHECK(g[0] == doctest::Approx(9 * 0.25 + std::exp(0.5)).epsilon(1e-14));
  CHECK(g[1] == doctest::Approx(9 * 2.25 + std::exp(-1.5)).epsilon(1e-14));
  // A value reused by one op (x * x) also gets both contributions.
  Tensor y = leaf({3}, {1});
  sum(mul(y, y)).backward();
  CHECK(y.grad().item() == 6);
}

TEST_CASE("autograd: the tape is released after backward, and reusing it is an error that names the op") {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = exp(x);
  Tensor loss = sum(y);
  loss.backward();
  CHECK(loss.grad_fn()->released);
  CHECK(loss.grad_fn()->inputs.empty());
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("'sum'"), Error);
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("already released"), Error);
  // An op on a tensor whose tape is gone: the message names the new op and the released one.
  CHECK_THROWS_WITH_AS(mul(y, y), doctest::Contains("op 'mul'"), Error);
  CHECK_THROWS_WITH_AS(mul(y, y), doctest::Contains("'exp'"), Error);
  // detach() is the way out.
  Tensor again = sum(mul(y.detach(), x));
  again.backward();
  CHECK(x.grad().defined());
}

TEST_CASE("autograd: backward frees the saved tensors") {
  Tensor x = leaf({0.1, 0.2, 0.3}, {3});
  Tensor w = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  std::weak_ptr<TensorImpl> saved_impl;
  std::weak_ptr<Storage> saved_storage;
  Tensor loss;
  {
    Tensor a = exp(x);  // an intermediate that only the tape keeps alive once this scope ends
    saved_impl = a.impl_ptr();
    saved_storage = a.storage();
    loss = sum(mul(a, w));
  }
  CHECK_FALSE(saved_impl.expired());  // held by the tape of 'mul'
  CHECK_FALSE(saved_storage.expired());
  loss.backward();
  CHECK(saved_impl.expired());
  CHECK(saved_storage.expired());
  CHECK(x.grad().to_vector<double>()[2] == doctest::Approx(3 * std::exp(0.3)).epsilon(1e-14));
}

TEST_CASE("autograd: backward from a non-scalar without a gradient names the shape") {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = exp(x);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("non-scalar"), Error);
}

TEST_CASE("autograd: requires_grad rules") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = exp(x);
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK_THROWS_WITH_AS(y.set_requires_grad(false), doctest::Contains("leaf"), Error);
  CHECK_THROWS_WITH_AS(y.set_requires_grad(true), doctest::Contains("'exp'"), Error);
  CHECK_THROWS_AS(Tensor::from_indices({1, 2}).set_requires_grad(true), Error);
  // No input requires a gradient: nothing is recorded.
  Tensor c = Tensor::ones({2}, DType::F64);
  Tensor d = exp(c);
  CHECK_FALSE(d.requires_grad());
  CHECK(d.grad_fn() == nullptr);
  // Only inputs that require gradients get one.
  sum(mul(x, c)).backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(c.grad().defined());
}

TEST_CASE("tensor: creation, copies, conversion and description") {
  Tensor z = Tensor::zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.numel() == 6);
  CHECK(z.dtype() == DType::F32);
  CHECK(z.device() == Device::CPU);
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(Tensor::ones({4}, DType::F64).to_vector<double>() == std::vector<double>(4, 1.0));
  CHECK(Tensor::full({2, 2}, 2.5).to_vector<float>() == std::vector<float>(4, 2.5f));
  CHECK(z.describe() == "float32[2, 3] on cpu");
  CHECK(Tensor::zeros({1, 2, 3, 4}, DType::F64).describe() == "float64[1, 2, 3, 4] on cpu");
  CHECK(Tensor().describe() == "undefined tensor");

  Tensor a = Tensor::from_vector(std::vector<float>{1.5f, -2.0f, 3.25f}, {3});
  CHECK(a.to_vector<double>() == std::vector<double>{1.5, -2.0, 3.25});
  CHECK(a.to_vector<int32_t>() == std::vector<int32_t>{1, -2, 3});
  CHECK_THROWS_WITH_AS(Tensor::from_vector(std::vector<float>{1, 2}, {3}), doctest::Contains("[3]"), Error);

  Tensor c = a.clone();
  CHECK(c.storage() != a.storage());
  c.fill_(0.0);
  CHECK(a.to_vector<float>()[0] == 1.5f);  // a clone owns its data

  Tensor d = a.to(DType::F64);
  CHECK(d.dtype() == DType::F64);
  CHECK(d.to_vector<double>() == std::vector<double>{1.5, -2.0, 3.25});
  CHECK(d.to(DType::F32).to_vector<float>() == a.to_vector<float>());
  CHECK(a.to(DType::F32).impl() == a.impl());  // same dtype: same tensor

  CHECK(Tensor::full({1}, 4.0).item() == 4.0);
  CHECK_THROWS_WITH_AS(a.item(), doctest::Contains("one-element"), Error);
  CHECK_THROWS_AS(Tensor::zeros({}), Error);
  CHECK_THROWS_AS(Tensor::zeros({1, 1, 1, 1, 1}), Error);
  CHECK_THROWS_AS(Tensor().shape(), Error);

  // A view over part of a storage reads and writes that part.
  Tensor base = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {6});
  Tensor v = Tensor::view_of(base.storage(), 2, {2, 2}, DType::F32);
  CHECK(v.to_vector<float>() == std::vector<float>{2, 3, 4, 5});
  v.fill_(9.0);
  CHECK(base.to_vector<float>() == std::vector<float>{0, 1, 9, 9, 9, 9});
  CHECK_THROWS_WITH_AS(Tensor::view_of(base.storage(), 4, {3}, DType::F32), doctest::Contains("past the end"), Error);
}

TEST_CASE("tensor: mixing devices is an error that names both") {
  if (!cg::test::cuda_ready("mixed-device errors")) return;
  Tensor a = Tensor::ones({2, 2});
  Tensor b = Tensor::ones({2, 2}, DType::F32, Device::CUDA);
  CHECK(b.to(Device::CPU).to_vector<float>() == std::vector<float>(4, 1.0f));
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("different devices"), Error);
  CHECK_THROWS_WITH_AS(matmul(a, b), doctest::Contains("cuda"), Error);
  CHECK_THROWS_AS(Tensor::zeros({2}, DType::F64, Device::CUDA), Error);
}

TEST_CASE("CPU allocator: a freed large block is reused, small blocks and odd sizes still work") {
  // 40 MiB is past the C library's mmap threshold: the block is kept and handed out again.
  const void* first = nullptr;
  {
    Tensor big = Tensor::zeros({10, 1 << 20});  // 10 Mi floats = 40 MiB
    first = big.raw_data();
    big.data<float>()[0] = 3.0f;
  }
  Tensor again = Tensor::empty({10, 1 << 20});
  CHECK(again.raw_data() == first);
  CHECK(again.data<float>()[0] == 3.0f);  // the same memory, not cleared
  again = Tensor();
  // zeros() on a reused block still gives zeros.
  Tensor zeros = Tensor::zeros({10, 1 << 20});
  CHECK(zeros.raw_data() == first);
  CHECK(zeros.data<float>()[0] == 0.0f);
  zeros = Tensor();
  // A size in the same class (4 MiB steps at 40 MiB) shares the block; values written are read back.
  Tensor near = Tensor::full({10 * (1 << 20) - 7}, 2.0f);
  CHECK(near.raw_data() == first);
  CHECK(near.data<float>()[10 * (1 << 20) - 8] == 2.0f);
  Tensor small = Tensor::ones({3});
  CHECK(small.data<float>()[2] == 1.0f);
  near = Tensor();
  // Blocks from 1 MiB up are kept too (a 22 MB weight transpose per step faulted in every page).
  const void* mid = nullptr;
  {
    Tensor t = Tensor::zeros({6998, 800});
    mid = t.raw_data();
  }
  Tensor mid_again = Tensor::empty({6998, 800});
  CHECK(mid_again.raw_data() == mid);
  // Below 1 MiB the C library's own heap reuses memory without new pages.
  Tensor under = Tensor::ones({1000});
  CHECK(under.data<float>()[999] == 1.0f);
}

TEST_CASE("CUDA allocator: freeing memory it does not know (a double free) aborts with a message") {
  // In a child process: the parent checks that it died of SIGABRT and what it printed.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    std::signal(SIGABRT, SIG_DFL);  // not doctest's crash handler: the parent reports
    dup2(fds[1], STDERR_FILENO);
    int not_from_the_allocator = 0;
    cg::cuda_deallocate(&not_from_the_allocator);
    _exit(0);
  }
  close(fds[1]);
  std::string err;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK_MESSAGE(err.find("not allocated (double free") != std::string::npos, err);
}
