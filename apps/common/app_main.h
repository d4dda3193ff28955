#pragma once
// Every app's main(): run the body, and turn any exception into one clear line on stderr and
// a non-zero exit (the RunFolder destructor has already removed partial outputs by then).
#include <cstdio>
#include <exception>
#include <functional>

#include "apps/common/app_cli.h"

namespace cg::apps {

inline int run_app(const char* app, const std::function<int()>& body) {
  prepare_app_process();
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", app, e.what());
    return 1;
  }
}

}  // namespace cg::apps
