# cellgrad build. Sources are found by wildcard, so adding a file never needs an edit here.
#   make            build the library, the apps and the test binary
#   make test       install missing Debian packages, build, run every test (CPU; CUDA tests skip without a GPU)
#   make run        the main job
#   make bench      kernel microbenchmarks and peer comparisons (not tests)
#   make sanitize   the test suite built with ASan + UBSan (CPU only, build-sanitize/) and run
#   make compile_commands   compile_commands.json for clangd / clang-tidy
#   make CUDA=0     force a CPU-only build even when nvcc is present
#   make CUDA_ARCH="80 90 100"   choose the GPU architectures (default: 80 90)

BUILD     ?= build
CXX       ?= g++
# -march=native is safe: every machine (CI included) builds from source for itself. AVX-512 is
# left out: GCC 12.2's SLP vectorizer with AVX-512 miscompiles constant nested initializer lists
# here (std::vector<std::vector<int64_t>>{{1, 1, 0, 0}, ...} reads back {1, 1, 1, 1} at -O2/-O3;
# tests/test_build_sanity.cpp checks it), and AVX2 code paths are the mature ones.
OPT       ?= -O3 -march=native -mno-avx512f
CXXFLAGS  += -std=c++17 $(OPT) -fopenmp -Wall -Wextra -Wno-unused-parameter -Wno-maybe-uninitialized -I. \
             -isystem /usr/include/eigen3 -isystem /usr/include/hdf5/serial -MMD -MP
# No code reads errno after a math function; without it, sqrt inlines and loops vectorise (Adam).
CXXFLAGS  += -fno-math-errno
LDLIBS    += -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lcrypto -fopenmp -lpthread

# CPU GEMM through OpenBLAS when libopenblas-dev is installed (make OPENBLAS=0: Eigen's GEMM).
OPENBLAS  ?= $(if $(and $(wildcard /usr/include/x86_64-linux-gnu/cblas.h),$(wildcard /usr/lib/x86_64-linux-gnu/libopenblas.so)),1,0)
ifeq ($(OPENBLAS),1)
  CXXFLAGS  += -DCELLGRAD_OPENBLAS
  LDLIBS    += -lopenblas
endif

# Data-parallel training across processes (mpirun) when Open MPI's headers are installed
# (make deps installs libopenmpi-dev and openmpi-bin; make MPI=0 builds without).
MPI       ?= $(if $(wildcard /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h),1,0)
ifeq ($(MPI),1)
  CXXFLAGS  += -DCELLGRAD_MPI -isystem /usr/lib/x86_64-linux-gnu/openmpi/include
  LDLIBS    += -L/usr/lib/x86_64-linux-gnu/openmpi/lib -lmpi
endif

# ---- CUDA detection ------------------------------------------------------------------------
NVCC      ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
CUDA      ?= $(if $(NVCC),1,0)
CUDA_ARCH ?= 80 90
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
ifeq ($(CUDA),1)
  CXXFLAGS  += -DCELLGRAD_CUDA -I$(CUDA_HOME)/include
  NVCCFLAGS += -std=c++17 -O3 -I. -DCELLGRAD_CUDA -MMD -MP --expt-relaxed-constexpr \
               $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) -Xcompiler -fopenmp
  LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart
  CU_SRCS   := $(wildcard kernels/cuda/*.cu)
endif

LIB_SRCS  := $(wildcard kernels/cpu/*.cpp autograd/*.cpp nn/*.cpp omics/*.cpp apps/common/*.cpp)
TEST_SRCS := $(wildcard tests/*.cpp)
# apps/common/ is shared app code (in the library); every other folder under apps/ is a binary.
APP_DIRS  := $(filter-out common,$(patsubst apps/%/,%,$(sort $(dir $(wildcard apps/*/*.cpp)))))
BENCH_SRCS:= $(wildcard bench/*.cpp)

LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o) $(CU_SRCS:%.cu=$(BUILD)/obj/%.cu.o)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libcellgrad.a
TEST_BIN  := $(BUILD)/bin/cellgrad_tests
APP_BINS  := $(APP_DIRS:%=$(BUILD)/bin/%)
BENCH_BINS:= $(BENCH_SRCS:bench/%.cpp=$(BUILD)/bin/bench_%)

.PHONY: all test run bench deps deps-bench clean fuzz
all: $(LIB) $(APP_BINS) $(TEST_BIN)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(TEST_BIN): $(TEST_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(TEST_OBJS) $(LIB) $(LDLIBS) -o $@

# One binary per folder under apps/ (an explicit rule each, generated).
define app_rule
$(BUILD)/bin/$(1): $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard apps/$(1)/*.cpp)) $(LIB)
	@mkdir -p $$(@D)
	$$(CXX) $$(CXXFLAGS) $$(filter %.o,$$^) $(LIB) $$(LDLIBS) -o $$@
endef
$(foreach a,$(APP_DIRS),$(eval $(call app_rule,$(a))))

$(BUILD)/bin/bench_%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $< $(LIB) $(LDLIBS) -o $@

# ---- set-up ------------------------------------------------------------------------------------
# Installs only what is missing, so it costs a few dpkg queries on a ready machine.
DEB_PKGS   := g++ make libhdf5-dev libeigen3-dev doctest-dev libcli11-dev nlohmann-json3-dev \
              python3-numpy python3-scipy python3-anndata libopenblas-dev libssl-dev libopenmpi-dev openmpi-bin
BENCH_PKGS := python3-torch libopenblas0-pthread
define install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef
deps:
	$(call install_missing,$(DEB_PKGS))
deps-bench: deps
	$(call install_missing,$(BENCH_PKGS))

# ---- the commands the README shows -------------------------------------------------------------
# The build inside test/run uses every core (a serial build of everything takes ~10 minutes on
# 2 cores, ~6 in parallel); JOBS=1 for a serial one.
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(JOBS) all
	CELLGRAD_BIN_DIR=$(BUILD)/bin bash scripts/run_tests.sh $(TEST_BIN) $(TEST_ARGS)

run: deps
	$(MAKE) -j$(JOBS) all
	./scripts/main_job.sh $(BUILD)

bench: deps-bench
	$(MAKE) all $(BENCH_BINS)
	./bench/run_all.sh $(BUILD)

FUZZ_SECONDS ?= 120
# clang's libFuzzer and sanitizers (Debian's clang ships them).
FUZZ_PKGS  := clang
fuzz: deps
	$(call install_missing,$(FUZZ_PKGS))
	./tests/fuzz/run_fuzzers.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- sanitizers --------------------------------------------------------------------------------
# make sanitize: the whole test suite (apps included: the app tests run the sanitized binaries)
# built with AddressSanitizer (+ LeakSanitizer) and UndefinedBehaviorSanitizer in its own folder,
# CPU only, then run. Any report ends the process with a non-zero exit. No suppressions are
# needed (HDF5, OpenMP and OpenBLAS report nothing here). On 2 idle cores: build ~14 min, run ~4.
SANITIZE_BUILD ?= build-sanitize
SANITIZE_FLAGS ?= -fsanitize=address,undefined -fno-omit-frame-pointer
SANITIZE_ENV   ?= ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
                  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
.PHONY: sanitize sanitize-build
sanitize-build: deps
	$(MAKE) -j$(JOBS) BUILD=$(SANITIZE_BUILD) CUDA=0 OPT="-O1 -g $(SANITIZE_FLAGS)" all
sanitize: sanitize-build
	$(SANITIZE_ENV) CELLGRAD_BIN_DIR=$(SANITIZE_BUILD)/bin bash scripts/run_tests.sh $(SANITIZE_BUILD)/bin/cellgrad_tests $(TEST_ARGS)

# ---- compile_commands.json ---------------------------------------------------------------------
# For clangd / clang-tidy: the compile command of every source, from a dry run of a full build
# (make -nB), with no network and no extra tool. Written at the repository root (git-ignored).
.PHONY: compile_commands
compile_commands:
	$(MAKE) --no-print-directory -nB BUILD=$(BUILD) all | python3 scripts/compile_commands.py > compile_commands.json.tmp
	mv compile_commands.json.tmp compile_commands.json

# ---- GPU bundle (scripts/gpu_check.sh on a lent GPU machine) ------------------------------------
# make gpu-bundle: everything the GPU machine lacks, built here into $(GPU_BUILD)/ (git-ignored):
# the library, apps, test and bench binaries for a portable CPU (x86-64-v3, not -march=native),
# device code for sm_$(GPU_CUDA_ARCH) with -lineinfo (compute-sanitizer names source lines), an
# RPATH of $ORIGIN/../lib; then scripts/gpu_bundle.sh packs the binaries and their shared-library
# closure (HDF5 and its dependencies, OpenBLAS, libgomp, libcrypto...; not glibc, libstdc++,
# libgcc or CUDA's) into $(GPU_BUILD)/bundle/payload.tar.xz beside the small data the checks read.
# $(GPU_BUILD)/bundle is the one folder to carry (README: "Checking on a GPU machine").
GPU_BUILD     ?= build-gpu
GPU_CUDA_ARCH ?= 90
GPU_OPT       ?= -O3 -march=x86-64-v3 -mno-avx512f
GPU_DATA      ?= ../shared/data
GPU_BENCH_BINS = $(BENCH_SRCS:bench/%.cpp=$(GPU_BUILD)/bin/bench_%)
.PHONY: gpu-bundle gpu-bundle-build
# The RPATH goes through a gcc response file so that $ORIGIN reaches the linker unexpanded;
# --disable-new-dtags makes it DT_RPATH, which also serves the libraries' own dependencies.
gpu-bundle-build:
	@test -n "$(NVCC)" || { echo "gpu-bundle: nvcc not found (needed to build the CUDA kernels)" >&2; exit 1; }
	@mkdir -p $(GPU_BUILD)
	printf '%s\n' '-Wl,--disable-new-dtags,-rpath,$$ORIGIN/../lib' > $(GPU_BUILD)/rpath.rsp
	NVCCFLAGS=-lineinfo LDLIBS=@$(GPU_BUILD)/rpath.rsp $(MAKE) -j$(JOBS) BUILD=$(GPU_BUILD) CUDA=1 \
	  CUDA_ARCH="$(GPU_CUDA_ARCH)" OPT="$(GPU_OPT)" all $(GPU_BENCH_BINS)
gpu-bundle: gpu-bundle-build
	./scripts/gpu_bundle.sh $(GPU_BUILD) $(GPU_DATA)
