//===- LowerToGPU.cpp - attn spec ops to GPU kernels ----------------------===//
//
/// \file
/// Every attn spec op becomes one gpu.func kernel of the gpu.module
/// @attn_kernels, running the tiled algorithm of attn-lower-to-tiles with
/// its independent outer iterations on the grid:
///  - attn.attention with bf16 or f16 inputs: its flash tile program on the
///    mma.sync strategy (buildAttentionTileKernel), 4 warps per 64 or 128
///    query rows (x: query blocks, y: heads, z: sequences).
///  - any other attn.attention (f32 inputs, head dims not multiples of 16,
///    or `tensor-cores=false`): the same flash tile program for the SIMT
///    strategy (attn-tile-to-simt), a block of `threads` threads per query
///    block (x: query blocks), its tiles in shared memory.
///  - attn.linear_attention with the tensor-core chunk kernel's types and
///    shapes: its tile program on the mma.sync strategy, a block per (head,
///    sequence, value columns), or the chunk-parallel form on few, long
///    sequences.
///  - any other attn.linear_attention, and attn.hybrid: their tile program
///    for the SIMT strategy, one block per (sequence, head) (x: heads,
///    y: sequences) carrying the chunk loop along the sequence; the tiles
///    that do not fit in shared memory live in the block's slice of a
///    workspace argument [B, H, words], which the runtime allocates.
/// Nothing of size N x N is ever stored.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Conversion/TiledKernels.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Tile/IR/TileDialect.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTOGPUPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

/// memref<? x heads x words x f32> with dynamic strides and offset.
static MemRefType workspaceType(MLIRContext *context, int64_t heads,
                                int64_t words) {
  SmallVector<int64_t> strides(3, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(context, ShapedType::kDynamic, strides);
  return MemRefType::get({ShapedType::kDynamic, heads, words},
                         Float32Type::get(context), layout);
}

void mlir::attn::setKernelBlockSize(gpu::GPUFuncOp function, int64_t threads,
                                    bool everyRegister) {
  Builder b(function.getContext());
  DenseI32ArrayAttr blockSize =
      b.getDenseI32ArrayAttr({int32_t(threads), 1, 1});
  function.setKnownBlockSizeAttr(blockSize);
  function->setAttr("nvvm.maxntid", blockSize);
  if (everyRegister)
    function->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                      b.getI32IntegerAttr(255));
}

FailureOr<SmallVector<GPUKernelInfo>>
mlir::attn::lowerSpecOpsToGPU(ModuleOp module, const GPUOptions &options) {
  if (options.blockKeys <= 0 || options.blockKeys > kMaxBlockSize ||
      options.threads <= 0 || options.threads > 1024)
    return emitError(module.getLoc())
           << "block-keys must lie in [1, " << kMaxBlockSize
           << "] and threads (rows per block) in [1, 1024]";
  MLIRContext *context = module.getContext();
  SmallVector<Operation *> specs = collectSpecOps(module);
  OpBuilder builder(context);
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  builder.getUnitAttr());
  builder.setInsertionPointToEnd(module.getBody());
  auto gpuModule =
      gpu::GPUModuleOp::create(builder, module.getLoc(), kGPUModuleName);

  TiledOptions tiled;
  tiled.blockKeys = options.blockKeys;
  tiled.blockQueries = options.threads;
  tiled.gpuThreads = options.threads;
  tiled.target = KernelTarget::GPU;
  tiled.tensorCores = options.tensorCores;
  tiled.chip = options.chip;

  SmallVector<GPUKernelInfo> kernels;
  for (Operation *op : specs) {
    if (failed(checkSpecRegions(op)))
      return failure();
    GPUKernelInfo info;
    info.name = getKernelBaseName(op) + "_gpu";
    info.specOpName = op->getName().getStringRef().str();
    info.heads = getHeadShape(op).heads;
    info.signature = getKernelSignature(
        op, StorageTypes{{}, options.halfStorage}, options.checkIndices);
    bool workspace = needsWorkspace(op);
    if (workspace)
      info.signature.args.push_back(
          {KernelArgRole::Workspace, "workspace",
           workspaceType(context, info.heads, ShapedType::kDynamic),
           /*isOutput=*/true});

    SmallVector<Type> types;
    for (const KernelArg &arg : info.signature.args)
      types.push_back(arg.type);
    builder.setInsertionPointToEnd(gpuModule.getBody());
    auto func = gpu::GPUFuncOp::create(builder, op->getLoc(), info.name,
                                       builder.getFunctionType(types, {}));
    func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(&func.getBody().front());
    auto ret = gpu::ReturnOp::create(builder, op->getLoc());
    builder.setInsertionPoint(ret);
    Kernel kernel{func, &info.signature};
    auto attention = dyn_cast<AttentionOp>(op);
    if (attention && options.tensorCores &&
        canUseTensorCores(attention, info.signature)) {
      if (failed(buildAttentionTileKernel(builder, attention, kernel,
                                          info.launch)))
        return failure();
    } else if (failed(buildTiledKernel(builder, op, kernel, tiled,
                                       &info.launch))) {
      return failure();
    }

    // A kernel that uses no workspace (the tensor-core chunk kernel keeps
    // its state in registers and shared memory) takes none. A chunk-parallel
    // kernel's workspace grows with the segments the runtime picks: its
    // words stay dynamic.
    bool segmented = info.launch.segmentWords > 0;
    if (workspace && info.launch.workspaceWords == 0 && !segmented) {
      unsigned last = types.size() - 1;
      assert(func.getArgument(last).use_empty() && "unused workspace");
      if (failed(func.eraseArgument(last)))
        return failure();
      info.signature.args.pop_back();
      workspace = false;
    }
    // The workspace's words per head are known now that the body is built.
    if (workspace && !segmented) {
      MemRefType type =
          workspaceType(context, info.heads, info.launch.workspaceWords);
      info.signature.args.back().type = type;
      func.getArgument(types.size() - 1).setType(type);
      types.back() = type;
      func.setType(builder.getFunctionType(types, {}));
    }
    kernels.push_back(std::move(info));
  }
  return kernels;
}

namespace {

struct AttnLowerToGPUPass
    : public attn::impl::AttnLowerToGPUPassBase<AttnLowerToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Type> half = parseHalfStorage(module, halfStorage);
    if (failed(half))
      return signalPassFailure();
    GPUOptions options;
    options.blockKeys = blockKeys;
    options.threads = threads;
    options.halfStorage = *half;
    options.tensorCores = tensorCores;
    options.checkIndices = checkIndices;
    options.chip = chip;
    if (!isSupportedChip(chip)) {
      module.emitError() << describeUnsupportedChip(chip);
      return signalPassFailure();
    }
    if (failed(lowerSpecOpsToGPU(module, options)))
      signalPassFailure();
  }
};

} // namespace
