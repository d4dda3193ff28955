#include "nn/mlp.h"

#include "autograd/error.h"

namespace cg::nn {

std::shared_ptr<Sequential> make_mlp(const MLPConfig& c, Generator& init_gen, std::shared_ptr<Generator> dropout_gen) {
  CG_CHECK(c.widths.size() >= 2,
           "MLP: expected at least an input and an output width, found " << c.widths.size() << " widths");
  for (int64_t w : c.widths) CG_CHECK(w > 0, "MLP: widths must be positive, found " << w);
  const bool needs_gen = c.dropout > 0 || c.input_dropout > 0;
  CG_CHECK(!needs_gen || dropout_gen, "MLP: dropout needs a generator");
  auto seq = std::make_shared<Sequential>();
  if (c.input_dropout > 0) seq->append(std::make_shared<Dropout>(c.input_dropout, dropout_gen));
  const size_t layers = c.widths.size() - 1;
  for (size_t i = 0; i < layers; ++i) {
    const int64_t in = c.widths[i], out = c.widths[i + 1];
    seq->append(std::make_shared<Linear>(in, out, init_gen, c.init));
    const bool last = i + 1 == layers;
    if (last && c.plain_output) {
      if (c.output_activation != Activation::None)
        seq->append(std::make_shared<ActivationLayer>(c.output_activation, c.leaky_slope));
      break;
    }
    if (c.dropout > 0 && !c.dropout_after_activation) seq->append(std::make_shared<Dropout>(c.dropout, dropout_gen));
    if (c.batch_norm) seq->append(std::make_shared<BatchNorm1d>(out));
    if (c.layer_norm) seq->append(std::make_shared<LayerNorm>(out));
    const Activation act = last ? c.output_activation : c.activation;
    if (act != Activation::None) seq->append(std::make_shared<ActivationLayer>(act, c.leaky_slope));
    if (c.dropout > 0 && c.dropout_after_activation) seq->append(std::make_shared<Dropout>(c.dropout, dropout_gen));
  }
  return seq;
}

}  // namespace cg::nn
