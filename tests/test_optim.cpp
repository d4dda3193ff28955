// Optimizers (SGD, Adam, AdamW) against PyTorch, the fused segment table, state round trips,
// gradient clipping, flat parameter buffers, and end-to-end training (XOR, linear regression,
// determinism, allocation-free steady state on CUDA).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "autograd/allocator.h"
#include "autograd/flat_params.h"
#include "autograd/optim.h"
#include "tests/op_check.h"

using namespace cg;

namespace {

using Rows = std::vector<std::vector<double>>;

const std::vector<double> kStart = {0.5, -1.0, 2.0};
const Rows kGrads = {{0.1, -0.2, 0.3}, {-0.4, 0.5, 0.6}, {1.0, -0.1, 0.05}};

// Parameter values after each of three steps from kStart with the gradients kGrads, made once with
// PyTorch 1.13 in float64 (torch.set_default_dtype(torch.float64); p.grad = torch.tensor(g);
// opt.step()) and printed with '%.17g':
//   sgd_plain        SGD(lr=0.1)
//   sgd_momentum_wd  SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
//   sgd_nesterov_wd  SGD(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
//   adam_l2          Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
//   adamw            AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
// By hand, step 1 of sgd_momentum_wd: g = grad + 0.01 p = [0.105, -0.21, 0.32], buf = g,
// p = p - 0.1 g = [0.4895, -0.979, 1.968]. Step 1 of adam_l2: g = grad + 0.1 p = [0.15, -0.3, 0.5];
// m = 0.1 g, v = 0.001 g^2, so m/(1-0.9) = g and sqrt(v/(1-0.999)) = |g|: p moves by lr * sign(g)
// (less eps), giving [0.49, -0.99, 1.99]. AdamW step 1: p *= 1 - 0.01*0.1 first, then the same
// lr * sign(grad) move: 0.5 * 0.999 - 0.01 = 0.4895.
const Rows kSgdPlain = {{0.48999999999999999, -0.97999999999999998, 1.97},
                        {0.53000000000000003, -1.03, 1.9099999999999999},
                        {0.43000000000000005, -1.02, 1.905}};
const Rows kSgdMomentumWd = {{0.48949999999999999, -0.97899999999999998, 1.968},
                             {0.51956049999999998, -1.0091209999999999, 1.877232},
                             {0.44609538949999999, -1.0252207789999999, 1.788663568}};
const Rows kSgdNesterovWd = {{0.48004999999999998, -0.96009999999999995, 1.9392},
                             {0.54663290499999995, -1.03626581, 1.79559552},
                             {0.37995096198049993, -1.0397102239609999, 1.7091851365120001}};
const Rows kAdamL2 = {{0.4900000006666666, -0.99000000033333335, 1.9900000002},
                      {0.49421122910693693, -0.99194687226931688, 1.9801378452113545},
                      {0.48931964479969531, -0.99098274716973689, 1.971139079246647}};
const Rows kAdamW = {{0.48950000099999991, -0.98900000049999992, 1.9880000003333334},
                     {0.49460553574751281, -0.99243315302122326, 1.97636018027823},
                     {0.48985249653263113, -0.99363458702029916, 1.9664684887457022}};

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

Tensor make_param(const std::vector<double>& v, DType dtype, Device device) {
  Tensor t = dtype == DType::F64 ? Tensor::from_vector(v, {static_cast<int64_t>(v.size())})
                                 : Tensor::from_vector(std::vector<float>(v.begin(), v.end()),
                                                       {static_cast<int64_t>(v.size())}, device);
  t.set_requires_grad(true);
  return t;
}

// Runs three steps with the fixed gradients and checks every intermediate value.
void check_against_reference(const char* name, const MakeOptimizer& make, const Rows& expected, DType dtype,
                             Device device, double tol) {
  INFO(name << " on " << device_name(device) << " in " << dtype_name(dtype));
  Tensor p = make_param(kStart, dtype, device);
  p.set_grad(Tensor::zeros({3}, dtype, device));
  auto opt = make({p});
  for (size_t s = 0; s < kGrads.size(); ++s) {
    INFO("step " << s + 1);
    Tensor g = p.grad();  // copy into the existing gradient, as backward does
    g.copy_(make_param(kGrads[s], dtype, device));
    opt->step();
    const auto got = p.to_vector<double>();
    for (size_t i = 0; i < got.size(); ++i) CHECK(std::abs(got[i] - expected[s][i]) < tol);
  }
  CHECK(opt->step_count() == 3);
}

struct Reference {
  const char* name;
  MakeOptimizer make;
  const Rows* expected;
};

std::vector<Reference> references() {
  return {
      {"sgd_plain",
       [](std::vector<Tensor> p) {
         SgdOptions o;
         o.lr = 0.1;
         return std::make_unique<SGD>(p, o);
       },
       &kSgdPlain},
      {"sgd_momentum_wd",
       [](std::vector<Tensor> p) {
         SgdOptions o;
         o.lr = 0.1;
         o.momentum = 0.9;
         o.weight_decay = 0.01;
         return std::make_unique<SGD>(p, o);
       },
       &kSgdMomentumWd},
      {"sgd_nesterov_wd",
       [](std::vector<Tensor> p) {
         SgdOptions o;
         o.lr = 0.1;
         o.momentum = 0.9;
         o.weight_decay = 0.01;
         o.nesterov = true;
         return std::make_unique<SGD>(p, o);
       },
       &kSgdNesterovWd},
      {"adam_l2",
       [](std::vector<Tensor> p) {
         AdamOptions o;
         o.lr = 0.01;
         o.weight_decay = 0.1;
         return std::make_unique<Adam>(p, o);
       },
       &kAdamL2},
      {"adamw",
       [](std::vector<Tensor> p) {
         AdamOptions o;
         o.lr = 0.01;
         o.weight_decay = 0.1;
         return std::make_unique<AdamW>(p, o);
       },
       &kAdamW},
  };
}

double grad_norm(const std::vector<Tensor>& ps) {
  double s = 0;
  for (const Tensor& p : ps)
    for (double g : p.grad().to_vector<double>()) s += g * g;
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("optimizers: three steps match PyTorch (float64 and float32 on the CPU, CUDA)") {
  for (const Reference& r : references()) {
    check_against_reference(r.name, r.make, *r.expected, DType::F64, Device::CPU, 1e-13);
    check_against_reference(r.name, r.make, *r.expected, DType::F32, Device::CPU, 2e-6);
    if (cg::test::cuda_ready("optimizer reference values"))
      check_against_reference(r.name, r.make, *r.expected, DType::F32, Device::CUDA, 2e-6);
  }
}

TEST_CASE("optimizers: AdamW defaults to weight decay 0.01 like PyTorch; options are validated") {
  Tensor p = make_param(kStart, DType::F64, Device::CPU);
  CHECK(AdamW({p}).options().weight_decay == 0.01);
  CHECK(Adam({p}).options().weight_decay == 0);
  SgdOptions nesterov_without_momentum;
  nesterov_without_momentum.nesterov = true;
  CHECK_THROWS_AS(SGD({p}, nesterov_without_momentum), Error);
  AdamOptions bad_beta;
  bad_beta.beta1 = 1.0;
  CHECK_THROWS_AS(Adam({p}, bad_beta), Error);
  CHECK_THROWS_AS(Adam(std::vector<Tensor>{}), Error);
  Tensor q = make_param({1, 2}, DType::F32, Device::CPU);
  CHECK_THROWS_WITH_AS(Adam({p, q}), doctest::Contains("share one device and dtype"), Error);
  Tensor non_leaf = p * 2.0;
  CHECK_THROWS_WITH_AS(SGD({non_leaf}), doctest::Contains("leaf"), Error);
  Adam a({p});
  CHECK_THROWS_AS(a.set_lr(-1), Error);
  a.set_lr(0.5);
  CHECK(a.lr() == 0.5);
}

TEST_CASE("optimizers: adjacent flat parameters form one segment, and the result does not depend on it") {
  Generator gen(3);
  auto make_params = [&]() {
    std::vector<Tensor> ps = {gen.normal({4, 3}, Device::CPU, DType::F64), gen.normal({3}, Device::CPU, DType::F64),
                              gen.normal({3, 2}, Device::CPU, DType::F64)};
    for (Tensor& p : ps) p.set_requires_grad(true);
    return ps;
  };
  std::vector<Tensor> loose = make_params();
  std::vector<Tensor> flat_ps;
  for (const Tensor& p : loose) flat_ps.push_back(p.clone().set_requires_grad(true));
  FlatParams flat = flatten_parameters(flat_ps);
  for (Tensor& p : loose) p.set_grad(Tensor::zeros(p.shape(), DType::F64));

  AdamOptions o;
  o.lr = 0.05;
  o.weight_decay = 0.01;
  Adam loose_opt(loose, o), flat_opt(flat_ps, o);
  CHECK(flat_opt.num_segments() == 1);
  CHECK(loose_opt.num_segments() == 3);
  for (int step = 0; step < 5; ++step) {
    for (size_t i = 0; i < loose.size(); ++i) {
      Tensor g = gen.normal(loose[i].shape(), Device::CPU, DType::F64);
      loose[i].grad().copy_(g);
      flat_ps[i].grad().copy_(g);
    }
    loose_opt.step();
    flat_opt.step();
  }
  for (size_t i = 0; i < loose.size(); ++i) CHECK(loose[i].to_vector<double>() == flat_ps[i].to_vector<double>());
  // The flat buffer holds the updated values (the params are views into it).
  CHECK(flat.values.to_vector<double>()[0] == flat_ps[0].to_vector<double>()[0]);
}

TEST_CASE("optimizers: a parameter without a gradient is skipped; a new gradient is picked up") {
  Tensor a = make_param({1, 2}, DType::F64, Device::CPU);
  Tensor b = make_param({3, 4}, DType::F64, Device::CPU);
  SgdOptions o;
  o.lr = 0.5;
  o.weight_decay = 0.1;  // would move b even with a zero gradient
  SGD opt({a, b}, o);
  a.set_grad(Tensor::from_vector(std::vector<double>{1, 1}, {2}));
  opt.step();
  CHECK(a.to_vector<double>() == std::vector<double>{1 - 0.5 * (1 + 0.1), 2 - 0.5 * (1 + 0.2)});
  CHECK(b.to_vector<double>() == std::vector<double>{3, 4});
  b.set_grad(Tensor::from_vector(std::vector<double>{2, 2}, {2}));
  a.set_grad(Tensor());
  const auto a_before = a.to_vector<double>();
  opt.step();
  CHECK(a.to_vector<double>() == a_before);
  CHECK(b.to_vector<double>() == std::vector<double>{3 - 0.5 * (2 + 0.3), 4 - 0.5 * (2 + 0.4)});
}

TEST_CASE("optimizers: two optimizers may share parameters (UnitedNet's two Adams over one encoder)") {
  Tensor shared = make_param({1, 1}, DType::F64, Device::CPU);
  Tensor head = make_param({5}, DType::F64, Device::CPU);
  FlatParams flat = flatten_parameters({shared, head});
  SgdOptions o1, o2;
  o1.lr = 0.1;
  o2.lr = 0.01;
  o2.momentum = 0.9;
  SGD first({shared, head}, o1), second({shared}, o2);
  flat.grads.fill_(1.0);
  first.step();
  second.step();
  // shared: 1 - 0.1 - 0.01; head: only the first optimizer moves it.
  CHECK(std::abs(shared.to_vector<double>()[0] - 0.89) < 1e-15);
  CHECK(std::abs(head.to_vector<double>()[0] - 4.9) < 1e-15);
  second.zero_grad();  // zeroes only the shared parameter's gradient
  CHECK(shared.grad().to_vector<double>() == std::vector<double>{0, 0});
  CHECK(head.grad().to_vector<double>() == std::vector<double>{1});
  first.zero_grad();
  CHECK(flat.grads.to_vector<double>() == std::vector<double>{0, 0, 0});
}

TEST_CASE("optimizers: state export and import resume training exactly") {
  auto run = [](Optimizer& opt, Tensor& p, int steps, uint64_t seed) {
    Generator gen(seed);
    for (int s = 0; s < steps; ++s) {
      p.grad().copy_(gen.normal(p.shape(), Device::CPU, DType::F64));
      opt.step();
    }
  };
  for (int kind = 0; kind < 2; ++kind) {
    INFO((kind == 0 ? "Adam" : "SGD with momentum"));
    auto make = [kind](Tensor p) -> std::unique_ptr<Optimizer> {
      if (kind == 0) return std::make_unique<Adam>(std::vector<Tensor>{p});
      SgdOptions o;
      o.momentum = 0.9;
      return std::make_unique<SGD>(std::vector<Tensor>{p}, o);
    };
    Tensor p = make_param({0.1, 0.2, 0.3, 0.4}, DType::F64, Device::CPU);
    p.set_grad(Tensor::zeros({4}, DType::F64));
    auto opt = make(p);
    run(*opt, p, 3, 1);
    NamedTensors saved;
    for (const auto& [k, t] : opt->state()) saved.emplace_back(k, t.clone());
    CHECK(saved[0].first == "step");
    CHECK(saved[0].second.item() == 3);
    Tensor q = p.detach().clone().set_requires_grad(true);
    q.set_grad(Tensor::zeros({4}, DType::F64));
    auto resumed = make(q);
    resumed->load_state(saved);
    CHECK(resumed->step_count() == 3);
    run(*opt, p, 2, 2);
    run(*resumed, q, 2, 2);
    CHECK(p.to_vector<double>() == q.to_vector<double>());

    NamedTensors missing(saved.begin(), saved.end() - 1);
    CHECK_THROWS_WITH_AS(resumed->load_state(missing), doctest::Contains("missing entry"), Error);
    NamedTensors extra = saved;
    extra.emplace_back("bogus", Tensor::zeros({1}));
    CHECK_THROWS_WITH_AS(resumed->load_state(extra), doctest::Contains("unexpected entry 'bogus'"), Error);
    NamedTensors wrong_size = saved;
    wrong_size.back().second = Tensor::zeros({5}, DType::F64);
    CHECK_THROWS_WITH_AS(resumed->load_state(wrong_size), doctest::Contains(wrong_size.back().first.c_str()), Error);
    CHECK(resumed->step_count() == 5);  // a failed load changes nothing
  }
}

TEST_CASE("clip_grad_norm: really clips to max_norm and returns the norm before clipping") {
  Tensor a = make_param({0, 0}, DType::F64, Device::CPU);
  Tensor b = make_param({0}, DType::F32, Device::CPU);
  a.set_grad(Tensor::from_vector(std::vector<double>{3, 4}, {2}));
  b.set_grad(Tensor::from_vector(std::vector<float>{12}, {1}));
  CHECK(clip_grad_norm({a, b}, 100.0) == doctest::Approx(13.0).epsilon(1e-12));
  CHECK(a.grad().to_vector<double>() == std::vector<double>{3, 4});               // below max_norm: untouched
  CHECK(clip_grad_norm({a, b, a}, 1.0) == doctest::Approx(13.0).epsilon(1e-12));  // a counted once
  // After clipping the norm is max_norm (up to the 1e-6 in PyTorch's coefficient).
  CHECK(grad_norm({a, b}) == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(std::abs(a.grad().to_vector<double>()[0] - 3.0 / 13.0) < 1e-6);
  CHECK(clip_grad_norm({a, b}, 1.0) == doctest::Approx(1.0).epsilon(1e-6));

  // Non-finite: reported, not applied.
  b.grad().fill_(INFINITY);
  const auto before = a.grad().to_vector<double>();
  CHECK(std::isinf(clip_grad_norm({a, b}, 1.0)));
  CHECK(a.grad().to_vector<double>() == before);
  b.grad().fill_(NAN);
  CHECK(std::isnan(clip_grad_norm({a, b}, 1.0)));
  CHECK(a.grad().to_vector<double>() == before);

  Tensor no_grad = make_param({1}, DType::F64, Device::CPU);
  CHECK(clip_grad_norm({no_grad}, 1.0) == 0.0);
  CHECK_THROWS_AS(clip_grad_norm({a}, 0.0), Error);
}

TEST_CASE("clip_grad_norm: flat gradients on the CPU and CUDA") {
  for (Device dev : {Device::CPU, Device::CUDA}) {
    if (dev == Device::CUDA && !cg::test::cuda_ready("clip_grad_norm on CUDA")) continue;
    INFO(device_name(dev));
    Generator gen(9);
    std::vector<Tensor> ps = {gen.normal({300, 70}, dev), gen.normal({70}, dev), gen.normal({70, 5}, dev)};
    FlatParams flat = flatten_parameters(ps);
    Tensor g = gen.normal({flat.grads.numel()}, dev);
    flat.grads.copy_(g);
    double expected = 0;
    for (double v : g.to_vector<double>()) expected += v * v;
    expected = std::sqrt(expected);
    CHECK(clip_grad_norm(ps, 2.5) == doctest::Approx(expected).epsilon(1e-12));
    CHECK(grad_norm(ps) == doctest::Approx(2.5).epsilon(1e-6));
  }
}

TEST_CASE("flatten_parameters: keeps values, shares one storage, and backward accumulates into it") {
  Tensor w = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad(true);
  Tensor b = Tensor::from_vector(std::vector<double>{0.5, -0.5, 1.5}, {3}).set_requires_grad(true);
  Tensor holder = w;  // another handle to the same parameter follows the move
  FlatParams flat = flatten_parameters({w, b, w});
  CHECK(flat.offsets == std::vector<int64_t>{0, 6, 0});
  CHECK(flat.values.numel() == 9);
  CHECK(flat.values.to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6, 0.5, -0.5, 1.5});
  CHECK(w.storage() == flat.values.storage());
  CHECK(holder.storage() == flat.values.storage());
  CHECK(b.storage_offset() == 6);
  CHECK(w.to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(w.grad().storage() == flat.grads.storage());
  CHECK(flat.grads.to_vector<double>() == std::vector<double>(9, 0.0));

  // loss = sum(x w + b) for x = [[1, 1]]: dw = [[1,1,1],[1,1,1]], db = [1,1,1].
  Tensor x = Tensor::from_vector(std::vector<double>{1, 1}, {1, 2});
  sum(bias_add(matmul(x, w), b)).backward();
  CHECK(flat.grads.to_vector<double>() == std::vector<double>(9, 1.0));
  CHECK(w.grad().storage() == flat.grads.storage());  // accumulated in place, not replaced
  sum(bias_add(matmul(x, w), b)).backward();
  CHECK(flat.grads.to_vector<double>() == std::vector<double>(9, 2.0));
  flat.zero_grad();
  CHECK(b.grad().to_vector<double>() == std::vector<double>{0, 0, 0});

  // Writing through the flat buffer is seen by the parameter (it is a view).
  flat.values.fill_(7.0);
  CHECK(b.to_vector<double>() == std::vector<double>{7, 7, 7});
}

TEST_CASE("flatten_parameters: keeps an existing gradient and rejects bad parameter lists") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2}, {2}).set_requires_grad(true);
  a.set_grad(Tensor::from_vector(std::vector<double>{0.25, 0.75}, {2}));
  FlatParams flat = flatten_parameters({a});
  CHECK(flat.grads.to_vector<double>() == std::vector<double>{0.25, 0.75});
  Tensor f = Tensor::ones({2}).set_requires_grad(true);
  CHECK_THROWS_WITH_AS(flatten_parameters({a, f}), doctest::Contains("share one device and dtype"), Error);
  CHECK_THROWS_AS(flatten_parameters({}), Error);
  CHECK_THROWS_WITH_AS(flatten_parameters({a * 2.0}), doctest::Contains("leaf"), Error);
  CHECK_THROWS_AS(flatten_parameters({Tensor::from_indices({1, 2})}), Error);
  if (cg::test::cuda_ready("flatten_parameters across devices")) {
    Tensor c = Tensor::ones({2}, DType::F32, Device::CUDA);
    CHECK_THROWS_WITH_AS(flatten_parameters({f, c}), doctest::Contains("cuda"), Error);
  }
}

// ---- end-to-end training -------------------------------------------------------------------------

namespace {

struct Mlp {
  Tensor w1, b1, w2, b2;
  std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
  Tensor forward(const Tensor& x) const { return sigmoid(bias_add(matmul(tanh(bias_add(matmul(x, w1), b1)), w2), b2)); }
};

Mlp make_mlp(uint64_t seed, int hidden, Device dev) {
  Generator gen(seed);
  Mlp m;
  m.w1 = gen.normal({2, hidden}, dev);
  m.b1 = Tensor::zeros({hidden}, DType::F32, dev);
  m.w2 = gen.normal({hidden, 1}, dev) * (1.0 / std::sqrt(hidden));
  m.b2 = Tensor::zeros({1}, DType::F32, dev);
  for (Tensor* p : {&m.w1, &m.b1, &m.w2, &m.b2}) p->set_requires_grad(true);
  return m;
}

struct XorData {
  Tensor x, y;
};
XorData xor_data(Device dev) {
  return {Tensor::from_vector(std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, dev),
          Tensor::from_vector(std::vector<float>{0, 1, 1, 0}, {4, 1}, dev)};
}

// One training step: zero_grad, forward, MSE loss, backward, clip, Adam. Returns the loss.
double xor_step(const Mlp& m, const XorData& d, Optimizer& opt) {
  opt.zero_grad();
  Tensor loss = mean(square(m.forward(d.x) - d.y));
  loss.backward();
  clip_grad_norm(m.params(), 5.0);
  opt.step();
  return loss.item();
}

void train_xor(Device dev) {
  INFO("XOR on " << device_name(dev));
  Mlp m = make_mlp(42, 8, dev);
  FlatParams flat = flatten_parameters(m.params());
  AdamOptions o;
  o.lr = 0.05;
  Adam opt(m.params(), o);
  CHECK(opt.num_segments() == 1);
  XorData d = xor_data(dev);
  double loss = 1;
  for (int step = 0; step < 600; ++step) loss = xor_step(m, d, opt);
  CHECK(loss < 0.02);
  NoGradGuard no_grad;
  const auto pred = m.forward(d.x).to_vector<double>();
  const std::vector<double> target = {0, 1, 1, 0};
  for (size_t i = 0; i < 4; ++i) {
    INFO("input " << i << " predicted " << pred[i]);
    CHECK((pred[i] > 0.5) == (target[i] > 0.5));
  }
}

void train_linear_regression(Device dev) {
  INFO("linear regression on " << device_name(dev));
  // y = x W + b with known W [4, 2], b [2] and no noise: least squares recovers them exactly.
  const std::vector<float> w_true = {1.5f, -2.0f, 0.5f, 0.25f, -1.0f, 3.0f, 2.0f, -0.75f};
  const std::vector<float> b_true = {0.3f, -1.2f};
  Generator gen(11);
  Tensor x = gen.normal({256, 4}, dev);
  Tensor y = bias_add(matmul(x, Tensor::from_vector(w_true, {4, 2}, dev)), Tensor::from_vector(b_true, {2}, dev));
  Tensor w = Tensor::zeros({4, 2}, DType::F32, dev).set_requires_grad(true);
  Tensor b = Tensor::zeros({2}, DType::F32, dev).set_requires_grad(true);
  FlatParams flat = flatten_parameters({w, b});
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  SGD opt({w, b}, o);
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    mean(square(bias_add(matmul(x, w), b) - y)).backward();
    opt.step();
  }
  const auto w_got = w.to_vector<double>(), b_got = b.to_vector<double>();
  for (size_t i = 0; i < w_true.size(); ++i) CHECK(std::abs(w_got[i] - w_true[i]) < 1e-3);
  for (size_t i = 0; i < b_true.size(); ++i) CHECK(std::abs(b_got[i] - b_true[i]) < 1e-3);
}

}  // namespace

TEST_CASE("training: an MLP learns XOR (CPU, CUDA)") {
  train_xor(Device::CPU);
  if (cg::test::cuda_ready("XOR training on CUDA")) {
    const cg::test::ExactFloat32 exact;
    train_xor(Device::CUDA);
  }
}

TEST_CASE("training: linear regression recovers known weights (CPU, CUDA)") {
  train_linear_regression(Device::CPU);
  if (cg::test::cuda_ready("linear regression on CUDA")) {
    const cg::test::ExactFloat32 exact;  // weights are checked to 1e-3
    train_linear_regression(Device::CUDA);
  }
}

TEST_CASE("training: the same seed gives bit-identical parameters after 100 CPU steps") {
  auto run = []() {
    Mlp m = make_mlp(7, 16, Device::CPU);
    FlatParams flat = flatten_parameters(m.params());
    AdamW opt(m.params());
    XorData d = xor_data(Device::CPU);
    for (int step = 0; step < 100; ++step) xor_step(m, d, opt);
    return flat.values.to_vector<float>();
  };
  const auto first = run(), second = run();
  REQUIRE(first.size() == second.size());
  CHECK(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)) == 0);
  // And training did change them (the comparison is not between two untouched inits).
  Mlp init = make_mlp(7, 16, Device::CPU);
  CHECK(init.w1.to_vector<float>()[0] != first[0]);
}

TEST_CASE("training: a steady-state CUDA step makes no cudaMalloc") {
  if (!cg::test::cuda_ready("steady-state allocations on CUDA")) return;
  Mlp m = make_mlp(5, 32, Device::CUDA);
  FlatParams flat = flatten_parameters(m.params());
  Adam opt(m.params());
  XorData d = xor_data(Device::CUDA);
  uint64_t mallocs_at_10 = 0;
  for (int step = 1; step <= 20; ++step) {
    xor_step(m, d, opt);
    if (step == 10) mallocs_at_10 = cuda_allocator_stats().device_mallocs;
  }
  CHECK(cuda_allocator_stats().device_mallocs == mallocs_at_10);
}
