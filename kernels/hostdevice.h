#pragma once
// Lets one inline function serve both the CPU kernels and the CUDA kernels, so the math of an
// op is written once and CPU/CUDA results can only differ by floating-point rounding.
#ifdef __CUDACC__
#define CG_HD __host__ __device__ __forceinline__
#else
#define CG_HD inline
#endif
