//===- attn-opt.cpp - attn's mlir-opt driver ------------------------------===//
//
/// \file
/// An mlir-opt style driver: parses, verifies, runs passes on and prints attn
/// specs. It registers the attn dialect and passes, and every upstream
/// dialect, extension and pass, since attn lowers through many of them
/// (scf, linalg, vector, gpu, nvgpu, nvvm, llvm). The input is checked
/// for text the upstream parser would crash on (attn/.../ParseSpec.h)
/// before mlir-opt's usual processing.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/Pipelines.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Tile/IR/TileDialect.h"
#include "attn/Dialect/Attn/IR/ParseSpec.h"
#include "attn/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  mlir::registerAllPasses();
  mlir::attn::registerAttnPasses();
  mlir::attn::registerAttnPipelines();

  mlir::DialectRegistry registry;
  registry.insert<mlir::attn::AttnDialect, mlir::attn::tile::TileDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::attn::registerGPUTargets(registry);

  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv,
      "attn optimizer driver: verify, transform and print attn specs\n",
      registry);
  auto config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &message);
  if (!input) {
    llvm::errs() << message << "\n";
    return 1;
  }
  // Text the upstream parser would crash on is reported instead.
  {
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(input->getMemBufferRef(),
                                         /*RequiresNullTerminator=*/false),
        llvm::SMLoc());
    mlir::MLIRContext context;
    mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
    if (mlir::failed(mlir::attn::checkParserSafety(sourceMgr, &context)))
      return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &message);
  if (!output) {
    llvm::errs() << message << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
