//===- attn-run.cpp - Run an attn spec and check it -----------------------===//
//
/// \file
/// Runs one attn spec op on seeded random inputs (or .npy files) and checks
/// it. On the CPU (--backend=cpu) the reference kernel
/// (attn-lower-to-reference) always runs; with --check the tiled kernel runs
/// too and is compared with it. On the GPU (--backend=cuda) the spec is
/// compiled to PTX (attn-lower-to-gpu) and run through the CUDA runtime;
/// with --check it is compared with the CPU reference run on the same
/// (rounded) inputs. With --ref the outputs are compared with .npy files.
/// Prints one line with `max_rel_err=<value>` (the error relative to the
/// reference's largest magnitude; `inf` when a position is NaN or infinite
/// on one side only, `nan` when no position was finite on both sides but
/// some were NaN), the shapes and the times, and exits 1 when the error is
/// over --tol or not finite, or when anything is wrong with the spec, the
/// sizes or the inputs: sizes are checked for overflow and against the
/// machine's memory before anything is allocated.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/Pipelines.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/ParseSpec.h"
#include "attn/Runtime/CPUExecutor.h"
#include "attn/Runtime/CudaExecutor.h"
#include "attn/Runtime/HostTensor.h"
#include "attn/Runtime/KernelLauncher.h"
#include "attn/Runtime/KernelShapes.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;
namespace cl = llvm::cl;

static cl::opt<std::string> specPath(cl::Positional, cl::desc("<spec.mlir>"),
                                     cl::Required);
static cl::opt<std::string> backend("backend", cl::desc("cpu or cuda"),
                                    cl::init("cpu"));
static cl::opt<bool> check("check",
                           cl::desc("run the tiled kernel and compare it with "
                                    "the reference"));
static cl::opt<std::string>
    sizesOption("sizes",
                cl::desc("run-time sizes: b=2,n=100 (or nq=..,nk=..), and "
                         "NAME=AxBxC for captured tensors"),
                cl::init(""));
static cl::opt<std::string> inputsDir("inputs",
                                      cl::desc("read inputs NAME.npy from DIR"),
                                      cl::init(""));
static cl::opt<std::string>
    refDir("ref", cl::desc("compare outputs with NAME.npy in DIR"),
           cl::init(""));
static cl::opt<std::string>
    outputsDir("write-outputs",
               cl::desc("write the arguments as NAME.npy to DIR: the inputs "
                        "and the outputs of the GPU kernel (cuda) or of the "
                        "reference (cpu)"),
               cl::init(""));
static cl::opt<uint64_t> seed("seed", cl::desc("seed of the random inputs"),
                              cl::init(0));
static cl::opt<unsigned>
    opIndex("op", cl::desc("which attn op of the file to run"), cl::init(0));
static cl::opt<int64_t> blockQueries("block-queries",
                                     cl::desc("queries per tile of the tiled "
                                              "kernel"),
                                     cl::init(64));
static cl::opt<int64_t> blockKeys("block-keys",
                                  cl::desc("keys per tile of the tiled kernel"),
                                  cl::init(64));
static cl::opt<double>
    tolerance("tol",
              cl::desc("largest max_rel_err that passes (default 1e-4; on "
                       "cuda 1e-2 for bf16 outputs, 5e-3 for f16)"),
              cl::init(1e-4));
static cl::opt<std::string>
    chip("chip",
         cl::desc("cuda: the target chip (default: the device's, "
                  "e.g. sm_90a on an H100)"),
         cl::init(""));
static cl::opt<std::string>
    halfStorage("half-storage",
                cl::desc("cuda: store the spec's 16-bit float tensors as "
                         "bf16 or f16"),
                cl::init(""));
static cl::opt<int64_t>
    gpuThreads("simt-threads",
               cl::desc("cuda: threads per block of the SIMT kernels (those "
                        "without tensor cores)"),
               cl::init(128));
static cl::opt<bool>
    tensorCores("tensor-cores",
                cl::desc("cuda: run bf16/f16 attention on tensor cores where "
                         "its head dims allow (default); "
                         "--tensor-cores=false runs the SIMT kernel"),
                cl::init(true));
static cl::opt<bool> checkIndices(
    "check-indices",
    cl::desc("compile kernels that record reads of captured tensors at "
             "out-of-range indices, and fail naming the first one (the "
             "reads are clamped either way)"),
    cl::init(false));
static cl::opt<std::string> kernelImage(
    "kernel-image",
    cl::desc("cuda: load this PTX or cubin, written by attn-compile for the "
             "same spec, --chip, --half-storage, --simt-threads and "
             "--tensor-cores, instead "
             "of the PTX compiled in process"),
    cl::init(""));
static cl::opt<int> repeats("repeats",
                            cl::desc("cuda: runs of the kernel to time"),
                            cl::init(1));

namespace {
/// A failure that ends the run with exit code 1 and a message.
struct RunError {
  std::string message;
};
} // namespace

static int fail(const llvm::Twine &message) {
  llvm::errs() << "attn-run: error: " << message << "\n";
  return 1;
}

/// Parses `b=2,n=100,capture0=2x300`.
static llvm::Expected<ProblemSizes> parseSizes(llvm::StringRef text) {
  ProblemSizes sizes;
  SmallVector<llvm::StringRef> items;
  text.split(items, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef item : items) {
    auto [name, value] = item.split('=');
    name = name.trim();
    SmallVector<llvm::StringRef> dims;
    value.split(dims, 'x');
    SmallVector<int64_t> shape;
    for (llvm::StringRef dim : dims) {
      int64_t size;
      if (dim.trim().getAsInteger(10, size) || size < 0)
        return llvm::createStringError(llvm::formatv(
            "--sizes: '{0}' is not NAME=SIZE with a non-negative size", item));
      shape.push_back(size);
    }
    bool scalar = shape.size() == 1;
    if (name == "b" && scalar)
      sizes.batch = shape[0];
    else if (name == "n" && scalar)
      sizes.numQueries = sizes.numKeys = shape[0];
    else if (name == "nq" && scalar)
      sizes.numQueries = shape[0];
    else if (name == "nk" && scalar)
      sizes.numKeys = shape[0];
    else if (llvm::is_contained({"h", "dk", "dv"}, name) && scalar)
      sizes.argumentShapes[("=" + name).str()] = shape;
    else if (llvm::is_contained({"b", "n", "nq", "nk", "h", "dk", "dv"}, name))
      return llvm::createStringError(
          llvm::formatv("--sizes: {0} takes one size, got '{1}'", name, value));
    else
      sizes.argumentShapes[name] = shape;
  }
  return sizes;
}

/// Formats a relative error as "1.25e-03", and its non-finite values as
/// "inf" and "nan" (formatv would print "INF").
static std::string formatError(double error) {
  if (std::isnan(error))
    return "nan";
  if (std::isinf(error))
    return error > 0 ? "inf" : "-inf";
  return llvm::formatv("{0:e2}", error).str();
}

/// Formats an element's value as "%.6g" does: "0.125", "nan", "-inf".
static std::string formatValue(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.6g", value);
  return text;
}

/// The element type of a kernel argument (every one has a runtime type).
static ElementType elementTypeOf(Type type) { return *toElementType(type); }

static bool isFloat(ElementType type) {
  return type == ElementType::F32 || type == ElementType::F64 ||
         type == ElementType::F16 || type == ElementType::BF16;
}

/// Sorted document ids of random lengths (mean about a fifth of the row).
static void fillSegments(HostTensor &tensor, uint64_t seed) {
  HostTensor coin(ElementType::F64, tensor.getShape());
  fillUniform(coin, seed, 0, 1);
  int64_t rows = tensor.getShape()[0], length = tensor.getShape()[1];
  double boundary = 1.0 / std::max<int64_t>(4, length / 5);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t segment = 0;
    for (int64_t t = 0; t < length; ++t) {
      if (t > 0 && coin.get(r * length + t) < boundary)
        ++segment;
      tensor.set(r * length + t, segment);
    }
  }
}

/// Seeded random inputs whose ranges suit each role.
static llvm::Expected<HostTensor> randomInput(const KernelArg &arg,
                                              ArrayRef<int64_t> shape,
                                              uint64_t argSeed,
                                              bool normalizeKeys) {
  auto created =
      HostTensor::create(elementTypeOf(arg.type.getElementType()), shape);
  if (!created)
    return created.takeError();
  HostTensor &tensor = *created;
  switch (arg.role) {
  case KernelArgRole::QuerySegmentIds:
  case KernelArgRole::KeySegmentIds:
    fillSegments(tensor, argSeed);
    return created;
  case KernelArgRole::Gate:
    // Log-space decays in [-0.5, -0.01].
    fillUniform(tensor, argSeed, -0.5, -0.01);
    return created;
  case KernelArgRole::Beta:
    fillUniform(tensor, argSeed, 0, 1);
    return created;
  case KernelArgRole::InitialState:
    fillNormal(tensor, argSeed, 0, 0.1);
    return created;
  case KernelArgRole::FeatureWeights:
    fillNormal(tensor, argSeed, 0, 0.2);
    return created;
  case KernelArgRole::Capture:
    if (isFloat(tensor.getElementType()))
      fillNormal(tensor, argSeed, 0, 0.5);
    else
      fillUniform(tensor, argSeed, 0,
                  tensor.getElementType() == ElementType::I1 ? 2 : 4);
    if (!isFloat(tensor.getElementType()))
      for (int64_t i = 0; i < tensor.getNumElements(); ++i)
        tensor.set(i, std::floor(tensor.get(i)));
    return created;
  default:
    break;
  }
  fillNormal(tensor, argSeed);
  // The delta rule is stable for unit-norm keys (DeltaNet normalizes them).
  if (normalizeKeys && arg.role == KernelArgRole::Key) {
    int64_t width = shape.back();
    for (int64_t row = 0; row < tensor.getNumElements() / width; ++row) {
      double norm = 0;
      for (int64_t d = 0; d < width; ++d)
        norm += tensor.get(row * width + d) * tensor.get(row * width + d);
      norm = std::sqrt(std::max(norm, 1e-12));
      for (int64_t d = 0; d < width; ++d)
        tensor.set(row * width + d, tensor.get(row * width + d) / norm);
    }
  }
  return created;
}

/// A random block mask: each key block of each (b, h, query block) is left
/// out, listed as partial or listed as full, with equal odds.
static void fillBlockMask(const KernelSignature &signature,
                          MutableArrayRef<HostTensor> args, uint64_t seed) {
  int counts = signature.find(KernelArgRole::KvNumBlocks);
  if (counts < 0)
    return;
  HostTensor &partialCounts = args[counts];
  HostTensor &partial = args[signature.find(KernelArgRole::KvIndices)];
  HostTensor &fullCounts = args[signature.find(KernelArgRole::FullKvNumBlocks)];
  HostTensor &full = args[signature.find(KernelArgRole::FullKvIndices)];
  int64_t length = partial.getShape()[3];
  int64_t rows = partialCounts.getNumElements();
  HostTensor dice(ElementType::F64, {rows, length});
  fillUniform(dice, seed, 0, 3);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t np = 0, nf = 0;
    for (int64_t block = 0; block < length; ++block) {
      int choice = static_cast<int>(dice.get(row * length + block));
      if (choice == 1)
        partial.set(row * length + np++, block);
      else if (choice == 2)
        full.set(row * length + nf++, block);
    }
    partialCounts.set(row, np);
    fullCounts.set(row, nf);
  }
}

/// Runs `kernel` and returns its run time in milliseconds.
static llvm::Expected<double> timeKernel(CPUExecutor &executor,
                                         llvm::StringRef kernel,
                                         MutableArrayRef<HostTensor> args) {
  if (llvm::Error error = executor.prepare(kernel))
    return std::move(error);
  auto start = std::chrono::steady_clock::now();
  if (llvm::Error error = executor.run(kernel, args))
    return std::move(error);
  auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count();
}

/// Whether `arg` is one of the op's results, which the checks compare:
/// every output but the index_errors record (--check-indices), whose
/// content checkIndexErrors reports.
static bool isResult(const KernelArg &arg) {
  return arg.isOutput && arg.role != KernelArgRole::IndexErrors;
}

/// Fresh outputs poisoned with NaN: an element the kernel does not write
/// shows up in the comparison.
static void poisonOutputs(const KernelSignature &signature,
                          MutableArrayRef<HostTensor> args) {
  for (auto [arg, tensor] : llvm::zip(signature.args, args))
    if (isResult(arg))
      for (int64_t i = 0; i < tensor.getNumElements(); ++i)
        tensor.set(i, std::nan(""));
}

/// The index of the argument of `role` in `signature`, or -1.
static int argumentIndex(const KernelSignature &signature, KernelArgRole role) {
  return signature.find(role);
}

/// Fails when an output holds NaN: the inputs are finite, so a NaN is a bug
/// (a fully masked row must give 0, not 0/0).
static llvm::Error checkNoNaN(const KernelSignature &signature,
                              ArrayRef<HostTensor> args, StringRef kernel) {
  for (auto [arg, tensor] : llvm::zip(signature.args, args)) {
    if (!isResult(arg))
      continue;
    int64_t nans = 0;
    for (int64_t i = 0; i < tensor.getNumElements(); ++i)
      nans += std::isnan(tensor.get(i));
    if (nans)
      return llvm::createStringError(
          llvm::formatv("the {0} kernel wrote {1} NaN values to {2}", kernel,
                        nans, arg.name));
  }
  return llvm::Error::success();
}

/// For attention whose only mask is the named `mask`: every row the mask
/// empties must give output exactly 0 and log-sum-exp -inf. Returns the
/// number of such rows; a null mask checks nothing.
static llvm::Expected<int64_t> checkEmptyRows(MaskAttrInterface mask,
                                              const KernelSignature &signature,
                                              ArrayRef<HostTensor> args) {
  if (!mask)
    return 0;
  const HostTensor &output =
      args[argumentIndex(signature, KernelArgRole::Output)];
  int lseIndex = argumentIndex(signature, KernelArgRole::LogSumExp);
  int querySegments = argumentIndex(signature, KernelArgRole::QuerySegmentIds);
  int keySegments = argumentIndex(signature, KernelArgRole::KeySegmentIds);
  ArrayRef<int64_t> shape = output.getShape();
  int64_t batches = shape[0], heads = shape[1], queries = shape[2],
          width = shape[3];
  int64_t keys =
      args[argumentIndex(signature, KernelArgRole::Key)].getShape()[2];
  auto sameSegment = [&](int64_t b, int64_t i, int64_t j) {
    return args[querySegments].get(b * queries + i) ==
           args[keySegments].get(b * keys + j);
  };
  MaskContext context{queries, keys};
  if (querySegments >= 0)
    context.sameSegment = sameSegment;
  int64_t emptyRows = 0;
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < queries; ++i) {
        bool any = false;
        for (int64_t j = 0; j < keys && !any; ++j)
          any = mask.isVisible(context, b, h, i, j);
        if (any)
          continue;
        ++emptyRows;
        int64_t row = ((b * heads + h) * queries + i);
        for (int64_t d = 0; d < width; ++d)
          if (output.get(row * width + d) != 0)
            return llvm::createStringError(llvm::formatv(
                "row (b={0}, h={1}, i={2}) keeps no key but its output is {3}, "
                "not 0",
                b, h, i, output.get(row * width + d)));
        if (lseIndex >= 0 &&
            args[lseIndex].get(row) != -std::numeric_limits<double>::infinity())
          return llvm::createStringError(llvm::formatv(
              "row (b={0}, h={1}, i={2}) keeps no key but its log-sum-exp is "
              "{3}, not -inf",
              b, h, i, args[lseIndex].get(row)));
      }
  return emptyRows;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-run: run and check attn specs\n");

  bool onGPU = backend == "cuda";
  if (!onGPU && backend != "cpu")
    return fail("--backend must be cpu or cuda, got '" + backend + "'");
  for (auto [flag, value] :
       {std::pair{"--block-queries", blockQueries.getValue()},
        std::pair{"--block-keys", blockKeys.getValue()}})
    if (value < 1 || value > kMaxBlockSize)
      return fail(llvm::formatv("{0} must lie in [1, {1}], got {2}", flag,
                                kMaxBlockSize, value));

  DialectRegistry registry;
  registerKernelDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  auto specBuffer = llvm::MemoryBuffer::getFileOrSTDIN(specPath);
  if (!specBuffer)
    return fail("cannot read " + specPath + ": " +
                specBuffer.getError().message());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*specBuffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSpec(sourceMgr, &context);
  if (!module)
    return fail("cannot parse or verify " + specPath);

  SmallVector<Operation *> specs;
  module->walk([&](Operation *op) {
    if (isa<AttentionOp, LinearAttentionOp, HybridOp>(op))
      specs.push_back(op);
  });
  if (opIndex >= specs.size())
    return fail(
        llvm::formatv("{0} holds {1} attn ops; --op {2} is out of range",
                      specPath, specs.size(), opIndex.getValue()));
  Operation *spec = specs[opIndex];
  std::string baseName = getKernelBaseName(spec);
  std::string opName = spec->getName().getStringRef().str();
  // The named mask, when it alone decides which keys a row keeps; read now,
  // the spec op is erased once its kernels exist.
  MaskAttrInterface onlyMask;
  if (auto attention = dyn_cast<AttentionOp>(spec))
    if (attention.getMaskMod().empty() && !attention.getBlockSize())
      onlyMask = attention.getMaskAttr();
  KernelSignature signature = getKernelSignature(
      spec, StorageTypes{Float32Type::get(&context), {}}, checkIndices);

  // Sizes: --sizes, then the shapes of the input files, then defaults.
  auto parsedSizes = parseSizes(sizesOption);
  if (!parsedSizes)
    return fail(llvm::toString(parsedSizes.takeError()));
  ProblemSizes sizes = std::move(*parsedSizes);
  // Head counts and head dims are fixed by the spec: h, dk and dv may only
  // restate them. Any other name must be an argument's.
  auto staticDim = [&](KernelArgRole role, int64_t dim) {
    return signature.args[signature.find(role)].type.getDimSize(dim);
  };
  for (auto [name, dim, role] : {std::tuple{"h", 1, KernelArgRole::Query},
                                 std::tuple{"dk", 3, KernelArgRole::Query},
                                 std::tuple{"dv", 3, KernelArgRole::Value}}) {
    auto given = sizes.argumentShapes.find(("=" + llvm::Twine(name)).str());
    if (given == sizes.argumentShapes.end())
      continue;
    if (given->second[0] != staticDim(role, dim))
      return fail(llvm::formatv("--sizes: {0}={1} contradicts the spec, which "
                                "has {2}",
                                name, given->second[0], staticDim(role, dim)));
    sizes.argumentShapes.erase(given);
  }
  for (const auto &entry : sizes.argumentShapes)
    if (signature.find(entry.getKey()) < 0)
      return fail(
          llvm::formatv("--sizes: '{0}' is neither b, n, nq, nk, h, dk, "
                        "dv nor an argument of the kernel",
                        entry.getKey()));
  llvm::StringMap<HostTensor> fileInputs;
  if (!inputsDir.empty()) {
    for (const KernelArg &arg : signature.args) {
      if (arg.isOutput)
        continue;
      SmallString<256> path(inputsDir);
      llvm::sys::path::append(path, arg.name + ".npy");
      if (!llvm::sys::fs::exists(path))
        return fail(
            llvm::formatv("input {0} is missing: no {1}", arg.name, path));
      auto tensor = readNpy(path);
      if (!tensor)
        return fail(llvm::toString(tensor.takeError()));
      ElementType want = elementTypeOf(arg.type.getElementType());
      if (isFloat(want) != isFloat(tensor->getElementType()))
        return fail(llvm::formatv("{0}: {1} needs {2} values, the file holds "
                                  "{3}",
                                  path, arg.name, stringify(want),
                                  stringify(tensor->getElementType())));
      sizes.argumentShapes[arg.name] = SmallVector<int64_t>(tensor->getShape());
      fileInputs[arg.name] = tensor->convertTo(want);
    }
  }
  // Defaults for the sizes the spec leaves dynamic and nobody gave (input
  // files give all sizes themselves).
  auto isDynamic = [&](KernelArgRole role, int64_t dim) {
    return ShapedType::isDynamic(
        signature.args[signature.find(role)].type.getDimSize(dim));
  };
  bool fromFiles = !inputsDir.empty();
  if (!fromFiles && !sizes.batch && isDynamic(KernelArgRole::Query, 0))
    sizes.batch = 2;
  // A neighborhood grid fixes the lengths itself (resolveArgumentShapes).
  if (!fromFiles && !sizes.numQueries && !sizes.numKeys &&
      !getMaskSequenceLength(spec)) {
    if (isDynamic(KernelArgRole::Query, 2))
      sizes.numQueries = 100;
    if (isDynamic(KernelArgRole::Key, 2))
      sizes.numKeys = 100;
  }
  auto shapes = resolveArgumentShapes(spec, signature, sizes);
  if (!shapes)
    return fail(llvm::toString(shapes.takeError()));

  // GPU kernels index with 32 bits: refuse what they cannot reach before
  // allocating it on the host.
  if (onGPU) {
    for (auto [index, arg] : llvm::enumerate(signature.args))
      if (llvm::Error error = checkElementOffsets(arg.name, (*shapes)[index]))
        return fail(llvm::toString(std::move(error)));
    const SmallVector<int64_t> &query = (*shapes)[0], &key = (*shapes)[1];
    if (llvm::Error error = checkSequenceLengths(query[2], key[2]))
      return fail(llvm::toString(std::move(error)));
  }

  // The run holds its arguments, the reference's copy of them, and the
  // tiled kernel's or the GPU's (in the kernel's types, and back in f32):
  // refuse what this machine cannot hold before allocating any of it.
  // resolveArgumentShapes checked that each byte count fits in 64 bits.
  llvm::Expected<int64_t> bytes = getArgumentBytes(signature, *shapes);
  if (!bytes)
    return fail(llvm::toString(bytes.takeError()));
  int64_t argumentBytes = *bytes;
  int64_t copies = 2 + (check && !onGPU) + 2 * onGPU;
  int64_t runBytes;
  if (llvm::MulOverflow(argumentBytes, copies, runBytes))
    return fail("the arguments together need more bytes than a 64-bit count "
                "holds");
  if (llvm::Error error = checkHostMemory(
          runBytes, llvm::formatv("holding the arguments ({0}) {1} times",
                                  formatBytes(argumentBytes), copies)
                        .str()))
    return fail(llvm::toString(std::move(error)));

  bool normalizeKeys = false;
  if (auto linear = dyn_cast<LinearAttentionOp>(spec))
    normalizeKeys = linear.getUpdate() == UpdateRule::delta;
  SmallVector<HostTensor> args;
  for (auto [index, arg] : llvm::enumerate(signature.args)) {
    ArrayRef<int64_t> shape = (*shapes)[index];
    if (fileInputs.count(arg.name)) {
      args.push_back(fileInputs[arg.name]);
      continue;
    }
    auto tensor =
        arg.isOutput
            ? HostTensor::create(elementTypeOf(arg.type.getElementType()),
                                 shape)
            : randomInput(arg, shape, seed * 1000003 + index, normalizeKeys);
    if (!tensor)
      return fail(arg.name + ": " + llvm::toString(tensor.takeError()));
    args.push_back(std::move(*tensor));
  }

  if (fileInputs.empty())
    fillBlockMask(signature, args, seed * 1000003 + 999);
  if (auto attention = dyn_cast<AttentionOp>(spec))
    if (std::optional<ArrayRef<int64_t>> blockSize = attention.getBlockSize())
      if (llvm::Error error = checkBlockMask(
              signature, args,
              args[signature.find(KernelArgRole::Key)].getShape()[2],
              (*blockSize)[1]))
        return fail(llvm::toString(std::move(error)));

  // Every output empty (Nq = 0, say): nothing to run or compare, however
  // large the batch the kernels would loop over.
  if (writesNothing(signature, *shapes)) {
    std::string shapesText;
    for (auto [index, arg] : llvm::enumerate(signature.args))
      shapesText += " " + arg.name + formatShape((*shapes)[index]);
    llvm::outs() << "attn-run: " << specPath << " @" << baseName << " "
                 << opName << shapesText
                 << " (every output is empty: nothing to run)\n";
    return 0;
  }

  // The GPU kernel: compiled before the CPU kernels replace the specs. Its
  // float inputs are rounded to the kernel's types, so the reference sees
  // exactly what the GPU reads.
  std::unique_ptr<CudaExecutor> gpu;
  std::string ptx, targetChip;
  GPUKernelInfo gpuKernel;
  if (onGPU) {
    auto executor = CudaExecutor::create();
    if (!executor)
      return fail(llvm::toString(executor.takeError()));
    gpu = std::move(*executor);
    targetChip = chip;
    if (targetChip.empty()) {
      auto capability = gpu->getDriver().getComputeCapability(0);
      if (!capability)
        return fail(llvm::toString(capability.takeError()));
      targetChip =
          llvm::formatv("sm_{0}{1}{2}", capability->major, capability->minor,
                        capability->major == 9 ? "a" : "");
    }
    if (!isSupportedChip(targetChip))
      return fail(describeUnsupportedChip(targetChip));
    OwningOpRef<ModuleOp> gpuModule = module->clone();
    GPUOptions options;
    options.threads = gpuThreads;
    options.blockKeys = blockKeys;
    options.tensorCores = tensorCores;
    options.checkIndices = checkIndices;
    options.chip = targetChip;
    if (!halfStorage.empty()) {
      auto half = parseHalfStorage(*gpuModule, halfStorage);
      if (failed(half))
        return fail("--half-storage must be bf16 or f16");
      options.halfStorage = *half;
    }
    auto kernels = lowerSpecOpsToGPU(*gpuModule, options);
    if (failed(kernels))
      return fail("lowering " + specPath + " to GPU kernels failed");
    gpuKernel = (*kernels)[opIndex];
    if (kernelImage.empty()) {
      auto text = translateKernelsToPTX(*gpuModule, targetChip);
      if (failed(text))
        return fail("compiling " + specPath + " to PTX failed");
      ptx = std::move(*text);
    } else {
      auto image =
          llvm::MemoryBuffer::getFile(kernelImage, /*IsText=*/false,
                                      /*RequiresNullTerminator=*/false);
      if (!image)
        return fail("--kernel-image: cannot read " + kernelImage + ": " +
                    image.getError().message());
      // The launch geometry and argument list come from this compilation; an
      // image of another spec or other options would not match them, and one
      // without the entry point is refused here rather than by the driver.
      llvm::StringRef bytes = (*image)->getBuffer();
      bool isCubin = bytes.starts_with("\x7f"
                                       "ELF");
      std::string entry = gpuKernel.name;
      bool hasEntry = isCubin ? bytes.contains(entry + '\0')
                              : bytes.contains(".entry " + entry + "(");
      if (!hasEntry)
        return fail("--kernel-image: " + kernelImage + " has no entry point " +
                    entry + "; compile it with attn-compile from " + specPath +
                    " with the same --chip, --half-storage and "
                    "--simt-threads");
      ptx = bytes.str();
    }
    for (auto [index, arg] : llvm::enumerate(signature.args)) {
      ElementType type =
          elementTypeOf(gpuKernel.signature.args[index].type.getElementType());
      if (!arg.isOutput && isFloat(type))
        args[index] = args[index].convertTo(type).convertTo(ElementType::F32);
    }
  }
  bool runsReference = !onGPU || check || !refDir.empty();

  // Kernels: lower every spec op, keep only the kernels.
  PassManager pm(&context);
  pm.addPass(createAttnLowerToReferencePass(
      AttnLowerToReferencePassOptions{/*floatStorage=*/"f32", checkIndices}));
  if (check)
    pm.addPass(createAttnLowerToTilesPass(AttnLowerToTilesPassOptions{
        blockQueries, blockKeys, /*floatStorage=*/"f32", checkIndices}));
  if (failed(pm.run(*module)))
    return fail("lowering " + specPath + " failed");
  for (auto func : llvm::make_early_inc_range(module->getOps<func::FuncOp>()))
    if (!func->hasAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName()))
      func.erase();

  auto executor = CPUExecutor::create(*module);
  if (!executor)
    return fail(llvm::toString(executor.takeError()));

  // Finite inputs must give NaN-free outputs; inputs read from files may
  // hold NaN or infinity themselves.
  bool finiteInputs = true;
  for (auto [arg, tensor] : llvm::zip(signature.args, args))
    for (int64_t i = 0, e = tensor.getNumElements();
         i < e && finiteInputs && !arg.isOutput; ++i)
      finiteInputs = std::isfinite(tensor.get(i));
  SmallVector<HostTensor> reference = args;
  std::string timing;
  int64_t emptyRows = 0;
  if (runsReference) {
    poisonOutputs(signature, reference);
    auto referenceMs =
        timeKernel(**executor, baseName + "_reference", reference);
    if (!referenceMs)
      return fail(llvm::toString(referenceMs.takeError()));
    timing = llvm::formatv("reference={0:f2}ms", *referenceMs);
    if (llvm::Error error = checkIndexErrors(signature, reference))
      return fail("reference kernel: " + llvm::toString(std::move(error)));
    if (finiteInputs)
      if (llvm::Error error = checkNoNaN(signature, reference, "reference"))
        return fail(llvm::toString(std::move(error)));
    auto referenceEmpty = checkEmptyRows(onlyMask, signature, reference);
    if (!referenceEmpty)
      return fail("reference kernel: " +
                  llvm::toString(referenceEmpty.takeError()));
    emptyRows = *referenceEmpty;
  }

  // The GPU run: arguments in the kernel's types, outputs back in f32.
  SmallVector<HostTensor> gpuResults;
  double gpuTolerance = 1e-4;
  if (onGPU) {
    auto described = describeDeviceKernel(gpuKernel);
    if (!described)
      return fail(llvm::toString(described.takeError()));
    DeviceKernel &device = *described;
    SmallVector<HostTensor> deviceArgs;
    for (auto [index, spec] : llvm::enumerate(device.args)) {
      deviceArgs.push_back(spec.isOutput
                               ? HostTensor(spec.type, args[index].getShape())
                               : args[index].convertTo(spec.type));
      if (spec.isOutput && spec.type == ElementType::BF16)
        gpuTolerance = std::max(gpuTolerance, 1e-2);
      if (spec.isOutput && spec.type == ElementType::F16)
        gpuTolerance = std::max(gpuTolerance, 5e-3);
    }
    KernelKey key{fingerprintSpec(ptx), "", targetChip, device.entry};
    auto gpuMs = gpu->run(key, ptx, device, deviceArgs, repeats);
    if (!gpuMs)
      return fail(llvm::toString(gpuMs.takeError()));
    for (HostTensor &tensor : deviceArgs)
      gpuResults.push_back(tensor.convertTo(ElementType::F32));
    if (llvm::Error error = checkIndexErrors(signature, gpuResults))
      return fail("GPU kernel: " + llvm::toString(std::move(error)));
    timing = (llvm::formatv("gpu={0:f3}ms ", *gpuMs) + timing).str();
    if (finiteInputs)
      if (llvm::Error error = checkNoNaN(signature, gpuResults, "GPU"))
        return fail(llvm::toString(std::move(error)));
    auto gpuEmpty = checkEmptyRows(onlyMask, signature, gpuResults);
    if (!gpuEmpty)
      return fail("GPU kernel: " + llvm::toString(gpuEmpty.takeError()));
    emptyRows = *gpuEmpty;
  }
  if (onGPU && tolerance.getNumOccurrences() == 0)
    tolerance = gpuTolerance;
  // What --ref and --write-outputs see: the GPU's outputs on cuda.
  SmallVector<HostTensor> &results = onGPU ? gpuResults : reference;

  // Compare every output against its reference; the worst counts. A NaN
  // relative error (nothing compared) is worse than any number.
  double worst = 0;
  std::string worstName;
  // Why a non-finite error is what it is, for the failure message.
  SmallVector<std::string> nonFiniteReasons;
  int64_t matchedNaN = 0;
  auto compareOutputs = [&](ArrayRef<HostTensor> actual,
                            ArrayRef<HostTensor> expected) -> llvm::Error {
    for (auto [index, arg] : llvm::enumerate(signature.args)) {
      if (!isResult(arg))
        continue;
      auto result = compare(actual[index], expected[index]);
      if (!result)
        return llvm::createStringError(arg.name + ": " +
                                       llvm::toString(result.takeError()));
      matchedNaN += result->matchedNaN;
      ArrayRef<int64_t> shape = actual[index].getShape();
      if (result->mismatchedNonFinite)
        nonFiniteReasons.push_back(llvm::formatv(
            "{0}: {1} positions hold NaN or infinity on one side only; the "
            "first, {2}, is {3} against the reference's {4}",
            arg.name, result->mismatchedNonFinite,
            formatPosition(shape, result->firstMismatch),
            formatValue(actual[index].get(result->firstMismatch)),
            formatValue(expected[index].get(result->firstMismatch))));
      else if (std::isnan(result->maxRelError))
        nonFiniteReasons.push_back(llvm::formatv(
            "{0}: no position is finite on both sides and {1} are NaN on "
            "both, so the check compared nothing",
            arg.name, result->matchedNaN));
      bool isWorse = std::isnan(result->maxRelError)
                         ? !std::isnan(worst)
                         : result->maxRelError > worst;
      if (isWorse || worstName.empty()) {
        worst = isWorse ? result->maxRelError : worst;
        worstName = arg.name;
      }
    }
    return llvm::Error::success();
  };

  bool compared = false;
  if (!refDir.empty()) {
    SmallVector<HostTensor> external = reference;
    for (auto [index, arg] : llvm::enumerate(signature.args)) {
      if (!isResult(arg))
        continue;
      SmallString<256> path(refDir);
      llvm::sys::path::append(path, arg.name + ".npy");
      auto tensor = readNpy(path);
      if (!tensor)
        return fail(llvm::toString(tensor.takeError()));
      external[index] = std::move(*tensor);
    }
    if (llvm::Error error = compareOutputs(results, external))
      return fail(llvm::toString(std::move(error)));
    compared = true;
  }
  if (check && onGPU) {
    if (llvm::Error error = compareOutputs(gpuResults, reference))
      return fail(llvm::toString(std::move(error)));
    compared = true;
  } else if (check) {
    SmallVector<HostTensor> tiled = args;
    poisonOutputs(signature, tiled);
    auto tiledMs = timeKernel(**executor, baseName + "_tiled", tiled);
    if (!tiledMs)
      return fail(llvm::toString(tiledMs.takeError()));
    timing += llvm::formatv(" tiled={0:f2}ms", *tiledMs);
    if (llvm::Error error = checkIndexErrors(signature, tiled))
      return fail("tiled kernel: " + llvm::toString(std::move(error)));
    if (finiteInputs)
      if (llvm::Error error = checkNoNaN(signature, tiled, "tiled"))
        return fail(llvm::toString(std::move(error)));
    if (auto tiledEmpty = checkEmptyRows(onlyMask, signature, tiled);
        !tiledEmpty)
      return fail("tiled kernel: " + llvm::toString(tiledEmpty.takeError()));
    if (llvm::Error error = compareOutputs(tiled, reference))
      return fail(llvm::toString(std::move(error)));
    compared = true;
  }

  if (!outputsDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputsDir))
      return fail("cannot create " + outputsDir + ": " + ec.message());
    for (auto [index, arg] : llvm::enumerate(signature.args)) {
      SmallString<256> path(outputsDir);
      llvm::sys::path::append(path, arg.name + ".npy");
      if (llvm::Error error = writeNpy(path, results[index]))
        return fail(llvm::toString(std::move(error)));
    }
  }

  std::string shapesText;
  for (auto [index, arg] : llvm::enumerate(signature.args))
    shapesText += " " + arg.name + formatShape((*shapes)[index]);
  llvm::outs() << "attn-run: " << specPath << " @" << baseName << " " << opName
               << " backend=" << backend.getValue()
               << (onGPU ? " chip=" + targetChip : std::string())
               << " seed=" << seed.getValue() << shapesText;
  if (compared)
    llvm::outs() << llvm::formatv(" max_rel_err={0} ({1}) tol={2:e1}",
                                  formatError(worst), worstName,
                                  tolerance.getValue());
  if (compared && matchedNaN)
    llvm::outs() << " nan_matched=" << matchedNaN;
  if (emptyRows)
    llvm::outs() << " empty_rows=" << emptyRows;
  llvm::outs() << " " << timing << "\n";
  if (!nonFiniteReasons.empty())
    return fail("max_rel_err " + formatError(worst) + ": " +
                llvm::join(nonFiniteReasons, "; "));
  if (compared && !(worst <= tolerance))
    return fail(llvm::formatv("max_rel_err {0} of {1} is over the "
                              "tolerance {2:e1}",
                              formatError(worst), worstName,
                              tolerance.getValue()));
  return 0;
}
