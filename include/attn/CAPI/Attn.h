/*===- Attn.h - attn's C API --------------------------------------*- C -*-===*\
|*                                                                            *|
|* Compiles attn specs (MLIR text) to kernels and runs them on tensors the    *|
|* caller owns: device memory for the CUDA backend, host memory for the CPU   *|
|* backend. The Python package calls it through ctypes, so everything         *|
|* structured crosses as JSON text.                                           *|
|*                                                                            *|
|* Strings the API returns are allocated by it and released with              *|
|* attnFreeString. Functions that can fail take `char **error`; on failure    *|
|* they return NULL (or non-zero) and store a message there.                  *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTN_C_ATTN_H
#define ATTN_C_ATTN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, in the order of mlir::attn::runtime::ElementType. */
enum AttnDType {
  ATTN_F32 = 0,
  ATTN_F64 = 1,
  ATTN_F16 = 2,
  ATTN_BF16 = 3,
  ATTN_I1 = 4,
  ATTN_I8 = 5,
  ATTN_I32 = 6,
  ATTN_I64 = 7,
};

/* A tensor the caller owns. Strides are in elements. */
typedef struct AttnTensor {
  /* Device address (CUDA backend) or host pointer (CPU backend). */
  void *data;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
  const int64_t *strides;
  /* CUDA device ordinal; ignored by the CPU backend. */
  int32_t device;
} AttnTensor;

typedef struct AttnKernel AttnKernel;

/* The compiler's version: part of every cache key. */
const char *attnVersion(void);

void attnFreeString(char *string);

/* Parses and verifies `spec` without compiling it; NULL on success, else the
 * diagnostics (file:line:col: error: ...). `name` labels the locations. */
char *attnVerify(const char *spec, const char *name);

/* Compiles the one attn op of `spec`. `options` is "key=value" pairs
 * separated by spaces: backend=cpu|cuda (default cuda), chip=sm_90a,
 * half_storage=bf16|f16, tensor_cores=0|1, check_indices=0|1 (kernels that
 * record out-of-range reads of captured tensors in an index_errors argument
 * the caller allocates, zeroed, and reads after the launch). With
 * backend=cuda, chip is one of sm_80 to sm_90a, and
 * `image` may hold the PTX a previous compile of the same spec and options
 * produced (attnKernelImage), which skips code generation. */
AttnKernel *attnCompile(const char *spec, const char *name, const char *options,
                        const char *image, char **error);

void attnKernelDestroy(AttnKernel *kernel);

/* JSON: {"op", "entry", "backend", "chip", "args": [{"name", "role",
 * "dtype", "shape" (-1 for run-time sizes), "dims" (their names: "B",
 * "Nq", "Nk", "QB" or ""), "output"}], "workspace_words", "heads",
 * "threads", "block_queries", "shared_bytes"}. */
char *attnKernelDescribe(const AttnKernel *kernel);

/* The PTX of a CUDA kernel (empty for the CPU backend). */
char *attnKernelImage(const AttnKernel *kernel);

/* Shapes of every argument (JSON list of lists, signature order) for the
 * problem sizes in `sizes`, JSON {"B", "Nq", "Nk", "shapes": {name:
 * [...]}}; an error names what contradicts the spec. */
char *attnKernelResolveShapes(const AttnKernel *kernel, const char *sizes,
                              char **error);

/* The words [*first, *end) of each (sequence, head)'s slice of the
 * workspace that must be zero before a run with `batch` sequences of
 * `numQueries` tokens: the flags of a chunk-parallel kernel (the rest is
 * written before it is read). Empty (*first == *end) for other kernels. */
void attnKernelWorkspaceFlags(const AttnKernel *kernel, int64_t batch,
                              int64_t numQueries, int64_t *first, int64_t *end);

/* Runs the kernel on `args` (all arguments in signature order, outputs and
 * the workspace included) on `stream` (a CUstream; NULL for the default
 * stream). Every argument is checked before anything runs: count, dtype,
 * shape, strides, alignment, device. Returns 0 on success. */
int attnKernelRun(AttnKernel *kernel, const AttnTensor *args, int numArgs,
                  void *stream, char **error);

#ifdef __cplusplus
}
#endif

#endif /* ATTN_C_ATTN_H */
