#pragma once
// Whether the tests can start processes with mpirun here, and the command prefix they use.
// A build without MPI, a missing mpirun, or an mpirun that cannot start two processes on this
// machine (a container without the transports Open MPI needs) is a visible skip, so a failure
// after this check is cellgrad's, not the machine's.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "autograd/process_group.h"

namespace cg::test {

// Environment for every process mpirun starts: Open MPI's own start-up allocations are reported
// as leaks by LeakSanitizer (not ours), and single-copy shared memory needs ptrace rights that
// containers often lack.
inline const char* kMpiEnv = "ASAN_OPTIONS=detect_leaks=0 OMPI_MCA_btl_vader_single_copy_mechanism=none ";
// mpirun with 2 processes, exporting those variables (plus `exported`, e.g. "-x TMPDIR").
inline std::string mpirun_2(const std::string& exported = "") {
  return std::string(kMpiEnv) +
         "mpirun --allow-run-as-root --oversubscribe -np 2 -x ASAN_OPTIONS -x OMPI_MCA_btl_vader_single_copy_mechanism " +
         exported + " ";
}

inline bool mpirun_ready(const std::string& what) {
  const std::string why = process_group_unavailable_reason();
  if (!why.empty() || std::system("command -v mpirun >/dev/null 2>&1") != 0) {
    MESSAGE("skipped " << what << ": " << (why.empty() ? "mpirun is not installed" : why));
    return false;
  }
  static int works = -1;  // one probe per test process
  static std::string probe_output;
  if (works < 0) {
    const std::string log = "/tmp/cellgrad_mpirun_probe_" + std::to_string(::getpid()) + ".log";
    works = std::system((mpirun_2() + "true > " + log + " 2>&1").c_str()) == 0;
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    probe_output = ss.str();
    std::remove(log.c_str());
  }
  if (!works) MESSAGE("skipped " << what << ": mpirun cannot start 2 processes here: " << probe_output.substr(0, 400));
  return works == 1;
}

}  // namespace cg::test
