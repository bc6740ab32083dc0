//===- attn-opt.cpp - attn's mlir-opt driver ------------------------------===//
//
/// \file
/// An mlir-opt style driver: parses, verifies, runs passes on and prints attn
/// specs. It registers the attn dialect and passes, and every upstream
/// dialect, extension and pass, since attn lowers through many of them
/// (scf, linalg, vector, gpu, nvgpu, nvvm, llvm).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/Pipelines.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::attn::registerAttnPasses();
  mlir::attn::registerAttnPipelines();

  mlir::DialectRegistry registry;
  registry.insert<mlir::attn::AttnDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::attn::registerGPUTargets(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "attn optimizer driver: verify, transform and print attn "
      "specs\n",
      registry));
}
