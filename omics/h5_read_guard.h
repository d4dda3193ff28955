#pragma once
// A corrupt file can crash or hang libhdf5 itself (HDF5 1.10's H5HG_read on variable-length
// strings, H5C_protect on absurd sizes, H5T__bit_copy: found by the h5ad fuzzer), killing the app
// with a signal instead of an error, and no check in our code can run before that crash. So the
// apps read each input file once in a forked child first: when the child finishes, the parent
// reads for real; when the child meets a DataError, the parent throws the same error without
// reading again; when the child dies from a signal or runs past a time limit, the parent throws
// one DataError naming the file, the object the child was reading and what happened.
//
// Cost: the file is read twice (the second read mostly from the page cache); see README for the
// measured times on the shared files. CELLGRAD_READ_CHECK=0 turns the guard off (a trusted file
// too big to read twice); CELLGRAD_READ_CHECK_SECONDS sets the time limit (default 120 s plus
// 1 s per 20 MB of file).
#include <functional>
#include <string>
#include <utility>

namespace cg::omics {

// Runs `read` in a forked child and reports what became of it (see above). `what` names the file
// in messages. Returns normally only when the child's read finished without error.
void check_read_survives(const std::string& path, const std::function<void()>& read);

// The guarded read: `read` runs in the child, then (when it survived) in this process.
template <class Read> auto read_guarded(const std::string& path, Read&& read) -> decltype(read()) {
  check_read_survives(path, [&] { (void)read(); });
  return read();
}

}  // namespace cg::omics
