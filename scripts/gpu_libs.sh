#!/usr/bin/env bash
# The shared-library closure of built binaries, for the GPU bundle (make gpu-bundle) and its check
# (scripts/gpu_check.sh). Libraries the GPU machine is expected to have are left out: glibc's,
# libstdc++, libgcc_s and CUDA's (the driver's libcuda, the toolkit's cudart/cuBLAS/...).
#   gpu_libs.sh copy  LIB_DIR BIN...   copy every other library ldd resolves into LIB_DIR
#   gpu_libs.sh check LIB_DIR BIN...   one line per problem: "missing BIN LIB" (not found),
#                                      "outside BIN LIB PATH" (found, but not in LIB_DIR and not a
#                                      system library), "cuda-missing BIN LIB" (a CUDA library not
#                                      found: the machine's toolkit decides); exit 1 on missing or
#                                      outside, 0 otherwise
set -u
mode=${1:?usage: gpu_libs.sh copy|check LIB_DIR BIN...}
lib_dir=${2:?usage: gpu_libs.sh copy|check LIB_DIR BIN...}
shift 2
system_re='^(linux-vdso|linux-gate|ld-linux|libc\.so|libm\.so|libmvec|libpthread|libdl\.so|librt\.so|libresolv|libutil\.so|libnsl|libanl|libBrokenLocale|libstdc\+\+|libgcc_s)'
cuda_re='^(libcuda\.so|libcudart|libcublas|libcublasLt|libcufft|libcurand|libcusolver|libcusparse|libcudnn|libnvrtc|libnvJitLink|libnvidia|libnccl)'

# "soname path" per line for one binary; path "not-found" when unresolved.
deps() {
  ldd "$1" 2>/dev/null | awk '
    /=> not found/ { print $1, "not-found"; next }
    /=>/           { print $1, $3; next }
    NF >= 1        { n = $1; sub(/.*\//, "", n); print n, $1 }'
}

status=0
[ "$mode" = copy ] && mkdir -p "$lib_dir"
lib_real=$(cd "$lib_dir" 2>/dev/null && pwd -P || echo "$lib_dir")
for bin in "$@"; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  while read -r name path; do
    base=${name##*/}
    if [[ $base =~ $system_re ]]; then continue; fi
    if [[ $base =~ $cuda_re ]]; then
      [ "$path" = not-found ] && [ "$mode" = check ] && echo "cuda-missing $(basename "$bin") $base"
      continue
    fi
    if [ "$path" = not-found ]; then
      echo "missing $(basename "$bin") $base"
      status=1
      continue
    fi
    if [ "$mode" = copy ]; then
      [ -e "$lib_dir/$base" ] || cp -L "$path" "$lib_dir/$base"
    else
      dir_real=$(cd "$(dirname "$path")" && pwd -P)
      if [ "$dir_real" != "$lib_real" ]; then
        echo "outside $(basename "$bin") $base $path"
        status=1
      fi
    fi
  done < <(deps "$bin")
done
exit $status
