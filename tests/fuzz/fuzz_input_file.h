#pragma once
// The fuzz targets' input as a file: the bytes written to a per-process temporary path, which the
// readers then open as an .h5ad. False when the file cannot be written (the input is skipped).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

inline bool write_fuzz_input(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

// "/tmp/cellgrad_fuzz_<tag>_<pid><suffix>"
inline std::string fuzz_temp_path(const std::string& tag, const std::string& suffix = ".h5ad") {
  return "/tmp/cellgrad_fuzz_" + tag + "_" + std::to_string(::getpid()) + suffix;
}
