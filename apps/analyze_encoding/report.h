#pragma once
// What a run leaves in its folder: table.md / table.csv (one row per encoding), metrics.json,
// outliers.md / outliers.csv, and the pictures (similarity_<encoding>.svg, knn.svg,
// batch_mixing.svg).
#include <nlohmann/json.hpp>
#include <vector>

#include "apps/analyze_encoding/config.h"
#include "apps/analyze_encoding/data.h"
#include "apps/analyze_encoding/study.h"
#include "apps/common/run_folder.h"

namespace cg::encoding {

// The markdown table (also printed to stdout by the app).
std::string table_markdown(const std::vector<EncodingResult>& results, const CellData& d);

void write_outputs(const apps::RunFolder& run, const Config& c, const CellData& d,
                   const std::vector<EncodingResult>& results, const nlohmann::json& header);

}  // namespace cg::encoding
