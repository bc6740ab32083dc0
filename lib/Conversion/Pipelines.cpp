//===- Pipelines.cpp - attn pass pipelines --------------------------------===//
//
/// \file
/// The host pipeline: clean up the kernels, expand strided memref metadata,
/// then convert every dialect the kernels use to LLVM. Math ops without an
/// LLVM intrinsic (tanh, erf, ...) become libm calls, which the JIT resolves
/// in the host process.
///
/// The GPU pipeline: the same clean-up on the kernels of @attn_kernels,
/// then convert-gpu-to-nvvm (math ops become libdevice calls, linked in by
/// gpu-module-to-binary), the NVVM target attached, and LLVM's NVPTX
/// back end writes the PTX.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Pipelines.h"
#include "attn/Conversion/GPUKernels.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/Dialect/Tile/IR/TileDialect.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::attn::buildCPUToLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createAttnTileToLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

/// The chips attn compiles for, oldest first.
static constexpr StringRef kSupportedChips[] = {"sm_80", "sm_86", "sm_87",
                                                "sm_89", "sm_90", "sm_90a"};

bool mlir::attn::isSupportedChip(StringRef chip) {
  return llvm::is_contained(kSupportedChips, chip);
}

std::string mlir::attn::describeUnsupportedChip(StringRef chip) {
  return (llvm::Twine("attn generates code for ") +
          llvm::join(ArrayRef<StringRef>(kSupportedChips), ", ") + ", not '" +
          chip +
          "' (the tensor-core kernels need sm_80 or later, and attn "
          "emits PTX ISA 8.0)")
      .str();
}

std::string mlir::attn::getPTXFeatures(StringRef chip) {
  // sm_90a needs PTX ISA 8.0; older chips are happy with it too, and every
  // CUDA 12+ driver reads it.
  (void)chip;
  return "+ptx80";
}

void mlir::attn::buildGPUToNVVMPipeline(OpPassManager &pm, StringRef chip) {
  GpuNVVMAttachTargetOptions target;
  target.moduleMatcher = kGPUModuleName.str();
  target.chip = chip.str();
  target.features = getPTXFeatures(chip);
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  // The tile programs' ops: the SIMT kernels', then the tensor-core
  // kernels' on the mma.sync strategy.
  kernels.addPass(createAttnTileToSimtPass());
  kernels.addPass(createAttnTileToMmaSyncPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createLoopInvariantCodeMotionPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  // The tensor-core kernels' nvgpu ops, with the index width used below.
  kernels.addPass(createAttnConvertNVGPUToNVVMPass());
  // 32-bit index arithmetic: a kernel keeps a dozen memrefs' sizes and
  // strides live across its loops, and 64-bit ones make the one-thread
  // recurrent kernels spill. The runtime refuses tensors whose element
  // offsets do not fit (checkArguments).
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 32;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
}

FailureOr<std::string>
mlir::attn::translateKernelsToPTX(ModuleOp module, StringRef chip,
                                  function_ref<void(ModuleOp)> onNVVM) {
  if (!isSupportedChip(chip))
    return module.emitError() << describeUnsupportedChip(chip);
  PassManager nvvm(module.getContext());
  buildGPUToNVVMPipeline(nvvm, chip);
  if (failed(nvvm.run(module)))
    return failure();
  if (onNVVM)
    onNVVM(module);
  PassManager pm(module.getContext());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(pm.run(module)))
    return failure();
  auto binaryOp = module.lookupSymbol<gpu::BinaryOp>(kGPUModuleName);
  if (!binaryOp || binaryOp.getObjects().size() != 1)
    return module.emitError() << "no PTX was produced for @" << kGPUModuleName;
  auto object = cast<gpu::ObjectAttr>(binaryOp.getObjects()[0]);
  return object.getObject().getValue().str();
}

void mlir::attn::registerGPUTargets(DialectRegistry &registry) {
  registry.insert<cf::ControlFlowDialect, index::IndexDialect, gpu::GPUDialect,
                  NVVM::NVVMDialect, LLVM::LLVMDialect, nvgpu::NVGPUDialect,
                  vector::VectorDialect>();
  // convert-gpu-to-nvvm lowers every dialect through its ConvertToLLVM
  // interface.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

void mlir::attn::registerKernelDialects(DialectRegistry &registry) {
  registry.insert<AttnDialect, tile::TileDialect, arith::ArithDialect,
                  func::FuncDialect, math::MathDialect, memref::MemRefDialect,
                  scf::SCFDialect, tensor::TensorDialect>();
  registerGPUTargets(registry);
}

namespace {
struct PTXPipelineOptions : public PassPipelineOptions<PTXPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("Target chip: sm_80, sm_90a, ..."),
                           llvm::cl::init("sm_90a")};
  Option<std::string> halfStorage{
      *this, "half-storage",
      llvm::cl::desc("Store 16-bit float tensors as bf16 or f16"),
      llvm::cl::init("")};
  Option<int64_t> blockKeys{
      *this, "block-keys", llvm::cl::desc("Keys per tile"), llvm::cl::init(64)};
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("Threads per block of a SIMT kernel"),
                          llvm::cl::init(128)};
  Option<bool> checkIndices{
      *this, "check-indices",
      llvm::cl::desc("Record out-of-range reads of captured tensors"),
      llvm::cl::init(false)};
};
} // namespace

void mlir::attn::registerAttnPipelines() {
  PassPipelineRegistration<>(
      "attn-cpu-to-llvm",
      "Lower attn kernels to the LLVM dialect for the host CPU",
      [](OpPassManager &pm) { buildCPUToLLVMPipeline(pm); });
  // Registered with an error handler, so that an unsupported chip is an
  // error rather than LLVM aborting in the NVPTX back end.
  registerPassPipeline(
      "attn-to-ptx",
      "Lower attn spec ops to GPU kernels and serialize them to PTX "
      "(gpu.binary @attn_kernels)",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        PTXPipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        if (!isSupportedChip(options.chip))
          return errorHandler(describeUnsupportedChip(options.chip));
        AttnLowerToGPUPassOptions lower;
        lower.blockKeys = options.blockKeys;
        lower.threads = options.threads;
        lower.halfStorage = options.halfStorage;
        lower.checkIndices = options.checkIndices;
        pm.addPass(createAttnLowerToGPUPass(lower));
        buildGPUToNVVMPipeline(pm, options.chip);
        GpuModuleToBinaryPassOptions binary;
        binary.compilationTarget = "isa";
        pm.addPass(createGpuModuleToBinaryPass(binary));
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optionsHandler) {
        optionsHandler(PTXPipelineOptions());
      });
}
