#pragma once
// One encoding, studied: build it, stream every pair's similarity once (histogram, neighbours,
// outliers), and turn that into the measures of the table.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/analyze_encoding/config.h"
#include "apps/analyze_encoding/data.h"
#include "apps/analyze_encoding/deg_question.h"
#include "apps/analyze_encoding/encodings.h"
#include "omics/pair_histogram.h"
#include "omics/similarity_measures.h"

namespace cg::encoding {

struct EncodingResult {
  std::string name, similarity;
  nlohmann::json metrics;  // this encoding's part of metrics.json (the table reads it)
  omics::PairHistogram histogram{2};
  std::vector<omics::CellPair> closest_other, farthest_same;  // the outliers, strongest first
};

// `degs`: empty without --condition-key. `position`: "encoding 2/5" for progress lines.
EncodingResult study_encoding(const EncodingEntry& entry, const CellData& d, const Config& c,
                              const std::vector<TypeDegs>& degs, const std::string& position);

}  // namespace cg::encoding
