//===- Attn.cpp - attn's C API --------------------------------------------===//
//
/// \file
/// The C API of include/attn/CAPI/Attn.h: one kernel object holds the parsed
/// spec (argument shapes are resolved against it), its signature, and
/// either the CPU JIT or the PTX with its launch geometry. CUDA kernels are
/// loaded into each device's context on first use, through one process-wide
/// driver and kernel cache.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/Attn.h"
#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Conversion/Pipelines.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/ParseSpec.h"
#include "attn/Runtime/CPUExecutor.h"
#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/CudaExecutor.h"
#include "attn/Runtime/KernelLauncher.h"
#include "attn/Runtime/KernelShapes.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;

#ifndef ATTN_VERSION
#define ATTN_VERSION "0.0.0"
#endif

static char *copyString(llvm::StringRef text) {
  char *out = static_cast<char *>(std::malloc(text.size() + 1));
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

static void setError(char **error, llvm::StringRef message) {
  if (error)
    *error = copyString(message);
}

namespace {
/// Compile options parsed from "key=value key=value".
struct CompileOptions {
  bool cuda = true;
  std::string chip = "sm_90a";
  std::string halfStorage;
  bool tensorCores = true;
  bool checkIndices = false;

  std::string str() const {
    return (llvm::Twine("backend=") + (cuda ? "cuda" : "cpu") +
            " chip=" + chip + " half_storage=" + halfStorage +
            " tensor_cores=" + (tensorCores ? "1" : "0") +
            " check_indices=" + (checkIndices ? "1" : "0"))
        .str();
  }
};
} // namespace

static llvm::Expected<CompileOptions> parseOptions(llvm::StringRef text) {
  CompileOptions options;
  llvm::SmallVector<llvm::StringRef> words;
  text.split(words, ' ', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef word : words) {
    auto [key, value] = word.split('=');
    if (key == "backend" && (value == "cpu" || value == "cuda"))
      options.cuda = value == "cuda";
    else if (key == "chip" && isSupportedChip(value))
      options.chip = value.str();
    else if (key == "chip")
      return llvm::createStringError(describeUnsupportedChip(value));
    else if (key == "half_storage" &&
             (value == "bf16" || value == "f16" || value.empty()))
      options.halfStorage = value.str();
    else if (key == "tensor_cores" && (value == "0" || value == "1"))
      options.tensorCores = value == "1";
    else if (key == "check_indices" && (value == "0" || value == "1"))
      options.checkIndices = value == "1";
    else
      return llvm::createStringError(
          "unknown or invalid compile option '" + word.str() +
          "' (backend=cpu|cuda, chip=sm_XY, half_storage=bf16|f16, "
          "tensor_cores=0|1, check_indices=0|1)");
  }
  return options;
}

struct AttnKernel {
  std::unique_ptr<MLIRContext> context;
  /// The spec as parsed; `spec` is its attn op.
  OwningOpRef<ModuleOp> module;
  Operation *spec = nullptr;
  CompileOptions options;
  /// The arguments the caller passes, in order (the workspace last for a
  /// CUDA kernel that has one).
  KernelSignature signature;
  std::string entry;
  // CPU backend.
  std::unique_ptr<CPUExecutor> executor;
  // CUDA backend.
  std::string ptx;
  GPUKernelInfo gpu;
  DeviceKernel device;
  /// What launches check every argument against (the workspace included),
  /// and the kernel's key in the per-device caches; computed once, not per
  /// launch.
  SmallVector<ArgumentSpec> argumentSpecs;
  KernelKey cacheKey;
};

namespace {
/// The process's CUDA driver and one kernel cache per device, created on
/// the first CUDA run.
struct CudaState {
  std::mutex mutex;
  std::unique_ptr<CudaDriver> driver;
  std::map<int, std::unique_ptr<KernelCache>> caches;

  ~CudaState() { caches.clear(); }
};
} // namespace

static CudaState &getCudaState() {
  static CudaState *state = new CudaState; // lives as long as the process
  return *state;
}

/// Parses and verifies `text`, collecting the diagnostics into `messages`.
static OwningOpRef<ModuleOp> parseSpec(MLIRContext &context,
                                       llvm::StringRef text,
                                       llvm::StringRef name,
                                       std::string &messages) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, name.empty() ? "spec" : name),
      llvm::SMLoc());
  llvm::raw_string_ostream os(messages);
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
  return parseSpec(sourceMgr, &context);
}

namespace {
/// Collects the diagnostics emitted in `context` while it lives, as
/// "location: message" lines, for the error a compile returns.
struct DiagnosticCollector {
  std::string messages;
  llvm::raw_string_ostream os{messages};
  ScopedDiagnosticHandler handler;

  explicit DiagnosticCollector(MLIRContext &context)
      : handler(&context, [this](Diagnostic &diagnostic) {
          os << diagnostic.getLocation() << ": " << diagnostic << "\n";
          return success();
        }) {}
};
} // namespace

static std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  registerKernelDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

extern "C" const char *attnVersion(void) { return ATTN_VERSION; }

extern "C" void attnFreeString(char *string) { std::free(string); }

extern "C" char *attnVerify(const char *spec, const char *name) {
  std::unique_ptr<MLIRContext> context = makeContext();
  std::string messages;
  OwningOpRef<ModuleOp> module =
      parseSpec(*context, spec, name ? name : "", messages);
  if (module)
    return nullptr;
  return copyString(messages.empty() ? "the spec does not parse" : messages);
}

static llvm::Error compileCPU(AttnKernel &kernel) {
  MLIRContext &context = *kernel.context;
  OwningOpRef<ModuleOp> lowered = kernel.module->clone();
  PassManager pm(&context);
  pm.addPass(createAttnLowerToTilesPass(AttnLowerToTilesPassOptions{
      /*blockQueries=*/64, /*blockKeys=*/64, /*floatStorage=*/"f32",
      kernel.options.checkIndices}));
  {
    DiagnosticCollector diagnostics(context);
    if (failed(pm.run(*lowered)))
      return llvm::createStringError("lowering for the CPU failed: " +
                                     diagnostics.messages);
  }
  for (auto func : llvm::make_early_inc_range(lowered->getOps<func::FuncOp>()))
    if (!func->hasAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName()))
      func.erase();
  auto executor = CPUExecutor::create(*lowered);
  if (!executor)
    return executor.takeError();
  kernel.executor = std::move(*executor);
  kernel.signature = getKernelSignature(
      kernel.spec, StorageTypes{Float32Type::get(&context), {}},
      kernel.options.checkIndices);
  kernel.entry = getKernelBaseName(kernel.spec) + "_tiled";
  return kernel.executor->prepare(kernel.entry);
}

static llvm::Error compileCUDA(AttnKernel &kernel, const char *image) {
  MLIRContext &context = *kernel.context;
  OwningOpRef<ModuleOp> lowered = kernel.module->clone();
  GPUOptions options;
  options.tensorCores = kernel.options.tensorCores;
  options.chip = kernel.options.chip;
  options.checkIndices = kernel.options.checkIndices;
  if (!kernel.options.halfStorage.empty())
    options.halfStorage = kernel.options.halfStorage == "bf16"
                              ? Type(BFloat16Type::get(&context))
                              : Type(Float16Type::get(&context));
  DiagnosticCollector diagnostics(context);
  auto kernels = lowerSpecOpsToGPU(*lowered, options);
  if (failed(kernels) || kernels->size() != 1)
    return llvm::createStringError("lowering to a GPU kernel failed: " +
                                   diagnostics.messages);
  kernel.gpu = (*kernels)[0];
  kernel.signature = kernel.gpu.signature;
  kernel.entry = kernel.gpu.name;
  if (image && *image) {
    kernel.ptx = image;
  } else {
    auto ptx = translateKernelsToPTX(*lowered, kernel.options.chip);
    if (failed(ptx))
      return llvm::createStringError("generating PTX failed: " +
                                     diagnostics.messages);
    kernel.ptx = std::move(*ptx);
  }
  auto device = describeDeviceKernel(kernel.gpu);
  if (!device)
    return device.takeError();
  kernel.device = std::move(*device);
  auto specs =
      describeArguments(kernel.signature, kernel.gpu.launch.alignedRows);
  if (!specs)
    return specs.takeError();
  kernel.argumentSpecs = std::move(*specs);
  kernel.cacheKey = {fingerprintSpec(kernel.ptx), kernel.options.str(),
                     kernel.options.chip, kernel.entry};
  return llvm::Error::success();
}

extern "C" AttnKernel *attnCompile(const char *spec, const char *name,
                                   const char *options, const char *image,
                                   char **error) {
  auto parsed = parseOptions(options ? options : "");
  if (!parsed) {
    setError(error, llvm::toString(parsed.takeError()));
    return nullptr;
  }
  auto kernel = std::make_unique<AttnKernel>();
  kernel->options = *parsed;
  kernel->context = makeContext();
  std::string messages;
  kernel->module =
      parseSpec(*kernel->context, spec, name ? name : "", messages);
  if (!kernel->module) {
    setError(error, messages.empty() ? "the spec does not parse" : messages);
    return nullptr;
  }
  SmallVector<Operation *> specs = collectSpecOps(*kernel->module);
  if (specs.size() != 1) {
    setError(error, llvm::formatv("the spec holds {0} attn ops; a kernel is "
                                  "compiled from exactly one",
                                  specs.size())
                        .str());
    return nullptr;
  }
  kernel->spec = specs[0];
  if (failed(checkSpecRegions(kernel->spec))) {
    setError(error, "the spec's regions cannot be inlined into a kernel");
    return nullptr;
  }
  llvm::Error failure =
      kernel->options.cuda ? compileCUDA(*kernel, image) : compileCPU(*kernel);
  if (failure) {
    setError(error, llvm::toString(std::move(failure)));
    return nullptr;
  }
  return kernel.release();
}

extern "C" void attnKernelDestroy(AttnKernel *kernel) { delete kernel; }

extern "C" char *attnKernelDescribe(const AttnKernel *kernel) {
  llvm::json::Array args;
  for (const KernelArg &arg : kernel->signature.args) {
    llvm::json::Array shape, dims;
    int64_t rank = arg.type.getRank();
    for (int64_t d = 0; d < rank; ++d) {
      shape.push_back(arg.type.isDynamicDim(d) ? int64_t(-1)
                                               : arg.type.getDimSize(d));
      dims.push_back(getDimensionName(arg.role, rank, d).str());
    }
    args.push_back(llvm::json::Object{
        {"name", arg.name},
        {"role", getKernelArgRoleName(arg.role).str()},
        {"dtype", int64_t(*toElementType(arg.type.getElementType()))},
        {"shape", std::move(shape)},
        {"dims", std::move(dims)},
        {"output", arg.isOutput}});
  }
  bool cuda = kernel->options.cuda;
  llvm::json::Object description{
      {"op", kernel->spec->getName().getStringRef().str()},
      {"entry", kernel->entry},
      {"backend", cuda ? "cuda" : "cpu"},
      {"chip", cuda ? kernel->options.chip : ""},
      {"options", kernel->options.str()},
      {"args", std::move(args)},
      {"heads", getHeadShape(kernel->spec).heads},
      {"workspace_words", cuda ? kernel->gpu.launch.workspaceWords : 0},
      {"segment_words", cuda ? kernel->gpu.launch.segmentWords : 0},
      {"threads", cuda ? kernel->gpu.launch.threads : 0},
      {"block_queries", cuda ? kernel->gpu.launch.blockQueries : 0},
      {"shared_bytes", cuda ? kernel->gpu.launch.sharedBytes : 0}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(description));
  return copyString(text);
}

extern "C" char *attnKernelImage(const AttnKernel *kernel) {
  return copyString(kernel->ptx);
}

/// The caller's signature: the kernel's without its workspace.
static KernelSignature callerSignature(const KernelSignature &signature) {
  KernelSignature caller = signature;
  if (!caller.args.empty() &&
      caller.args.back().role == KernelArgRole::Workspace)
    caller.args.pop_back();
  return caller;
}

/// Shapes of every argument, the workspace's ([B, heads, words]) included.
static llvm::Expected<SmallVector<SmallVector<int64_t>>>
resolveShapes(const AttnKernel &kernel, const ProblemSizes &sizes) {
  auto shapes = resolveArgumentShapes(kernel.spec,
                                      callerSignature(kernel.signature), sizes);
  if (!shapes)
    return shapes.takeError();
  if (kernel.signature.args.size() > shapes->size()) {
    SmallVector<int64_t> workspace = {
        sizes.batch.value_or(0), getHeadShape(kernel.spec).heads,
        getLaunchWorkspaceWords(
            kernel.device.launch, kernel.gpu.launch.workspaceWords,
            sizes.batch.value_or(0), sizes.numQueries.value_or(0))};
    // The caller allocates it from this shape.
    if (llvm::Expected<int64_t> bytes =
            getSizeInBytes(ElementType::F32, workspace);
        !bytes)
      return llvm::createStringError("workspace: " +
                                     llvm::toString(bytes.takeError()));
    shapes->push_back(std::move(workspace));
  }
  return shapes;
}

extern "C" void attnKernelWorkspaceFlags(const AttnKernel *kernel,
                                         int64_t batch, int64_t numQueries,
                                         int64_t *first, int64_t *end) {
  std::pair<int64_t, int64_t> flags{0, 0};
  if (kernel->options.cuda)
    flags = getLaunchWorkspaceFlags(kernel->device.launch, batch, numQueries);
  *first = flags.first;
  *end = flags.second;
}

extern "C" char *attnKernelResolveShapes(const AttnKernel *kernel,
                                         const char *sizesJson, char **error) {
  auto parsed = llvm::json::parse(sizesJson);
  if (!parsed) {
    setError(error, "sizes: " + llvm::toString(parsed.takeError()));
    return nullptr;
  }
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object) {
    setError(error, "sizes must be a JSON object");
    return nullptr;
  }
  ProblemSizes sizes;
  for (auto [key, size] :
       {std::pair{"B", &sizes.batch}, std::pair{"Nq", &sizes.numQueries},
        std::pair{"Nk", &sizes.numKeys}}) {
    const llvm::json::Value *value = object->get(key);
    if (!value || value->kind() == llvm::json::Value::Null)
      continue;
    // getAsInteger refuses fractions and integers beyond int64_t.
    std::optional<int64_t> integer = value->getAsInteger();
    if (!integer) {
      setError(error, "sizes: " + std::string(key) +
                          " must be an integer that fits in 64 bits");
      return nullptr;
    }
    *size = *integer;
  }
  if (const llvm::json::Object *named = object->getObject("shapes"))
    for (const auto &[name, value] : *named) {
      SmallVector<int64_t> shape;
      const llvm::json::Array *dims = value.getAsArray();
      for (const llvm::json::Value &dim : dims ? *dims : llvm::json::Array())
        if (std::optional<int64_t> size = dim.getAsInteger())
          shape.push_back(*size);
      if (!dims || shape.size() != dims->size()) {
        setError(error, "sizes: shapes." + name.str() +
                            " must be a list of integers that fit in 64 bits");
        return nullptr;
      }
      sizes.argumentShapes[name.str()] = shape;
    }
  auto shapes = resolveShapes(*kernel, sizes);
  if (!shapes) {
    setError(error, llvm::toString(shapes.takeError()));
    return nullptr;
  }
  llvm::json::Array out;
  for (const SmallVector<int64_t> &shape : *shapes)
    out.push_back(llvm::json::Array(shape));
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(out));
  return copyString(text);
}

/// The problem sizes a call's arguments state: B, Nq and Nk from the query
/// and key, and every input's shape by name.
static ProblemSizes sizesOf(const KernelSignature &signature,
                            llvm::ArrayRef<AttnTensor> args) {
  ProblemSizes sizes;
  for (auto [arg, tensor] : llvm::zip(signature.args, args)) {
    llvm::ArrayRef<int64_t> shape(tensor.shape, tensor.rank);
    if (arg.role == KernelArgRole::Query && shape.size() == 4) {
      sizes.batch = shape[0];
      sizes.numQueries = shape[2];
    }
    if (arg.role == KernelArgRole::Key && shape.size() == 4)
      sizes.numKeys = shape[2];
    if (!arg.isOutput)
      sizes.argumentShapes[arg.name] = SmallVector<int64_t>(shape);
  }
  return sizes;
}

static llvm::Error runCPU(AttnKernel &kernel, llvm::ArrayRef<AttnTensor> args,
                          llvm::ArrayRef<SmallVector<int64_t>> expected) {
  // The kernel runs on copies of the arguments: refuse what this machine
  // cannot hold before copying any (each byte count is known to fit).
  llvm::Expected<int64_t> totalBytes =
      getArgumentBytes(kernel.signature, expected);
  if (!totalBytes)
    return totalBytes.takeError();
  if (llvm::Error error = checkHostMemory(
          *totalBytes, "copying the arguments for the CPU kernel"))
    return error;
  SmallVector<HostTensor> host;
  for (auto [arg, tensor, shape] :
       llvm::zip(kernel.signature.args, args, expected)) {
    auto type = toElementType(arg.type.getElementType());
    if (tensor.dtype != int32_t(*type))
      return llvm::createStringError(
          arg.name + ": dtype " + std::to_string(tensor.dtype) +
          ", the CPU kernel needs " + std::to_string(int(*type)));
    llvm::ArrayRef<int64_t> given(tensor.shape, tensor.rank);
    if (given != llvm::ArrayRef<int64_t>(shape))
      return llvm::createStringError(
          arg.name + ": shape is " + formatShape(given) +
          ", the kernel needs " + formatShape(shape));
    auto created = HostTensor::create(*type, shape);
    if (!created)
      return llvm::createStringError(arg.name + ": " +
                                     llvm::toString(created.takeError()));
    HostTensor copy = std::move(*created);
    llvm::SmallVector<int64_t> strides = copy.getStrides();
    for (int64_t d = 0; d < tensor.rank; ++d)
      if (shape[d] > 1 && tensor.strides[d] != strides[d])
        return llvm::createStringError(
            arg.name + ": the CPU backend takes contiguous tensors only");
    if (!tensor.data && copy.getSizeInBytes())
      return llvm::createStringError(arg.name + ": null data pointer");
    if (copy.getSizeInBytes())
      std::memcpy(copy.getData(), tensor.data, copy.getSizeInBytes());
    host.push_back(std::move(copy));
  }
  auto attention = dyn_cast<AttentionOp>(kernel.spec);
  if (attention && attention.getBlockSize()) {
    auto sizes = sizesOf(kernel.signature, args);
    if (llvm::Error error =
            checkBlockMask(kernel.signature, host, sizes.numKeys.value_or(0),
                           (*attention.getBlockSize())[1]))
      return error;
  }
  if (writesNothing(kernel.signature, expected))
    return llvm::Error::success();
  if (llvm::Error error = kernel.executor->run(kernel.entry, host))
    return error;
  for (auto [arg, tensor, copy] : llvm::zip(kernel.signature.args, args, host))
    if (arg.isOutput && copy.getSizeInBytes())
      std::memcpy(tensor.data, copy.getData(), copy.getSizeInBytes());
  return llvm::Error::success();
}

static llvm::Error runCUDA(AttnKernel &kernel, llvm::ArrayRef<AttnTensor> args,
                           llvm::ArrayRef<SmallVector<int64_t>> expected,
                           void *stream) {
  CudaState &state = getCudaState();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!state.driver) {
    auto driver = CudaDriver::load();
    if (!driver)
      return driver.takeError();
    state.driver = std::move(*driver);
  }
  int device = args.empty() ? 0 : args[0].device;
  if (llvm::Error error = state.driver->setDevice(device))
    return error;
  std::unique_ptr<KernelCache> &cache = state.caches[device];
  if (!cache)
    cache = std::make_unique<KernelCache>(*state.driver);
  auto function = cache->lookupOrLoad(
      kernel.cacheKey,
      [&]() -> llvm::Expected<std::string> { return kernel.ptx; });
  if (!function)
    return function.takeError();

  SmallVector<DeviceTensor> tensors;
  for (const AttnTensor &tensor : args) {
    if (tensor.dtype < ATTN_F32 || tensor.dtype > ATTN_I64)
      return llvm::createStringError("unknown dtype code " +
                                     std::to_string(tensor.dtype));
    DeviceTensor out;
    out.pointer = reinterpret_cast<uint64_t>(tensor.data);
    out.type = ElementType(tensor.dtype);
    out.shape.assign(tensor.shape, tensor.shape + tensor.rank);
    out.strides.assign(tensor.strides, tensor.strides + tensor.rank);
    out.device = tensor.device;
    tensors.push_back(std::move(out));
  }
  ProblemSizes sizes = sizesOf(kernel.signature, args);
  if (llvm::Error error = checkSequenceLengths(sizes.numQueries.value_or(0),
                                               sizes.numKeys.value_or(0)))
    return error;
  auto geometry = computeGrid(kernel.device.launch, sizes.batch.value_or(0),
                              sizes.numQueries.value_or(0));
  if (!geometry)
    return geometry.takeError();
  if (geometry->empty())
    return llvm::Error::success();
  return launchChecked(*state.driver, *function, kernel.entry,
                       kernel.argumentSpecs, expected, tensors, *geometry,
                       static_cast<cuda::CUstream>(stream));
}

extern "C" int attnKernelRun(AttnKernel *kernel, const AttnTensor *args,
                             int numArgs, void *stream, char **error) {
  if (numArgs < 0 || size_t(numArgs) != kernel->signature.args.size()) {
    setError(error,
             llvm::formatv("{0} takes {1} arguments, {2} given", kernel->entry,
                           kernel->signature.args.size(), numArgs)
                 .str());
    return 1;
  }
  llvm::ArrayRef<AttnTensor> tensors(args, numArgs);
  for (auto [arg, tensor] : llvm::zip(kernel->signature.args, tensors))
    if (tensor.rank != arg.type.getRank() || tensor.rank < 0 ||
        (tensor.rank > 0 && (!tensor.shape || !tensor.strides))) {
      setError(error, arg.name + ": rank " + std::to_string(tensor.rank) +
                          ", the kernel needs " +
                          std::to_string(arg.type.getRank()));
      return 1;
    }
  auto expected = resolveShapes(*kernel, sizesOf(kernel->signature, tensors));
  if (!expected) {
    setError(error, llvm::toString(expected.takeError()));
    return 1;
  }
  llvm::Error failure = kernel->options.cuda
                            ? runCUDA(*kernel, tensors, *expected, stream)
                            : runCPU(*kernel, tensors, *expected);
  if (failure) {
    setError(error, llvm::toString(std::move(failure)));
    return 1;
  }
  return 0;
}
