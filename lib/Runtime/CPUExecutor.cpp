//===- CPUExecutor.cpp - Run attn kernels on the host CPU -----------------===//
//
/// \file
/// The kernels are lowered with `buildCPUToLLVMPipeline`, translated to LLVM
/// IR and JIT-compiled with -O2. A kernel is called through its C-interface
/// wrapper, `_mlir_ciface_<name>`, which takes one memref descriptor pointer
/// per argument.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/CPUExecutor.h"
#include "attn/Conversion/Pipelines.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;
using namespace mlir::attn::runtime;

CPUExecutor::CPUExecutor(std::unique_ptr<ExecutionEngine> engine)
    : engine(std::move(engine)) {}

CPUExecutor::~CPUExecutor() = default;

llvm::Expected<std::unique_ptr<CPUExecutor>>
CPUExecutor::create(ModuleOp module) {
  static bool targetsInitialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)targetsInitialized;

  MLIRContext *context = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  context->appendDialectRegistry(registry);

  PassManager pm(context);
  attn::buildCPUToLLVMPipeline(pm);
  if (failed(pm.run(module)))
    return llvm::createStringError("lowering the kernels to LLVM failed");

  // The options hold a function_ref: the transformer must outlive create().
  auto optimize = makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0,
                                            /*targetMachine=*/nullptr);
  ExecutionEngineOptions options;
  options.transformer = optimize;
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return engine.takeError();
  return std::unique_ptr<CPUExecutor>(new CPUExecutor(std::move(*engine)));
}

llvm::Error CPUExecutor::prepare(llvm::StringRef name) {
  auto function = engine->lookupPacked(("_mlir_ciface_" + name).str());
  if (!function)
    return function.takeError();
  return llvm::Error::success();
}

llvm::Error CPUExecutor::run(llvm::StringRef name,
                             llvm::MutableArrayRef<HostTensor> args) {
  // One descriptor per argument; the wrapper takes a pointer to each, and
  // invokePacked takes a pointer to each of those pointers.
  SmallVector<SmallVector<int64_t>> descriptors;
  descriptors.reserve(args.size());
  for (HostTensor &arg : args)
    descriptors.push_back(arg.getMemRefDescriptor());
  SmallVector<void *> pointers;
  for (auto &descriptor : descriptors)
    pointers.push_back(descriptor.data());
  SmallVector<void *> packed;
  for (void *&pointer : pointers)
    packed.push_back(&pointer);
  return engine->invokePacked(("_mlir_ciface_" + name).str(), packed);
}
