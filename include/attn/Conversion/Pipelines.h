//===- Pipelines.h - attn pass pipelines ------------------------*- C++ -*-===//
//
/// \file
/// Pass pipelines from attn kernels to targets.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_PIPELINES_H
#define ATTN_CONVERSION_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::attn {

/// Lowers attn kernels (scf, memref, arith and math on strided memrefs) to
/// the LLVM dialect for the host CPU.
void buildCPUToLLVMPipeline(OpPassManager &pm);

/// Registers what a tool that parses specs and lowers them to CPU or GPU
/// kernels needs: the attn dialect, the dialects of the kernels and
/// registerGPUTargets.
void registerKernelDialects(DialectRegistry &registry);

/// Registers `attn-cpu-to-llvm` for attn-opt.
void registerAttnPipelines();

} // namespace mlir::attn

#endif // ATTN_CONVERSION_PIPELINES_H
