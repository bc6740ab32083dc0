//===- SharedMemoryPlan.cpp - shared memory of the mma.sync strategy ------===//
//
/// \file
/// The shared tiles' memory types and the placement of a function's shared
/// tiles (see SharedMemoryPlan.h).
//
//===----------------------------------------------------------------------===//

#include "SharedMemoryPlan.h"
#include "attn/Conversion/TileMemoryPlan.h"
#include "attn/Conversion/TileToMmaSync.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::mma_sync;
using namespace mlir::attn::tile;

bool mlir::attn::mma_sync::isShared(TileType type) {
  return isa_and_nonnull<SharedLayoutAttr>(type.getLayout());
}

/// Columns of a shared tile's rows in memory, padding included.
static int64_t paddedColumns(TileType type) {
  if (type.getRank() == 1)
    return type.getRows();
  int64_t bytes = type.getElementType().getIntOrFloatBitWidth() / 8;
  return type.getColumns() + kRowPadBytes / bytes;
}

MemRefType mlir::attn::mma_sync::sharedMemRefType(TileType type) {
  auto workgroup = gpu::AddressSpaceAttr::get(type.getContext(),
                                              gpu::AddressSpace::Workgroup);
  SmallVector<int64_t> shape = {type.getRows()};
  if (type.getRank() == 2)
    shape.push_back(paddedColumns(type));
  return MemRefType::get(shape, type.getElementType(),
                         MemRefLayoutAttrInterface{}, workgroup);
}

int64_t mlir::attn::mma_sync::sharedBytes(TileType type) {
  int64_t bytes = type.getElementType().getIntOrFloatBitWidth() / 8;
  int64_t size =
      type.getRows() * (type.getRank() == 2 ? paddedColumns(type) : 1) * bytes;
  return llvm::alignTo(size, 16);
}

bool mlir::attn::mma_sync::isStagedStore(StoreOp op) {
  TileType type = op.getTile().getType();
  Type memoryElement = op.getDest().getType().getElementType();
  auto mma = dyn_cast<MmaLayoutAttr>(type.getLayout());
  // Each warp copies out 16-byte chunks of its own columns.
  return mma && type.getRank() == 2 &&
         memoryElement.getIntOrFloatBitWidth() == 16 &&
         (type.getColumns() / mma.getWarps()[1] * 2) % 16 == 0;
}

/// The shared tiles the lowering of `op` uses inside it, beside its shared
/// results: decayed_scores stages its rescaled queries and keys, ut_solve
/// the products of its blocks, a staged store its rows.
SmallVector<TileType> mlir::attn::mma_sync::getScratchTiles(Operation *op) {
  auto shared = SharedLayoutAttr::get(op->getContext());
  if (auto store = dyn_cast<StoreOp>(op); store && isStagedStore(store))
    return {store.getTile()
                .getType()
                .withElementType(store.getDest().getType().getElementType())
                .withLayout(shared)};
  if (auto solve = dyn_cast<UTSolveOp>(op)) {
    // X = L_ba T_a of each pair of blocks UTSolveLowering joins: n / 2 rows
    // in all, as wide as the widest joined block.
    int64_t n = solve.getType().getRows(), widest = 16;
    while (2 * widest < n)
      widest *= 2;
    if (n <= 16)
      return {};
    return {TileType::get(op->getContext(), {n / 2, widest},
                          Float32Type::get(op->getContext()), shared)};
  }
  auto scores = dyn_cast<DecayedScoresOp>(op);
  if (!scores)
    return {};
  return {scores.getQueries().getType().withLayout(shared),
          scores.getKeys().getType().withLayout(shared)};
}

namespace {
/// One shared tile's region and the ops it lives over, in the pre-order
/// numbering of the function's ops.
struct SharedInterval {
  Operation *op;
  StringRef attribute;
  MemoryRegion region;
};

/// A shared tile an scf.for carries: the load before the loop that gives
/// its first value and the load in the loop body that gives the next
/// iteration's. Both loads share one ring of two regions (ringView); the
/// loop waits for them as each iteration starts (waitForCarriedLoads).
struct CarriedLoad {
  LoadOp first, next;
  scf::ForOp loop;
};
} // namespace

/// The carried shared tiles of `function`. A carried shared tile of any
/// other origin is an error: nothing would keep its two values apart.
static FailureOr<SmallVector<CarriedLoad>>
findCarriedLoads(FunctionOpInterface function) {
  SmallVector<CarriedLoad> carried;
  WalkResult walk = function.walk([&](scf::ForOp loop) {
    for (auto [init, yielded] :
         llvm::zip(loop.getInitArgs(), loop.getYieldedValues())) {
      auto tile = dyn_cast<TileType>(init.getType());
      if (!tile || !isShared(tile))
        continue;
      auto first = init.getDefiningOp<LoadOp>();
      auto next = yielded.getDefiningOp<LoadOp>();
      if (!first || !next || next->getBlock() != loop.getBody() ||
          first->getBlock() != loop->getBlock()) {
        loop.emitOpError("carries a shared tile that is not loaded before "
                         "the loop and again in its body");
        return WalkResult::interrupt();
      }
      carried.push_back({first, next, loop});
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return carried;
}

/// The shared tiles of `function`, each with the interval from its op to its
/// last reader. A reader nested in an op of the defining block (a loop, say)
/// keeps the tile alive to the end of that op, so a tile read in every
/// iteration is not reused inside the loop.
static SmallVector<SharedInterval>
getSharedIntervals(FunctionOpInterface function,
                   ArrayRef<CarriedLoad> carried) {
  ProgramOrder order(function);
  DenseMap<Operation *, int64_t> &first = order.first, &last = order.last;
  // A carried tile's ring lives from its first load to its loop's end; the
  // next load takes the same offset (assignSharedOffsets).
  DenseMap<Operation *, CarriedLoad> ringOf;
  for (const CarriedLoad &load : carried) {
    ringOf[load.first] = load;
    ringOf[load.next] = load;
  }
  SmallVector<SharedInterval> intervals;
  function.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!isa<TileDialect>(op->getDialect()))
      return;
    if (auto ring = ringOf.find(op); ring != ringOf.end()) {
      CarriedLoad load = ring->second;
      if (op == load.first.getOperation())
        intervals.push_back(
            {op, kSharedOffset,
             MemoryRegion{first[op], last[load.loop.getOperation()],
                          2 * sharedBytes(load.first.getType())}});
      return;
    }
    for (Value result : op->getResults()) {
      auto tile = dyn_cast<TileType>(result.getType());
      if (!tile || !isShared(tile))
        continue;
      int64_t end = first[op];
      for (Operation *user : result.getUsers())
        end = std::max(end, order.endOfRead(op->getBlock(), user));
      intervals.push_back(
          {op, kSharedOffset, MemoryRegion{first[op], end, sharedBytes(tile)}});
    }
    int64_t scratch = 0;
    for (TileType type : getScratchTiles(op))
      scratch += sharedBytes(type);
    if (scratch)
      intervals.push_back(
          {op, kScratchOffset, MemoryRegion{first[op], first[op], scratch}});
  });
  return intervals;
}

/// Places the shared tiles of `function` first-fit by start. Every writer of a
/// shared tile begins with a barrier, so the readers of a dead tile are done
/// before its region is written again. Returns the bytes in all.
static int64_t placeSharedTiles(SmallVectorImpl<SharedInterval> &intervals) {
  SmallVector<MemoryRegion> regions = llvm::map_to_vector(
      intervals, [](const SharedInterval &i) { return i.region; });
  int64_t total = placeMemoryRegions(regions);
  for (auto [interval, region] : llvm::zip(intervals, regions))
    interval.region.offset = region.offset;
  return total;
}

int64_t mlir::attn::getTileSharedBytes(FunctionOpInterface function) {
  FailureOr<SmallVector<CarriedLoad>> carried = findCarriedLoads(function);
  SmallVector<SharedInterval> intervals = getSharedIntervals(
      function, succeeded(carried) ? *carried : ArrayRef<CarriedLoad>());
  return placeSharedTiles(intervals);
}

/// Gives each op with a shared result its region (placeSharedTiles, the
/// placement getTileSharedBytes measures); the loads of a carried tile
/// share their ring's offset and are marked as ring loads.
LogicalResult
mlir::attn::mma_sync::assignSharedOffsets(FunctionOpInterface function) {
  FailureOr<SmallVector<CarriedLoad>> carried = findCarriedLoads(function);
  if (failed(carried))
    return failure();
  SmallVector<SharedInterval> intervals =
      getSharedIntervals(function, *carried);
  placeSharedTiles(intervals);
  auto i64 = IntegerType::get(function.getContext(), 64);
  for (const SharedInterval &interval : intervals)
    interval.op->setAttr(interval.attribute,
                         IntegerAttr::get(i64, interval.region.offset));
  for (const CarriedLoad &load : *carried) {
    load.next->setAttr(kSharedOffset, load.first->getAttr(kSharedOffset));
    load.first->setAttr(kRing, UnitAttr::get(function.getContext()));
    load.next->setAttr(kRing, UnitAttr::get(function.getContext()));
  }
  return success();
}
