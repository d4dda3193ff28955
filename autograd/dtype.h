#pragma once
// Element types and devices. float32 is the working type; float64 exists on the CPU for
// finite-difference gradient checks; int32 holds indices (gather, argmax) and is never differentiated.
#include <cstddef>
#include <cstdint>
#include <string>

namespace cg {

enum class DType : uint8_t { F32, F64, I32 };
enum class Device : uint8_t { CPU, CUDA };

inline size_t dtype_size(DType t) { return t == DType::F64 ? 8 : 4; }
inline const char* dtype_name(DType t) { return t == DType::F32 ? "float32" : t == DType::F64 ? "float64" : "int32"; }
inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

// True when this build has CUDA support compiled in and a GPU is usable right now.
bool cuda_available();

// Deterministic CUDA results (apps' --deterministic): ops that would accumulate with atomics (the
// backward of gather_rows) sum in a fixed order instead, the CPU's, at some cost. Reductions and
// cuBLAS are deterministic anyway, and so is everything on the CPU. Off by default.
void set_deterministic(bool on);
bool deterministic();

}  // namespace cg
