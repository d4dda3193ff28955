#pragma once
// Control features of a modality: isotype and blank antibodies of a protein panel, which measure
// background rather than a protein. Translation scores into that modality average over the other
// features, and the controls are scored on their own. They come from --control-features
// NAME=feat1,feat2 or, when the flag does not name the modality, from its file's
// uns['control_features'] (a list of names).
#include <map>
#include <string>
#include <vector>

#include "omics/anndata.h"

namespace cg::multitask {

// --control-features entries as modality -> names (several entries for one modality add up).
// Throws naming the flag on a malformed entry or a name that is not a modality.
std::map<std::string, std::vector<std::string>> parse_control_features(
    const std::vector<std::string>& entries, const std::map<std::string, std::string>& modalities);

// The control features of modality `name` read from `file`: the flag's list if it names the
// modality, else uns['control_features'], else none. Every name must be one of `features`; an
// absent one is an error naming it, the modality and where the list came from, and so is a list
// that covers every feature.
std::vector<std::string> resolve_control_features(const std::map<std::string, std::vector<std::string>>& flag,
                                                  const std::string& name, const std::string& file,
                                                  const std::map<std::string, omics::UnsValue>& uns,
                                                  const std::vector<std::string>& features);

// Per feature of `features`: whether it is one of `controls`.
std::vector<bool> control_mask(const std::vector<std::string>& features, const std::vector<std::string>& controls);

}  // namespace cg::multitask
