//===- TileToSimt.cpp - attn_tile ops on a block's threads ----------------===//
//
/// \file
/// The SIMT strategy of the tile level (the attn-tile-to-simt pass): the
/// CPU strategy's loop lowerings (TileToLoops.cpp), with each op's
/// independent iterations shared by the threads of a GPU block and every
/// tile in scratch memory:
///  1. Prepare the program as the CPU strategy does: online softmax,
///     finalize and log-sum-exp decomposed into maps and reductions, and a
///     copy of each tile an scf.for carries before its yield.
///  2. Plan the scratch: each tile op's result lives from the op to its
///     last read. A read inside a loop or branch keeps it to that op's
///     end; a tile yielded by an scf.if lives as long as the if's result,
///     one yielded by an scf.for (the carried copy) across the whole loop
///     and as long as the loop's result, one given to a loop as its
///     initial value to the loop's end; convert_layout only renames.
///     Tiles whose ranges do not overlap share memory (first-fit).
///  3. Lower every op with TileToLoops' patterns: buffers are views of the
///     planned scratch, loops over independent iterations start at the
///     thread's index and step by the block's threads, and a barrier ends
///     each op.
/// Shared memory rows of 2-D tiles are padded to an odd number of 32-bit
/// words: the threads of a warp reading one column of consecutive rows (a
/// matmul's transposed operand) then hit distinct banks.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/TileToSimt.h"
#include "attn/Conversion/DecomposeTileSoftmax.h"
#include "attn/Conversion/MmaFragments.h"
#include "attn/Conversion/TileMemoryPlan.h"
#include "attn/Conversion/TileToLoops.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILETOSIMTPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

//===----------------------------------------------------------------------===//
// Scratch layout
//===----------------------------------------------------------------------===//

/// Columns of a row of a 2-D tile in shared memory, padding included: the
/// row's bytes rounded up to whole words, plus one word where that count
/// is even.
static int64_t paddedColumns(TileType type) {
  int64_t elementBytes = type.getElementType().getIntOrFloatBitWidth() / 8;
  int64_t unit = std::max<int64_t>(4, elementBytes);
  int64_t bytes = llvm::alignTo(type.getColumns() * elementBytes, unit);
  if ((bytes / 4) % 2 == 0)
    bytes += unit;
  return bytes / elementBytes;
}

/// The bytes a tile takes in shared memory (padded rows), 16-byte aligned.
static int64_t sharedBytes(TileType type) {
  int64_t elementBytes = type.getElementType().getIntOrFloatBitWidth() / 8;
  int64_t columns = type.getRank() == 1 ? 1 : paddedColumns(type);
  return llvm::alignTo(type.getRows() * columns * elementBytes, 16);
}

namespace {
/// Which tiles of a function live where: in the workspace slice of the
/// block's (sequence, head) those of more than `sharedTileBytes` bytes in
/// shared memory (none where the function has no workspace), in shared
/// memory the others. All tiles of one type live in one place, so the
/// values an scf.for or scf.if joins have one memref type.
struct ScratchPlaces {
  int64_t sharedTileBytes = INT64_MAX;

  bool inWorkspace(TileType type) const {
    return sharedBytes(type) > sharedTileBytes;
  }
  /// The bytes a tile takes in its place, 16-byte aligned.
  int64_t bytes(TileType type) const {
    if (!inWorkspace(type))
      return sharedBytes(type);
    return llvm::alignTo(type.getNumElements() * 4, 16);
  }
};

/// A tile becomes a view of its scratch: in shared memory, rows padded to
/// paddedColumns; in the workspace, f32 rows one after the other from a
/// dynamic offset.
class SimtTypeConverter : public TypeConverter {
public:
  explicit SimtTypeConverter(ScratchPlaces places) {
    addConversion([](Type type) { return type; });
    addConversion([places](TileType type) -> Type {
      MLIRContext *context = type.getContext();
      if (!places.inWorkspace(type)) {
        auto workgroup =
            gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup);
        MemRefLayoutAttrInterface layout;
        if (type.getRank() == 2)
          layout = StridedLayoutAttr::get(context, 0, {paddedColumns(type), 1});
        return MemRefType::get(type.getShape(), type.getElementType(), layout,
                               workgroup);
      }
      SmallVector<int64_t> strides = {1};
      if (type.getRank() == 2)
        strides = {type.getColumns(), 1};
      return MemRefType::get(
          type.getShape(), type.getElementType(),
          StridedLayoutAttr::get(context, ShapedType::kDynamic, strides));
    });
  }
};
} // namespace

/// The view of type `type` at byte `offset` of its scratch: the block's
/// dynamic shared memory (a workgroup memref type), or the slice [b, h, :]
/// of `workspace`.
static Value scratchView(OpBuilder &b, Location loc, MemRefType type,
                         int64_t offset, Value workspace) {
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  if (type.getMemorySpace()) {
    ArrayRef<int64_t> shape = type.getShape();
    SmallVector<int64_t> padded(shape);
    if (type.getRank() == 2) {
      SmallVector<int64_t> strides;
      int64_t ignored;
      (void)type.getStridesAndOffset(strides, ignored);
      padded[1] = strides[0];
    }
    Value whole = getDynamicSharedView(
        b, loc,
        MemRefType::get(padded, type.getElementType(),
                        MemRefLayoutAttrInterface{}, type.getMemorySpace()),
        index(offset));
    if (type.getRank() == 1)
      return whole;
    SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(shape[0]),
                                       b.getIndexAttr(shape[1])};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    return memref::SubViewOp::create(b, loc, type, whole, offsets, sizes,
                                     strides);
  }
  // The grid of a kernel with a workspace: x heads, y sequences.
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  return getWorkspaceView(b, loc, workspace, bi, h, b.getIndexAttr(offset / 4),
                          b.getIndexAttr(type.getShape()[0]),
                          type.getShape().drop_front());
}

//===----------------------------------------------------------------------===//
// Scratch plan
//===----------------------------------------------------------------------===//

/// Step 2 of the file comment: widens `region` over every read of `value`
/// and of the values it becomes.
static void extendOverReads(const ProgramOrder &order, Value value,
                            MemoryRegion &region) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    region.end =
        std::max(region.end, order.endOfRead(value.getParentBlock(), user));
    if (isa<scf::YieldOp>(user)) {
      Operation *parent = user->getParentOp();
      if (isa<scf::ForOp>(parent))
        region.start = std::min(region.start, order.first.lookup(parent));
      region.end = std::max(region.end, order.last.lookup(parent));
      extendOverReads(order, parent->getResult(use.getOperandNumber()), region);
    } else if (auto loop = dyn_cast<scf::ForOp>(user)) {
      region.end = std::max(region.end, order.last.lookup(loop));
      extendOverReads(order, loop.getTiedLoopResult(&use), region);
    } else if (isa<ConvertLayoutOp>(user)) {
      extendOverReads(order, user->getResult(0), region);
    }
  }
}

namespace {
/// The scratch of one function's tiles: each tile op's byte offset in its
/// place, and the bytes of each place.
struct ScratchPlan {
  DenseMap<Operation *, int64_t> offsets;
  SimtScratchBytes bytes;
};
} // namespace

static ScratchPlan planScratch(Operation *function, ScratchPlaces places) {
  ProgramOrder order(function);
  // Per place (shared memory, workspace): its tile ops and their regions.
  SmallVector<Operation *> ops[2];
  SmallVector<MemoryRegion> regions[2];
  function->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!isa<TileDialect>(op->getDialect()) || isa<ConvertLayoutOp>(op) ||
        op->getNumResults() != 1)
      return;
    auto tile = dyn_cast<TileType>(op->getResult(0).getType());
    if (!tile)
      return;
    int64_t at = order.first.lookup(op);
    MemoryRegion region{at, at, places.bytes(tile)};
    extendOverReads(order, op->getResult(0), region);
    int place = places.inWorkspace(tile);
    ops[place].push_back(op);
    regions[place].push_back(region);
  });
  ScratchPlan plan;
  for (int place : {0, 1}) {
    (place ? plan.bytes.workspace : plan.bytes.shared) =
        placeMemoryRegions(regions[place]);
    for (auto [op, region] : llvm::zip(ops[place], regions[place]))
      plan.offsets[op] = region.offset;
  }
  return plan;
}

/// Step 1 of the file comment.
static LogicalResult prepareSimtProgram(Operation *function) {
  if (failed(decomposeTileSoftmax(function)))
    return failure();
  copyCarriedTiles(function);
  return success();
}

SimtScratchBytes mlir::attn::getSimtScratchBytes(FunctionOpInterface function,
                                                 int64_t sharedTileBytes) {
  Operation *copy = function->clone();
  SimtScratchBytes bytes;
  if (succeeded(prepareSimtProgram(copy)))
    bytes = planScratch(copy, ScratchPlaces{sharedTileBytes}).bytes;
  copy->erase();
  return bytes;
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

static LogicalResult lowerSimtKernel(gpu::GPUFuncOp function) {
  std::optional<ArrayRef<int32_t>> blockSize = function.getKnownBlockSize();
  if (!blockSize || (*blockSize)[1] != 1 || (*blockSize)[2] != 1)
    return function.emitOpError()
           << "needs a known block size of [threads, 1, 1] for the SIMT "
              "strategy";
  Value workspace;
  if (auto index =
          function->getAttrOfType<IntegerAttr>(kSimtWorkspaceAttrName)) {
    if (index.getInt() < 0 ||
        index.getInt() >= int64_t(function.getNumArguments()))
      return function.emitOpError()
             << "names argument " << index.getInt()
             << " as its workspace, which it does not have";
    workspace = function.getArgument(index.getInt());
  }
  ScratchPlaces places;
  if (workspace) {
    auto limit =
        function->getAttrOfType<IntegerAttr>(kSimtSharedTileBytesAttrName);
    if (!limit)
      return function.emitOpError()
             << "names a workspace but not " << kSimtSharedTileBytesAttrName;
    places.sharedTileBytes = limit.getInt();
  }
  if (failed(prepareSimtProgram(function)))
    return failure();
  WalkResult wide = function.walk([&](Operation *op) {
    for (Type type : op->getResultTypes())
      if (auto tile = dyn_cast<TileType>(type);
          tile && places.inWorkspace(tile) && !tile.getElementType().isF32()) {
        op->emitOpError() << "has a " << tile.getElementType()
                          << " tile, but the SIMT strategy keeps only f32 "
                             "tiles in the workspace";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  if (wide.wasInterrupted())
    return failure();
  ScratchPlan plan = planScratch(function, places);
  TileLoopOptions options;
  options.threads = (*blockSize)[0];
  options.allocate = [&](OpBuilder &b, Operation *op, MemRefType type) {
    return scratchView(b, op->getLoc(), type, plan.offsets.lookup(op),
                       workspace);
  };
  MLIRContext *context = function.getContext();
  SimtTypeConverter converter(places);
  RewritePatternSet patterns(context);
  ConversionTarget target(*context);
  target.addIllegalDialect<TileDialect>();
  target.addLegalDialect<arith::ArithDialect, math::MathDialect,
                         memref::MemRefDialect, scf::SCFDialect,
                         gpu::GPUDialect>();
  populateTileToLoopsPatterns(converter, patterns, options);
  scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                       target);
  return applyPartialConversion(function, target, std::move(patterns));
}

namespace {
struct AttnTileToSimtPass
    : mlir::attn::impl::AttnTileToSimtPassBase<AttnTileToSimtPass> {
  void runOnOperation() override {
    SmallVector<gpu::GPUFuncOp> kernels;
    getOperation().walk([&](gpu::GPUFuncOp function) {
      if (function->hasAttr(kSimtKernelAttrName))
        kernels.push_back(function);
    });
    for (gpu::GPUFuncOp function : kernels)
      if (failed(lowerSimtKernel(function)))
        return signalPassFailure();
  }
};
} // namespace
