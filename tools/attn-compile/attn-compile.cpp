//===- attn-compile.cpp - Compile attn specs to PTX -----------------------===//
//
/// \file
/// `attn-compile SPEC.mlir --chip=sm_90a -o OUT.ptx` compiles every attn op
/// of a spec to one fused GPU kernel each (attn-lower-to-gpu, then NVVM and
/// LLVM's NVPTX back end) and writes:
///  - OUT.ptx, the kernels;
///  - OUT.json, the manifest: per kernel its entry point, its parameters
///    (name, role, dtype, shape with the problem size of each dynamic
///    dimension, and the 64-bit words each one takes in MLIR's memref
///    calling convention) and its launch geometry;
///  - with --cubin, OUT.cubin from ptxas;
///  - with --dump-intermediates=DIR, the IR after each stage:
///    DIR/0-spec.mlir, DIR/1-gpu.mlir (gpu.func kernels of scf/memref),
///    DIR/2-nvvm.mlir (LLVM + NVVM dialects), DIR/3-kernels.ptx.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/Pipelines.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/ParseSpec.h"
#include "attn/Runtime/KernelShapes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::attn;
namespace cl = llvm::cl;

static cl::opt<std::string> specPath(cl::Positional, cl::desc("<spec.mlir>"),
                                     cl::Required);
static cl::opt<std::string> outputPath("o", cl::desc("the PTX file to write"),
                                       cl::value_desc("OUT.ptx"), cl::Required);
static cl::opt<std::string> chip("chip",
                                 cl::desc("target chip: sm_80, sm_90a, ..."),
                                 cl::init("sm_90a"));
static cl::opt<std::string>
    halfStorage("half-storage",
                cl::desc("store the spec's 16-bit float tensors as bf16 or "
                         "f16 (default: the spec's types)"),
                cl::init(""));
static cl::opt<int64_t> threads("simt-threads",
                                cl::desc("threads per block of the SIMT "
                                         "kernels (those without tensor "
                                         "cores)"),
                                cl::init(128));
static cl::opt<int64_t> blockKeys("block-keys", cl::desc("keys per tile"),
                                  cl::init(64));
static cl::opt<bool> checkIndices(
    "check-indices",
    cl::desc("record reads of captured tensors at out-of-range indices in "
             "an index_errors argument (the reads are clamped either way)"),
    cl::init(false));
static cl::opt<bool>
    tensorCores("tensor-cores",
                cl::desc("run bf16/f16 attention on tensor cores where its "
                         "head dims allow (default); --tensor-cores=false "
                         "runs the SIMT kernel"),
                cl::init(true));
static cl::opt<bool> cubin("cubin",
                           cl::desc("also write OUT.cubin through ptxas"));
static cl::opt<std::string>
    ptxasPath("ptxas",
              cl::desc("the ptxas to run for --cubin (default: "
                       "$CUDA_HOME/bin, /usr/local/cuda/bin, PATH)"),
              cl::init(""));
static cl::opt<std::string>
    dumpDir("dump-intermediates",
            cl::desc("write the IR after every stage into DIR"), cl::init(""));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "attn-compile: error: " << message << "\n";
  return 1;
}

static bool writeFile(llvm::StringRef path,
                      llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    llvm::errs() << "attn-compile: error: cannot write " << path << ": "
                 << ec.message() << "\n";
    return false;
  }
  write(os);
  return true;
}

static std::string stageFile(llvm::StringRef name) {
  SmallString<256> path(dumpDir);
  llvm::sys::path::append(path, name);
  return std::string(path);
}

static std::string typeName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

/// Writes the manifest of `kernels`; see the file comment.
static void writeManifest(llvm::raw_ostream &os,
                          ArrayRef<GPUKernelInfo> kernels,
                          llvm::StringRef specText) {
  llvm::json::OStream json(os, 2);
  json.object([&] {
    json.attribute("format", "attn-kernel-manifest/1");
    json.attribute("spec", specPath.getValue());
    json.attribute(
        "spec_sha256",
        llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(specText)),
                    /*LowerCase=*/true));
    json.attribute("chip", chip.getValue());
    json.attribute("ptx", llvm::sys::path::filename(outputPath).str());
    json.attributeObject("options", [&] {
      json.attribute("threads", threads.getValue());
      json.attribute("block_keys", blockKeys.getValue());
      json.attribute("half_storage", halfStorage.getValue());
      json.attribute("tensor_cores", tensorCores.getValue());
      json.attribute("check_indices", checkIndices.getValue());
    });
    json.attributeArray("kernels", [&] {
      for (const GPUKernelInfo &kernel : kernels) {
        json.object([&] {
          json.attribute("entry", kernel.name);
          json.attribute("op", kernel.specOpName);
          json.attributeObject("launch", [&] {
            bool perRow =
                kernel.launch.order == GridOrder::QueryBlocksHeadsBatch;
            json.attribute("grid_order",
                           perRow ? "query_blocks_heads_batch" : "heads_batch");
            json.attributeArray("grid", [&] {
              if (perRow) {
                json.value(
                    llvm::formatv("ceil(Nq / {0})", kernel.launch.blockQueries)
                        .str());
                json.value(kernel.heads);
                json.value("B");
              } else {
                json.value(kernel.heads);
                json.value("B");
                if (kernel.launch.transformGroupChunks > 0)
                  json.value(llvm::formatv("segments(B, Nq) == 1 ? {0} : "
                                           "ceil(ceil(Nq / {1}) / {2}) + {0} * "
                                           "(segments(B, Nq) + {3})",
                                           kernel.launch.valueSplits,
                                           kernel.launch.chunk,
                                           kernel.launch.transformGroupChunks,
                                           kernel.launch.chainsPerSplit)
                                 .str());
                else if (kernel.launch.segmentWords > 0)
                  json.value(llvm::formatv("{0} * (2 segments(B, Nq) - 1)",
                                           kernel.launch.valueSplits)
                                 .str());
                else
                  json.value(kernel.launch.valueSplits);
              }
            });
            json.attributeArray("block", [&] {
              json.value(kernel.launch.threads);
              json.value(1);
              json.value(1);
            });
            json.attribute("block_queries",
                           perRow ? kernel.launch.blockQueries : int64_t(0));
            json.attribute("heads", kernel.heads);
            json.attribute("shared_bytes", kernel.launch.sharedBytes);
            // Query, key and value rows must start 16-byte aligned.
            json.attribute("aligned_rows", kernel.launch.alignedRows);
            json.attribute("workspace_words_per_head",
                           kernel.launch.workspaceWords);
            // A chunk-parallel kernel: the words of one segment boundary,
            // and the chunk (the runtime's chooseChunkSegments and
            // getSegmentedWorkspaceWords give the grid and workspace).
            json.attribute("segment_words", kernel.launch.segmentWords);
            json.attribute("chunk", kernel.launch.chunk);
            // The delta rule's form: chunks per transform block, chain
            // blocks per value split and the words of a chunk's stored
            // transforms.
            json.attribute("transform_group_chunks",
                           kernel.launch.transformGroupChunks);
            json.attribute("chains_per_split", kernel.launch.chainsPerSplit);
            json.attribute("transform_words", kernel.launch.transformWords);
          });
          json.attributeArray("params", [&] {
            for (const KernelArg &arg : kernel.signature.args) {
              json.object([&] {
                json.attribute("name", arg.name);
                json.attribute("role", getKernelArgRoleName(arg.role));
                json.attribute("dtype", typeName(arg.type.getElementType()));
                json.attribute("output", arg.isOutput);
                int64_t rank = arg.type.getRank();
                json.attributeArray("shape", [&] {
                  for (int64_t dim = 0; dim < rank; ++dim) {
                    int64_t size = arg.type.getDimSize(dim);
                    if (!ShapedType::isDynamic(size)) {
                      json.value(size);
                      continue;
                    }
                    llvm::StringRef name =
                        runtime::getDimensionName(arg.role, rank, dim);
                    // A chunk-parallel kernel's workspace words follow the
                    // segments the runtime picks.
                    if (arg.role == KernelArgRole::Workspace && dim == 2)
                      name = "segment_workspace_words(B, Nq)";
                    json.value(name.empty() ? "?" : name.str());
                  }
                });
                // allocated ptr, aligned ptr, offset, sizes, strides.
                json.attribute("words", 3 + 2 * rank);
              });
            }
          });
        });
      }
    });
  });
  os << "\n";
}

static std::string findPtxas() {
  if (!ptxasPath.empty())
    return ptxasPath;
  if (const char *home = std::getenv("CUDA_HOME")) {
    SmallString<256> path(home);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return std::string(path);
  }
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  if (auto found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  return "";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attn-compile: compile attn specs to PTX\n");

  DialectRegistry registry;
  registerKernelDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  auto specBuffer = llvm::MemoryBuffer::getFileOrSTDIN(specPath);
  if (!specBuffer)
    return fail("cannot read " + specPath + ": " +
                specBuffer.getError().message());
  std::string specText = (*specBuffer)->getBuffer().str();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*specBuffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSpec(sourceMgr, &context);
  if (!module)
    return fail("cannot parse or verify " + specPath);
  if (!isSupportedChip(chip))
    return fail("--chip: " + describeUnsupportedChip(chip));

  bool dump = !dumpDir.empty();
  if (dump) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpDir))
      return fail("cannot create " + dumpDir + ": " + ec.message());
    if (!writeFile(stageFile("0-spec.mlir"),
                   [&](llvm::raw_ostream &os) { module->print(os); }))
      return 1;
  }

  GPUOptions options;
  options.threads = threads;
  options.tensorCores = tensorCores;
  options.checkIndices = checkIndices;
  options.chip = chip;
  options.blockKeys = blockKeys;
  if (!halfStorage.empty()) {
    auto half = parseHalfStorage(*module, halfStorage);
    if (failed(half))
      return 1;
    options.halfStorage = *half;
  }
  auto kernels = lowerSpecOpsToGPU(*module, options);
  if (failed(kernels))
    return fail("lowering " + specPath + " to GPU kernels failed");
  if (kernels->empty())
    return fail(specPath + " holds no attn op");
  if (dump && !writeFile(stageFile("1-gpu.mlir"),
                         [&](llvm::raw_ostream &os) { module->print(os); }))
    return 1;
  bool wroteNVVM = true;
  auto ptx = translateKernelsToPTX(*module, chip, [&](ModuleOp lowered) {
    if (dump)
      wroteNVVM = writeFile(stageFile("2-nvvm.mlir"),
                            [&](llvm::raw_ostream &os) { lowered.print(os); });
  });
  if (failed(ptx))
    return fail("compiling " + specPath + " to PTX failed");
  if (!wroteNVVM)
    return 1;
  if (dump && !writeFile(stageFile("3-kernels.ptx"),
                         [&](llvm::raw_ostream &os) { os << *ptx; }))
    return 1;

  if (!writeFile(outputPath, [&](llvm::raw_ostream &os) { os << *ptx; }))
    return 1;
  SmallString<256> manifestPath(outputPath);
  llvm::sys::path::replace_extension(manifestPath, "json");
  if (!writeFile(manifestPath, [&](llvm::raw_ostream &os) {
        writeManifest(os, *kernels, specText);
      }))
    return 1;

  if (cubin) {
    std::string ptxas = findPtxas();
    if (ptxas.empty())
      return fail("--cubin needs ptxas: none in $CUDA_HOME/bin, "
                  "/usr/local/cuda/bin or PATH; give --ptxas=PATH");
    SmallString<256> cubinPath(outputPath);
    llvm::sys::path::replace_extension(cubinPath, "cubin");
    std::string arch = "-arch=" + chip.getValue();
    std::string output = std::string(cubinPath);
    SmallVector<llvm::StringRef> ptxasArgs = {ptxas,      arch, "-O3", "-v",
                                              outputPath, "-o", output};
    std::string message;
    int status = llvm::sys::ExecuteAndWait(ptxas, ptxasArgs, std::nullopt, {},
                                           0, 0, &message);
    if (status != 0)
      return fail("ptxas failed (exit " + llvm::Twine(status) + ") on " +
                  outputPath + (message.empty() ? "" : ": " + message));
  }
  return 0;
}
