# cuda.mk - builds kernels/cuda/*.cu into build/cuda/libbitttt_cuda.a.
# Called by the premake build (a pre-build step) when nvcc exists, from the repo root.
# Targets sm_75..sm_90 as real code plus compute_90 PTX for newer GPUs.
NVCC ?= nvcc
CUDA_ARCHS := -gencode arch=compute_75,code=sm_75 -gencode arch=compute_80,code=sm_80 \
              -gencode arch=compute_86,code=sm_86 -gencode arch=compute_89,code=sm_89 \
              -gencode arch=compute_90,code=[sm_90,compute_90]
# Host code gets the project's warnings; device code is checked by ptxas.
NVCC_FLAGS := -O3 -std=c++17 -Xcompiler -fPIC,-Wall,-Wextra -I. $(CUDA_ARCHS) -Wno-deprecated-gpu-targets
SRC := $(wildcard kernels/cuda/*.cu)
OBJ := $(patsubst kernels/cuda/%.cu,build/cuda/%.o,$(SRC))
HDR := $(wildcard base/*.h kernels/cuda/*.h kernels/cuda/*.cuh)

build/cuda/libbitttt_cuda.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $(OBJ)

build/cuda/%.o: kernels/cuda/%.cu $(HDR) kernels/cuda/cuda.mk
	@mkdir -p build/cuda
	$(NVCC) $(NVCC_FLAGS) -c $< -o $@
