#pragma once
// An app started by mpirun -np K (data-parallel training: nn::fit shares every batch among the
// processes and averages their gradients). Rank 0 is the app as usual; every other process
// trains in lockstep but stays silent (its stdout and stderr go to /dev/null, so a bad input
// is one line from the whole group, not K) and writes its run into a private scratch folder
// that is removed when it exits, so the user's --out is written once.
#include <string>

namespace cg::apps {

// Joins the group mpirun started (MPI initialised, before any CUDA work); nothing in a single
// process. An app that cannot train data-parallel yet (`supported` false) refuses mpirun with
// more than one process in one line.
void join_process_group(const char* app, bool supported);
// Whether this process writes the user's outputs (rank 0, or a single process).
bool writes_outputs();
// `out` for the writing process; for the others a fresh scratch folder under the temporary
// directory (TMPDIR), removed at exit.
std::string own_output_folder(const std::string& out);

}  // namespace cg::apps
