#pragma once
// Engine errors: cg::Error, whose message names the op and what was expected/found, and
// CG_CHECK. Both are defined in base/error.h, the root of every exception cellgrad throws
// (omics::DataError derives from it too); this header keeps the engine's include short.
#include "base/error.h"
