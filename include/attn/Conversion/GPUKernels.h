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

/// Lowers the kernels of gpu.module @attn_kernels to NVVM and attaches the
/// NVVM target `chip` ("sm_80", "sm_90a", ...), ready for
/// gpu-module-to-binary.
void buildGPUToNVVMPipeline(OpPassManager &pm, StringRef chip);

/// Runs buildGPUToNVVMPipeline and serializes the kernels to PTX on a
/// module lowered by lowerSpecOpsToGPU; returns the PTX text. `onNVVM`, when
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
