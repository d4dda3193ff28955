#pragma once
// Every app's main(): run the body, and turn any exception into one clear line on stderr and
// a non-zero exit (the RunFolder destructor has already removed partial outputs by then).
#include <cstdio>
#include <exception>
#include <functional>

#include "apps/common/app_cli.h"
#include "apps/common/process_role.h"

namespace cg::apps {

// data_parallel: the app trains across processes under mpirun (apps/common/process_role.h);
// the others refuse mpirun with more than one process.
inline int run_app(const char* app, const std::function<int()>& body, bool data_parallel = false) {
  prepare_app_process();
  try {
    join_process_group(app, data_parallel);
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", app, e.what());
    return 1;
  }
}

}  // namespace cg::apps
