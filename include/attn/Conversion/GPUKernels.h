//===- GPUKernels.h - attn spec ops to GPU kernels --------------*- C++ -*-===//
//
/// \file
/// The GPU lowering: every attn spec op of a module becomes one gpu.func
/// kernel running its tiled algorithm, in the gpu.module `@attn_kernels`;
/// and the pipeline from there to PTX.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_GPUKERNELS_H
#define ATTN_CONVERSION_GPUKERNELS_H

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/TiledKernels.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include <string>

namespace mlir::gpu {
class GPUFuncOp;
} // namespace mlir::gpu

namespace mlir::attn {

/// The name of the gpu.module that holds the kernels.
inline constexpr llvm::StringLiteral kGPUModuleName = "attn_kernels";

struct GPUOptions {
  /// Keys per tile.
  int64_t blockKeys = 64;
  /// Threads (query rows) per block of a per-row kernel.
  int64_t threads = 128;
  /// Stores 16-bit float tensors as this type instead (bf16 or f16).
  Type halfStorage;
  /// Runs attn.attention on tensor cores where it can (canUseTensorCores):
  /// its flash tile program on the mma.sync strategy. False keeps every
  /// kernel on the one-thread-per-row path.
  bool tensorCores = true;
  /// Adds the index_errors argument (KernelArgRole::IndexErrors).
  bool checkIndices = false;
  /// The chip the kernels are for (isSupportedChip): the tile programs size
  /// their blocks for it where ptxas allocates registers differently.
  std::string chip = "sm_80";
};

/// One GPU kernel: its entry point, arguments and launch geometry. The
/// workspace argument, when present, is last, of type
/// memref<? x heads x workspaceWords x f32>.
struct GPUKernelInfo {
  std::string name;
  std::string specOpName;
  KernelSignature signature;
  GPULaunch launch;
  int64_t heads = 0;
};

/// Adds gpu.module @attn_kernels with one kernel `@<base name>_gpu` per attn
/// spec op of `module` (which becomes a gpu.container_module) and returns
/// what a launcher needs to know of each, in walk order.
FailureOr<SmallVector<GPUKernelInfo>>
lowerSpecOpsToGPU(ModuleOp module, const GPUOptions &options);

/// Whether the attn.attention `op`, with arguments stored as `signature`
/// says, can run on tensor cores: bf16 or f16 query, key and value, head
/// dims that are multiples of 16 up to 256, and a block mask's query blocks
/// (if any) a multiple of 64 rows.
bool canUseTensorCores(AttentionOp op, const KernelSignature &signature);

/// canUseTensorCores, with a located error on `op` when it cannot.
LogicalResult requireTensorCores(AttentionOp op,
                                 const KernelSignature &signature);

/// The tiles of the tensor-core attention kernel of `op`: query rows per
/// block of 4 warps and keys per key tile.
struct TensorCoreAttentionTiles {
  int64_t rows, keys;
};

/// Each warp holds its rows' scores (rows / 4 x keys) and accumulator
/// (rows / 4 x Dv) in registers, so the tiles are sized by Dv and by what
/// each score costs: where a score is the scaled dot product (no score_mod,
/// no mask region or block mask, no named mask but causal), 128 rows (each
/// K and V fragment read from shared memory feeds two MMAs) with 64 keys up
/// to Dv = 64 and 32 keys up to Dv = 128, the largest tiles ptxas fits in
/// 255 registers without spilling; otherwise 64 rows with 64 keys (32 when
/// Dv > 128). A block mask's key blocks fix the keys per tile.
TensorCoreAttentionTiles getTensorCoreAttentionTiles(AttentionOp op);

/// Emits the flash tile program of `op` (emitAttentionQueryBlock) on the
/// mma.sync strategy's layouts (mma.sync m16n8k16, ldmatrix, cp.async;
/// sm_80 and later) into the gpu.func `kernel` and sets `launch`: 4 warps
/// per block of query rows (getTensorCoreAttentionTiles; x: query blocks,
/// y: heads, z: sequences). Fails on an op that canUseTensorCores rejects.
LogicalResult buildAttentionTileKernel(OpBuilder &b, AttentionOp op,
                                       const Kernel &kernel, GPULaunch &launch);

/// Fixes the blocks of kernel `function` at [threads, 1, 1]: its
/// known_block_size, and the launch bound (`.maxntid`) ptxas plans its
/// registers for; with `everyRegister`, `.maxnreg 255` too (every register
/// a thread may have), for kernels ptxas would otherwise cap below what
/// they need and make spill.
void setKernelBlockSize(gpu::GPUFuncOp function, int64_t threads,
                        bool everyRegister);

/// Whether attn generates code for `chip`: sm_80 to sm_90a. The tensor-core
/// kernels need sm_80's mma.sync, ldmatrix and cp.async, and the PTX ISA
/// attn emits (8.0) does not reach the newer chips; LLVM aborts the process
/// on either mismatch, so every entry point checks the chip first.
bool isSupportedChip(StringRef chip);

/// The error for an unsupported `chip`, listing the supported ones.
std::string describeUnsupportedChip(StringRef chip);

/// Lowers the kernels of gpu.module @attn_kernels to NVVM and attaches the
/// NVVM target `chip` ("sm_80", "sm_90a", ...; isSupportedChip), ready for
/// gpu-module-to-binary.
void buildGPUToNVVMPipeline(OpPassManager &pm, StringRef chip);

/// Runs buildGPUToNVVMPipeline and serializes the kernels to PTX on a
/// module lowered by lowerSpecOpsToGPU; returns the PTX text, or fails with
/// an error on `module` for a chip isSupportedChip refuses. `onNVVM`, when
/// given, sees the module in the NVVM dialect, before serialization.
FailureOr<std::string>
translateKernelsToPTX(ModuleOp module, StringRef chip,
                      function_ref<void(ModuleOp)> onNVVM = {});

/// The NVVM target features a chip needs (the PTX ISA version).
std::string getPTXFeatures(StringRef chip);

/// Registers what translateKernelsToPTX needs in a context: the dialects
/// and ConvertToLLVM interfaces convert-gpu-to-nvvm uses, the NVVM target
/// and the translations to LLVM IR.
void registerGPUTargets(DialectRegistry &registry);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_GPUKERNELS_H
