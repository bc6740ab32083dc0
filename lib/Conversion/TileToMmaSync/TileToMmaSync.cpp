//===- TileToMmaSync.cpp - attn_tile ops to mma.sync and shared memory ----===//
//
/// \file
/// The mma.sync strategy of the tile level (the attn-tile-to-mma-sync pass):
///  1. Register tiles (#attn_tile.mma, #attn_tile.operand,
///     #attn_tile.slice) become one vector per thread holding the elements
///     the layout gives it, in the order the layout's description states;
///     `MmaTileGeometry` answers which (row, column) element e of a thread
///     is.
///  2. Shared tiles become views of the block's dynamic shared memory at
///     the offset `assignSharedOffsets` gave their op, with 16 padding bytes
///     per row; tiles that are never alive together share a region.
///     Writers of shared tiles are bracketed by barriers.
///  3. Matmuls and the state update run m16n8k16 MMAs on fragments from
///     ldmatrix (shared operands) or from registers (an A operand converted
///     from an accumulator); maps run their body once per element.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/TileToMmaSync.h"
#include "SharedMemoryPlan.h"
#include "attn/Conversion/DecomposeTileSoftmax.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/MmaFragments.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include <array>
#include <numeric>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILETOMMASYNCPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;
using namespace mlir::attn::mma_sync;

/// Unit attributes on the shared loads that start and end a run of
/// consecutive shared loads (see markSharedLoadRuns).
static constexpr llvm::StringLiteral kRunStart = "attn_tile.load_run_start";
static constexpr llvm::StringLiteral kRunEnd = "attn_tile.load_run_end";

namespace {

/// Which (row, column) each element of a thread's vector is, for the
/// register layouts (see their descriptions in TileAttrs.td).
struct MmaTileGeometry {
  TileType type;
  MmaLayoutAttr mma;
  int64_t rowsPerWarp = 0, columnsPerWarp = 0, repM = 0, repN = 0;

  explicit MmaTileGeometry(TileType type) : type(type) {
    Attribute layout = type.getLayout();
    int64_t rows = type.getRows();
    int64_t columns = type.getColumns();
    if (auto slice = dyn_cast<SliceLayoutAttr>(layout)) {
      mma = dyn_cast<MmaLayoutAttr>(slice.getParent());
      // The parent's extent along the kept dimension is this tile's size;
      // the other extent does not matter for the slice.
      if (slice.getDim() == 1)
        columns = 8 * (mma ? mma.getWarps()[1] : 1);
      else {
        columns = rows;
        rows = 16 * (mma ? mma.getWarps()[0] : 1);
      }
    } else if (auto operand = dyn_cast<OperandLayoutAttr>(layout)) {
      mma = operand.getParent();
    } else {
      mma = dyn_cast<MmaLayoutAttr>(layout);
    }
    if (!mma)
      return;
    rowsPerWarp = rows / mma.getWarps()[0];
    columnsPerWarp = columns / mma.getWarps()[1];
    repM = rowsPerWarp / 16;
    repN = columnsPerWarp / 8;
  }

  bool valid() const { return bool(mma); }
  int64_t numElements() const {
    Attribute layout = type.getLayout();
    if (auto slice = dyn_cast<SliceLayoutAttr>(layout))
      return slice.getDim() == 1 ? 2 * repM : 2 * repN;
    if (auto operand = dyn_cast<OperandLayoutAttr>(layout))
      return operand.getIndex() == 0 ? repM * (type.getColumns() / 16) * 8
                                     : (type.getRows() / 16) * repN * 4;
    return repM * repN * 4;
  }
  VectorType vectorType() const {
    return VectorType::get({numElements()}, type.getElementType());
  }
};

/// The ids of the calling thread, built once per lowering.
struct ThreadIds {
  OpBuilder &b;
  Location loc;
  Value thread, lane, warp, group, quad;

  ThreadIds(OpBuilder &b, Location loc) : b(b), loc(loc) {
    thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    lane = arith::RemUIOp::create(b, loc, thread, idx(32));
    warp = arith::DivUIOp::create(b, loc, thread, idx(32));
    group = arith::DivUIOp::create(b, loc, lane, idx(4));
    quad = arith::RemUIOp::create(b, loc, lane, idx(4));
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, idx(y)) : x; }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, idx(y));
  }
  /// The warp's row and column blocks in a layout with warps [wm, wn].
  Value warpRow(const MmaTileGeometry &g) {
    Value row = arith::DivUIOp::create(b, loc, warp, idx(g.mma.getWarps()[1]));
    return mul(row, g.rowsPerWarp);
  }
  Value warpColumn(const MmaTileGeometry &g) {
    Value column =
        arith::RemUIOp::create(b, loc, warp, idx(g.mma.getWarps()[1]));
    return mul(column, g.columnsPerWarp);
  }

  /// Whether entry (i, j) is kept by a causal mask with `diagonal`
  /// (j - i <= diagonal), as decay_mask and decayed_scores define it.
  Value keeps(Value i, Value j, int64_t diagonal) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, j,
                                 add(i, idx(diagonal)));
  }

  /// Row and column of element `e` of this thread in a register tile.
  std::pair<Value, Value> coordinates(const MmaTileGeometry &g, int64_t e) {
    Attribute layout = g.type.getLayout();
    if (auto slice = dyn_cast<SliceLayoutAttr>(layout)) {
      int64_t rep = e / 2, half = e % 2;
      if (slice.getDim() == 1)
        return {add(add(warpRow(g), group), 16 * rep + 8 * half), Value()};
      Value column = add(add(warpColumn(g), mul(quad, 2)), 8 * rep + half);
      return {column, Value()};
    }
    if (auto operand = dyn_cast<OperandLayoutAttr>(layout)) {
      if (operand.getIndex() == 0) {
        int64_t steps = g.type.getColumns() / 16;
        int64_t a = e / (8 * steps), s = (e / 8) % steps, reg = (e % 8) / 2,
                h = e % 2;
        Value row = add(add(warpRow(g), group), 16 * a + 8 * (reg % 2));
        Value column = add(mul(quad, 2), 16 * s + 8 * (reg / 2) + h);
        return {row, column};
      }
      int64_t s = e / (4 * g.repN), c = (e / 4) % g.repN, reg = (e % 4) / 2,
              h = e % 2;
      Value row = add(mul(quad, 2), 16 * s + 8 * reg + h);
      Value column = add(add(warpColumn(g), group), 8 * c);
      return {row, column};
    }
    int64_t a = e / (4 * g.repN), c = (e / 4) % g.repN, k = e % 4;
    Value row = add(add(warpRow(g), group), 16 * a + 8 * (k / 2));
    Value column = add(add(warpColumn(g), mul(quad, 2)), 8 * c + k % 2);
    return {row, column};
  }
};

/// For element e of an #attn_tile.mma tile: its entry in the row vector
/// (slice<dim = 1>) and the column vector (slice<dim = 0>) of the tile.
static int64_t rowSlot(const MmaTileGeometry &g, int64_t e) {
  int64_t a = e / (4 * g.repN), k = e % 4;
  return 2 * a + k / 2;
}
static int64_t columnSlot(const MmaTileGeometry &g, int64_t e) {
  int64_t c = (e / 4) % g.repN, k = e % 4;
  return 2 * c + k % 2;
}

static bool isRegisterLayout(Attribute layout) {
  return isa_and_nonnull<MmaLayoutAttr, OperandLayoutAttr, SliceLayoutAttr>(
      layout);
}

/// The elements of a thread's vector as scalars, and back.
static SmallVector<Value> unpack(OpBuilder &b, Location loc, Value vector) {
  int64_t n = cast<VectorType>(vector.getType()).getNumElements();
  SmallVector<Value> out;
  for (int64_t e = 0; e < n; ++e)
    out.push_back(vector::ExtractOp::create(b, loc, vector, e));
  return out;
}
static Value pack(OpBuilder &b, Location loc, VectorType type,
                  ArrayRef<Value> elements) {
  return vector::FromElementsOp::create(b, loc, type, elements);
}

/// The view of a shared tile of `type` at `byteOffset` of the block's
/// dynamic shared memory.
static Value sharedViewAt(OpBuilder &b, Location loc, TileType type,
                          Value byteOffset) {
  return getDynamicSharedView(b, loc, sharedMemRefType(type), byteOffset);
}
static Value sharedViewAt(OpBuilder &b, Location loc, TileType type,
                          int64_t byteOffset) {
  return sharedViewAt(b, loc, type,
                      arith::ConstantIndexOp::create(b, loc, byteOffset));
}

/// The view of `op`'s shared region (see assignSharedOffsets).
static Value sharedView(OpBuilder &b, Operation *op, TileType type) {
  auto offset = op->getAttrOfType<IntegerAttr>(kSharedOffset);
  return sharedViewAt(b, op->getLoc(), type, offset ? offset.getInt() : 0);
}

/// The view of a ring load's region: the half of its two that the parity
/// of its chunk (first row / rows) picks, so that the chunk a loop reads
/// and the chunk it fetches for the next iteration never share one.
static Value ringView(OpBuilder &b, Operation *op, TileType type,
                      Value firstRow) {
  Location loc = op->getLoc();
  auto offset = op->getAttrOfType<IntegerAttr>(kSharedOffset);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value chunk = arith::DivUIOp::create(b, loc, firstRow, idx(type.getRows()));
  Value half = arith::RemUIOp::create(b, loc, chunk, idx(2));
  Value byteOffset = arith::AddIOp::create(
      b, loc, idx(offset ? offset.getInt() : 0),
      arith::MulIOp::create(b, loc, half, idx(sharedBytes(type))));
  return sharedViewAt(b, loc, type, byteOffset);
}

/// The views of `op`'s scratch tiles, one after the other.
static SmallVector<Value> scratchViews(OpBuilder &b, Operation *op) {
  auto offset = op->getAttrOfType<IntegerAttr>(kScratchOffset);
  int64_t at = offset ? offset.getInt() : 0;
  SmallVector<Value> views;
  for (TileType type : getScratchTiles(op)) {
    views.push_back(sharedViewAt(b, op->getLoc(), type, at));
    at += sharedBytes(type);
  }
  return views;
}

/// The threads of the block `op` runs in, when its gpu.func states its
/// known block size.
static std::optional<int64_t> getKnownBlockThreads(Operation *op) {
  auto function = op->getParentOfType<gpu::GPUFuncOp>();
  std::optional<ArrayRef<int32_t>> size =
      function ? function.getKnownBlockSize() : std::nullopt;
  if (!size)
    return std::nullopt;
  return (*size)[0];
}

/// Runs `body(i)` for i in [thread, count) in steps of the block's size.
static void forEachThreadShare(OpBuilder &b, Location loc, Value thread,
                               int64_t count,
                               function_ref<void(OpBuilder &, Value)> body) {
  Value threads = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  auto loop = scf::ForOp::create(
      b, loc, thread, arith::ConstantIndexOp::create(b, loc, count), threads);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(b, loop.getInductionVar());
}

/// Runs `body(r, c)` for the runs of `width` consecutive columns (c a
/// multiple of `width`) of a [rows, columns] tile, a share of the runs per
/// thread of `op`'s block: unrolled rounds when `unroll` and the block size
/// is known, else a loop.
static void forEachRun(OpBuilder &b, Operation *op, ThreadIds &ids,
                       int64_t rows, int64_t columns, int64_t width,
                       function_ref<void(OpBuilder &, Value, Value)> body,
                       bool unroll = true) {
  Location loc = op->getLoc();
  int64_t perRow = columns / width, runs = rows * perRow;
  auto run = [&](OpBuilder &nb, Value id) {
    Value perRowValue = arith::ConstantIndexOp::create(nb, loc, perRow);
    Value r = arith::DivUIOp::create(nb, loc, id, perRowValue);
    Value c = arith::MulIOp::create(
        nb, loc, arith::RemUIOp::create(nb, loc, id, perRowValue),
        arith::ConstantIndexOp::create(nb, loc, width));
    body(nb, r, c);
  };
  std::optional<int64_t> threads = getKnownBlockThreads(op);
  if (!threads || !unroll)
    return forEachThreadShare(b, loc, ids.thread, runs, run);
  for (int64_t round = 0; round * *threads < runs; ++round) {
    Value id = ids.add(ids.thread, round * *threads);
    if ((round + 1) * *threads <= runs) {
      run(b, id);
      continue;
    }
    Value has = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id,
                                      ids.idx(runs));
    scf::IfOp::create(b, loc, has, [&](OpBuilder &nb, Location l) {
      run(nb, id);
      scf::YieldOp::create(nb, l);
    });
  }
}

/// The alignment of a run of `width` elements at a column that is a
/// multiple of `width` in a row of shared `memory` (16-byte aligned
/// regions; rows padded as sharedMemRefType pads them).
static llvm::Align getRunAlignment(Value memory, int64_t width) {
  auto type = cast<MemRefType>(memory.getType());
  int64_t bytes = type.getElementType().getIntOrFloatBitWidth() / 8;
  uint64_t align = std::gcd(16, width * bytes);
  if (type.getRank() == 2)
    align = std::gcd(align, uint64_t(type.getDimSize(1) * bytes));
  return llvm::Align(align);
}

/// `width` consecutive elements of shared `memory` from `at`.
static SmallVector<Value> loadRun(OpBuilder &b, Location loc, Value memory,
                                  ValueRange at, int64_t width) {
  Type element = cast<MemRefType>(memory.getType()).getElementType();
  Value run = vector::LoadOp::create(b, loc, VectorType::get({width}, element),
                                     memory, at, /*nontemporal=*/false,
                                     getRunAlignment(memory, width));
  SmallVector<Value> elements;
  for (int64_t i = 0; i < width; ++i)
    elements.push_back(vector::ExtractOp::create(b, loc, run, i));
  return elements;
}

/// Stores `elements` to shared `memory` from `at`, as one vector.
static void storeRun(OpBuilder &b, Location loc, ValueRange elements,
                     Value memory, ValueRange at) {
  int64_t width = elements.size();
  Type element = cast<MemRefType>(memory.getType()).getElementType();
  Value run = vector::FromElementsOp::create(
      b, loc, VectorType::get({width}, element), elements);
  vector::StoreOp::create(b, loc, run, memory, at, /*nontemporal=*/false,
                          getRunAlignment(memory, width));
}

/// Clones the body of `map` with its block arguments bound to `arguments`
/// and returns the yielded value.
static Value cloneMapBody(OpBuilder &b, MapOp map, ValueRange arguments) {
  IRMapping mapping;
  Block &body = map.getBody().front();
  mapping.map(body.getArguments(), arguments);
  for (Operation &op : body.without_terminator())
    b.clone(op, mapping);
  return mapping.lookup(cast<tile::YieldOp>(body.getTerminator()).getValue());
}

//===----------------------------------------------------------------------===//
// MMA fragments
//===----------------------------------------------------------------------===//

using Fragment = MmaFragment;

/// The lane's ldmatrix address for a 16x16 block at (first, second) of a
/// shared tile. Matrix i = lane / 8 of the x4 load takes its rows from
/// lanes 8i .. 8i + 7; `rowsMajor` says whether consecutive matrices step
/// down the stored rows first (i % 2 -> +8 rows, i / 2 -> +8 columns) or
/// across the columns first.
static std::pair<Value, Value> matrixAddress(ThreadIds &ids, Value row0,
                                             Value column0, bool rowsFirst) {
  OpBuilder &b = ids.b;
  Location loc = ids.loc;
  Value matrix = arith::DivUIOp::create(b, loc, ids.lane, ids.idx(8));
  Value r = arith::RemUIOp::create(b, loc, ids.lane, ids.idx(8));
  Value low = arith::RemUIOp::create(b, loc, matrix, ids.idx(2));
  Value high = arith::DivUIOp::create(b, loc, matrix, ids.idx(2));
  Value rowStep = rowsFirst ? low : high, columnStep = rowsFirst ? high : low;
  Value row = ids.add(ids.add(row0, r), ids.mul(rowStep, 8));
  Value column = ids.add(column0, ids.mul(columnStep, 8));
  return {row, column};
}

/// The A fragment (16 rows x 16 k) at (m0, k0) of a shared tile stored
/// [M][K], or [K][M] when `transposed`.
static Fragment sharedA(ThreadIds &ids, Value tile, Value m0, Value k0,
                        bool transposed) {
  // a0 = (m0.., k0..), a1 = (m8.., k0..), a2 = (m0.., k8..), a3 = (m8.., k8..)
  auto [row, column] = transposed ? matrixAddress(ids, k0, m0, false)
                                  : matrixAddress(ids, m0, k0, true);
  std::array<Value, 4> m =
      loadMatrices(ids.b, ids.loc, tile, row, column, transposed);
  Fragment out;
  for (int i = 0; i < 4; ++i)
    out[i] = getMmaOperand(ids.b, ids.loc, m[i]);
  return out;
}

/// The B fragments of the n-tiles n0 and n0 + 8 (16 k each) of a shared
/// tile stored [K][N], or [N][K] when `transposed`: {b0, b1} of n0, then
/// of n0 + 8, as vectors of two.
static std::array<Value, 4> sharedB(ThreadIds &ids, Value tile, Value k0,
                                    Value n0, bool transposed) {
  // Matrices: (k0.., n0..), (k8.., n0..), (k0.., n8..), (k8.., n8..).
  auto [row, column] = transposed ? matrixAddress(ids, n0, k0, false)
                                  : matrixAddress(ids, k0, n0, true);
  return loadMatrices(ids.b, ids.loc, tile, row, column, !transposed);
}

/// c += A B for the n-tiles 2 pair and 2 pair + 1 of row repetition `rep`
/// of an accumulator of geometry `g`: `fb` holds their B fragments as
/// sharedB returns them.
static void accumulateTilePair(OpBuilder &b, Location loc, Type element,
                               const MmaTileGeometry &g,
                               MutableArrayRef<Value> c, int64_t rep,
                               int64_t pair, const Fragment &fa,
                               const std::array<Value, 4> &fb) {
  for (int64_t t = 0; t < 2; ++t) {
    int64_t first = (rep * g.repN + 2 * pair + t) * 4;
    Fragment d = emitMma(b, loc, element, fa, getMmaOperand(b, loc, fb[2 * t]),
                         getMmaOperand(b, loc, fb[2 * t + 1]),
                         ArrayRef<Value>(c).slice(first, 4));
    for (int i = 0; i < 4; ++i)
      c[first + i] = d[i];
  }
}

/// c += A B over `depth` for an accumulator of geometry `g` whose A (stored
/// [M][K], or [K][M] when `transposeLhs`) and B ([K][N], or [N][K]) are
/// shared tiles.
static void accumulateSharedProduct(ThreadIds &ids, Type element,
                                    const MmaTileGeometry &g,
                                    MutableArrayRef<Value> c, Value lhs,
                                    bool transposeLhs, Value rhs,
                                    bool transposeRhs, int64_t depth) {
  Value warpRow = ids.warpRow(g);
  int64_t columns = g.type.getColumns();
  for (int64_t rep = 0; rep < g.repM; ++rep) {
    Value m0 = ids.add(warpRow, 16 * rep);
    for (int64_t s = 0; s < depth / 16; ++s) {
      Value k0 = ids.idx(16 * s);
      Fragment fa = sharedA(ids, lhs, m0, k0, transposeLhs);
      for (int64_t pair = 0; pair < columns / 16; ++pair) {
        std::array<Value, 4> fb =
            sharedB(ids, rhs, k0, ids.idx(16 * pair), transposeRhs);
        accumulateTilePair(ids.b, ids.loc, element, g, c, rep, pair, fa, fb);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename OpTy> struct MmaSyncLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
};

/// Fails unless every tile type is one this strategy lowers.
static LogicalResult checkLayouts(ConversionPatternRewriter &rewriter,
                                  Operation *op) {
  for (Type type :
       llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes())) {
    auto tile = dyn_cast<TileType>(type);
    if (!tile)
      continue;
    Attribute layout = tile.getLayout();
    if (isShared(tile))
      continue;
    if (!isRegisterLayout(layout) || !MmaTileGeometry(tile).valid())
      return rewriter.notifyMatchFailure(
          op, "the mma.sync strategy needs #attn_tile.mma, operand, slice or "
              "shared layouts");
  }
  return success();
}

struct SplatLowering : MmaSyncLowering<SplatOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(SplatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType type = op.getType();
    Location loc = op.getLoc();
    if (isShared(type))
      return rewriter.notifyMatchFailure(op, "shared splats are not used");
    auto vector = MmaTileGeometry(type).vectorType();
    rewriter.replaceOp(op, vector::BroadcastOp::create(rewriter, loc, vector,
                                                       adaptor.getValue()));
    return success();
  }
};

/// The pieces of one attn_tile.load: where its elements are in memory and
/// how each layout's copy reads them.
struct TileLoad {
  OpBuilder &b;
  Location loc;
  ThreadIds &ids;
  Value source;
  SmallVector<Value> base;
  Value bound;
  Type element;
  /// The memory dimension of the tile's rows.
  int64_t rowDim;

  /// Element (row, column) of the tile, widened to the tile's type, 0 at
  /// or past the bound.
  Value readElement(OpBuilder &builder, Value row, Value column) const {
    SmallVector<Value> at(base);
    at[rowDim] = arith::AddIOp::create(builder, loc, at[rowDim], row);
    if (column)
      at[rowDim + 1] =
          arith::AddIOp::create(builder, loc, at[rowDim + 1], column);
    auto read = [&](OpBuilder &nb, Location l) -> Value {
      return convertFloat(nb, l, memref::LoadOp::create(nb, l, source, at),
                          element);
    };
    if (!bound)
      return read(builder, loc);
    Value inside = arith::CmpIOp::create(
        builder, loc, arith::CmpIPredicate::slt, at[rowDim], bound);
    return scf::IfOp::create(
               builder, loc, inside,
               [&](OpBuilder &nb, Location l) {
                 scf::YieldOp::create(nb, l, read(nb, l));
               },
               [&](OpBuilder &nb, Location l) {
                 Value zero = arith::ConstantOp::create(
                     nb, l, nb.getFloatAttr(element, 0));
                 scf::YieldOp::create(nb, l, zero);
               })
        .getResult(0);
  }

  /// A register tile: each thread reads its own elements.
  Value loadRegisters(TileType type) const {
    MmaTileGeometry g(type);
    SmallVector<Value> elements;
    for (int64_t e = 0; e < g.numElements(); ++e) {
      auto [row, column] = ids.coordinates(g, e);
      elements.push_back(readElement(b, row, column));
    }
    return pack(b, loc, g.vectorType(), elements);
  }

  /// A shared vector fetched ahead (a ring load) whose entries are 4 bytes
  /// in memory and in the tile: thread r < rows copies entry r by cp.async
  /// (0 past the bound), committed as one group and not waited for.
  void copyVectorAsync(TileType type, Value tile) const {
    Value has = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                      ids.thread, ids.idx(type.getRows()));
    scf::IfOp::create(b, loc, has, [&](OpBuilder &nb, Location l) {
      SmallVector<Value> at(base);
      at[rowDim] = arith::AddIOp::create(nb, l, at[rowDim], ids.thread);
      Value one = arith::ConstantIndexOp::create(nb, l, 1);
      Value elements = one;
      if (bound) {
        Value inside = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                             at[rowDim], bound);
        Value zero = arith::ConstantIndexOp::create(nb, l, 0);
        at[rowDim] = arith::SelectOp::create(nb, l, inside, at[rowDim], zero);
        elements = arith::SelectOp::create(nb, l, inside, one, zero);
      }
      // The entry as a one-element view of unit stride, whatever the
      // source's strides.
      auto type = cast<MemRefType>(source.getType());
      auto metadata = memref::ExtractStridedMetadataOp::create(nb, l, source);
      Value offset = metadata.getOffset();
      for (int64_t d = 0; d < type.getRank(); ++d)
        offset = arith::AddIOp::create(
            nb, l, offset,
            arith::MulIOp::create(nb, l, at[d], metadata.getStrides()[d]));
      auto entryType = MemRefType::get(
          {1}, type.getElementType(),
          StridedLayoutAttr::get(nb.getContext(), ShapedType::kDynamic, {1}));
      Value entry = memref::ReinterpretCastOp::create(
          nb, l, entryType, metadata.getBaseBuffer(), offset,
          ArrayRef<OpFoldResult>{nb.getIndexAttr(1)},
          ArrayRef<OpFoldResult>{nb.getIndexAttr(1)});
      Value zero = arith::ConstantIndexOp::create(nb, l, 0);
      nvgpu::DeviceAsyncCopyOp::create(
          nb, l, nvgpu::DeviceAsyncTokenType::get(nb.getContext()), tile,
          ValueRange{ids.thread}, entry, ValueRange{zero}, nb.getIndexAttr(1),
          elements, UnitAttr());
      scf::YieldOp::create(nb, l);
    });
    nvgpu::DeviceAsyncCreateGroupOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
  }

  /// A shared vector: the block's threads share its entries.
  void loadSharedVector(TileType type, Value tile) const {
    forEachThreadShare(b, loc, ids.thread, type.getRows(),
                       [&](OpBuilder &nb, Value r) {
                         memref::StoreOp::create(
                             nb, loc, readElement(nb, r, Value()), tile, r);
                       });
  }

  /// A shared tile by cp.async of `chunk`-element (16-byte) pieces, in
  /// rounds of `threads`; rows past the bound are zero-filled (a source
  /// size of 0, from row 0, which exists whenever a chunk runs). The copies
  /// are committed as one group and not waited for.
  void copyChunksAsync(TileType type, Value tile, int64_t chunk,
                       int64_t threads) const {
    Value rows = getUnitStrideRows(b, loc, source, base);
    int64_t chunksPerRow = type.getColumns() / chunk;
    int64_t chunks = type.getRows() * chunksPerRow;
    auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
    SmallVector<Value> tokens;
    for (int64_t round = 0; round * threads < chunks; ++round) {
      bool partial = (round + 1) * threads > chunks;
      std::optional<OpBuilder::InsertionGuard> guard;
      if (partial) {
        Value has =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, ids.thread,
                                  ids.idx(chunks - round * threads));
        auto ifHas = scf::IfOp::create(b, loc, has, /*withElseRegion=*/false);
        guard.emplace(b);
        b.setInsertionPointToStart(ifHas.thenBlock());
      }
      Value id = ids.add(ids.thread, round * threads);
      Value r = arith::DivUIOp::create(b, loc, id, ids.idx(chunksPerRow));
      Value c = ids.mul(
          arith::RemUIOp::create(b, loc, id, ids.idx(chunksPerRow)), chunk);
      Value row = ids.add(base[rowDim], r);
      Value column = ids.add(base[rowDim + 1], c);
      Value readRow = row, readElements = ids.idx(chunk);
      if (bound) {
        Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                             row, bound);
        readRow = arith::SelectOp::create(b, loc, inside, row, ids.idx(0));
        readElements =
            arith::SelectOp::create(b, loc, inside, ids.idx(chunk), ids.idx(0));
      }
      Value token = nvgpu::DeviceAsyncCopyOp::create(
          b, loc, tokenType, tile, ValueRange{r, c}, rows,
          ValueRange{readRow, column}, b.getIndexAttr(chunk), readElements,
          b.getUnitAttr());
      if (!partial)
        tokens.push_back(token);
    }
    nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType, tokens);
  }

  /// A shared tile by synchronous 16-byte vector loads, when the block size
  /// is not known.
  void copyChunksSync(TileType type, Value tile, int64_t chunk) const {
    Value rows = getUnitStrideRows(b, loc, source, base);
    int64_t chunksPerRow = type.getColumns() / chunk;
    auto chunkType = VectorType::get({chunk}, element);
    forEachThreadShare(
        b, loc, ids.thread, type.getRows() * chunksPerRow,
        [&](OpBuilder &nb, Value id) {
          Value perRow = arith::ConstantIndexOp::create(nb, loc, chunksPerRow);
          Value r = arith::DivUIOp::create(nb, loc, id, perRow);
          Value c = arith::MulIOp::create(
              nb, loc, arith::RemUIOp::create(nb, loc, id, perRow),
              arith::ConstantIndexOp::create(nb, loc, chunk));
          Value row = arith::AddIOp::create(nb, loc, base[rowDim], r);
          Value column = arith::AddIOp::create(nb, loc, base[rowDim + 1], c);
          Value inside =
              bound ? Value(arith::CmpIOp::create(
                          nb, loc, arith::CmpIPredicate::slt, row, bound))
                    : Value(arith::ConstantIntOp::create(nb, loc, 1, 1));
          Value data = scf::IfOp::create(
                           nb, loc, inside,
                           [&](OpBuilder &ib, Location l) {
                             scf::YieldOp::create(
                                 ib, l,
                                 vector::LoadOp::create(ib, l, chunkType, rows,
                                                        ValueRange{row, column})
                                     .getResult());
                           },
                           [&](OpBuilder &ib, Location l) {
                             Value zeros = arith::ConstantOp::create(
                                 ib, l, chunkType,
                                 DenseElementsAttr::get(
                                     chunkType, ib.getFloatAttr(element, 0)));
                             scf::YieldOp::create(ib, l, zeros);
                           })
                           .getResult(0);
          vector::StoreOp::create(nb, loc, data, tile, ValueRange{r, c});
        });
  }
};

/// Register tiles: per-thread loads. Shared tiles: cp.async of 16-byte
/// chunks (a run of consecutive shared loads waits once, at its end), a
/// shared vector by the block's threads.
struct LoadLowering : MmaSyncLowering<LoadOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(LoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType type = op.getType();
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    SmallVector<Value> base(adaptor.getIndices());
    TileLoad load{rewriter,
                  loc,
                  ids,
                  adaptor.getSource(),
                  base,
                  adaptor.getRowsBelow(),
                  type.getElementType(),
                  int64_t(base.size()) - type.getRank()};
    if (!isShared(type)) {
      rewriter.replaceOp(op, load.loadRegisters(type));
      return success();
    }
    Type memoryElement =
        cast<MemRefType>(adaptor.getSource().getType()).getElementType();
    int64_t chunk = 16 / (type.getElementType().getIntOrFloatBitWidth() / 8);
    if (type.getRank() == 2 &&
        (memoryElement != type.getElementType() || type.getColumns() % chunk))
      return rewriter.notifyMatchFailure(
          op, "a shared tile loads whole 16-byte chunks of its own type");
    bool ring = op->hasAttr(kRing);
    Value tile = ring ? ringView(rewriter, op, type, base[load.rowDim])
                      : sharedView(rewriter, op, type);
    // A run of loads waits once: a barrier before its first load (earlier
    // readers of the regions) and after its last (cp.async landed). A run
    // of ring loads is waited for where its loop's next iteration starts
    // (see waitForCarriedLoads).
    if (op->hasAttr(kRunStart))
      gpu::BarrierOp::create(rewriter, loc);
    std::optional<int64_t> threads = getKnownBlockThreads(op);
    // The next iteration's tile, fetched ahead in its loop's body.
    bool fetchedAhead = ring && isa<scf::ForOp>(op->getParentOp());
    // A vector of 4-byte entries fetched ahead goes by cp.async; one that
    // must be converted is read and stored now.
    bool asyncVector = fetchedAhead && threads && type.getRank() == 1 &&
                       type.getRows() <= *threads &&
                       memoryElement == type.getElementType() &&
                       memoryElement.getIntOrFloatBitWidth() == 32;
    if (asyncVector)
      load.copyVectorAsync(type, tile);
    else if (type.getRank() == 1)
      load.loadSharedVector(type, tile);
    else if (threads)
      load.copyChunksAsync(type, tile, chunk, *threads);
    else
      load.copyChunksSync(type, tile, chunk);
    if (op->hasAttr(kRunEnd) && !fetchedAhead) {
      NVVM::CpAsyncWaitGroupOp::create(rewriter, loc,
                                       rewriter.getI32IntegerAttr(0));
      gpu::BarrierOp::create(rewriter, loc);
    }
    rewriter.replaceOp(op, tile);
    return success();
  }
};

struct StoreLowering : MmaSyncLowering<StoreOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(StoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType type = op.getTile().getType();
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    if (isShared(type)) {
      if (type.getRank() != 2 ||
          op.getDest().getType().getElementType() != type.getElementType() ||
          type.getColumns() %
              (128 / type.getElementType().getIntOrFloatBitWidth()))
        return rewriter.notifyMatchFailure(
            op, "a shared tile stores whole 16-byte chunks of its own type");
      storeShared(rewriter, op, ids, adaptor.getTile(), adaptor.getDest(),
                  adaptor.getIndices(), adaptor.getRowsBelow());
      rewriter.eraseOp(op);
      return success();
    }
    MmaTileGeometry g(type);
    SmallVector<Value> elements = unpack(rewriter, loc, adaptor.getTile());
    SmallVector<Value> base(adaptor.getIndices());
    int64_t rowDim = base.size() - type.getRank();
    Type memoryElement = op.getDest().getType().getElementType();
    Value bound = adaptor.getRowsBelow();
    if (isStagedStore(op)) {
      storeStaged(rewriter, op, ids, g, elements, adaptor.getDest(), base,
                  bound);
      rewriter.eraseOp(op);
      return success();
    }
    for (int64_t e = 0; e < g.numElements(); ++e) {
      auto [row, column] = ids.coordinates(g, e);
      SmallVector<Value> at(base);
      at[rowDim] = ids.add(at[rowDim], row);
      if (column)
        at[rowDim + 1] = ids.add(at[rowDim + 1], column);
      Value value = convertFloat(rewriter, loc, elements[e], memoryElement);
      if (!bound) {
        memref::StoreOp::create(rewriter, loc, value, adaptor.getDest(), at);
        continue;
      }
      Value inside = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::slt, at[rowDim], bound);
      scf::IfOp::create(rewriter, loc, inside, [&](OpBuilder &b, Location l) {
        memref::StoreOp::create(b, l, value, adaptor.getDest(), at);
        scf::YieldOp::create(b, l);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }

  /// A shared tile: the block copies it out by 16-byte runs of a row, those
  /// of rows from `bound` on left out, once its writers are done.
  static void storeShared(OpBuilder &b, StoreOp op, ThreadIds &ids, Value tile,
                          Value dest, ValueRange indices, Value bound) {
    Location loc = op.getLoc();
    TileType type = op.getTile().getType();
    Type element = type.getElementType();
    int64_t width = 128 / type.getElementType().getIntOrFloatBitWidth();
    auto runType = VectorType::get({width}, element);
    SmallVector<Value> base(indices);
    int64_t rowDim = base.size() - 2;
    Value rows = getUnitStrideRows(b, loc, dest, base);
    gpu::BarrierOp::create(b, loc);
    forEachRun(
        b, op, ids, type.getRows(), type.getColumns(), width,
        [&](OpBuilder &nb, Value r, Value c) {
          Value row = arith::AddIOp::create(nb, loc, base[rowDim], r);
          Value column = arith::AddIOp::create(nb, loc, base[rowDim + 1], c);
          auto copy = [&](OpBuilder &ib, Location l) {
            Value data = vector::LoadOp::create(
                ib, l, runType, tile, ValueRange{r, c},
                /*nontemporal=*/false, getRunAlignment(tile, width));
            vector::StoreOp::create(ib, l, data, rows, ValueRange{row, column},
                                    /*nontemporal=*/false, llvm::Align(16));
          };
          if (!bound)
            return copy(nb, loc);
          Value inside = arith::CmpIOp::create(
              nb, loc, arith::CmpIPredicate::slt, row, bound);
          scf::IfOp::create(nb, loc, inside, [&](OpBuilder &ib, Location l) {
            copy(ib, l);
            scf::YieldOp::create(ib, l);
          });
        });
  }

  /// isStagedStore: each thread writes its pairs of adjacent columns into
  /// the scratch tile, then each warp copies the part it wrote out by
  /// 16-byte chunks, those of rows from `bound` on left out.
  static void storeStaged(OpBuilder &b, StoreOp op, ThreadIds &ids,
                          const MmaTileGeometry &g, ArrayRef<Value> elements,
                          Value dest, ArrayRef<Value> base, Value bound) {
    Location loc = op.getLoc();
    TileType stageType = getScratchTiles(op).front();
    Type element = stageType.getElementType();
    Value stage = scratchViews(b, op).front();
    auto pairType = VectorType::get({2}, element);
    // Accumulator elements 2i and 2i + 1 are columns c and c + 1 of one row
    // (ThreadIds::coordinates). Rounded before the barrier: half the
    // registers wait there.
    SmallVector<Value> pairs;
    for (int64_t e = 0; e < g.numElements(); e += 2)
      pairs.push_back(vector::FromElementsOp::create(
          b, loc, pairType,
          ValueRange{convertFloat(b, loc, elements[e], element),
                     convertFloat(b, loc, elements[e + 1], element)}));
    // Earlier readers of the scratch region are done.
    gpu::BarrierOp::create(b, loc);
    for (int64_t e = 0; e < g.numElements(); e += 2) {
      auto [row, column] = ids.coordinates(g, e);
      vector::StoreOp::create(b, loc, pairs[e / 2], stage,
                              ValueRange{row, column},
                              /*nontemporal=*/false, llvm::Align(4));
    }
    // Each warp copies out the rows and columns it wrote: a warp's
    // barrier suffices.
    NVVM::SyncWarpOp::create(
        b, loc, arith::ConstantIntOp::create(b, loc, b.getI32Type(), -1));
    int64_t rowDim = base.size() - 2;
    int64_t chunk = 16 / (element.getIntOrFloatBitWidth() / 8);
    int64_t chunksPerRow = g.columnsPerWarp / chunk;
    auto chunkType = VectorType::get({chunk}, element);
    Value rows = getUnitStrideRows(b, loc, dest, base);
    Value firstRow = ids.warpRow(g), firstColumn = ids.warpColumn(g);
    for (int64_t round = 0; round * 32 < g.rowsPerWarp * chunksPerRow;
         ++round) {
      Value id = ids.add(ids.lane, round * 32);
      Value r = ids.add(
          firstRow, arith::DivUIOp::create(b, loc, id, ids.idx(chunksPerRow)));
      Value c = ids.add(
          firstColumn,
          ids.mul(arith::RemUIOp::create(b, loc, id, ids.idx(chunksPerRow)),
                  chunk));
      Value row = ids.add(base[rowDim], r);
      Value column = ids.add(base[rowDim + 1], c);
      auto copy = [&](OpBuilder &ib, Location l) {
        Value data =
            vector::LoadOp::create(ib, l, chunkType, stage, ValueRange{r, c},
                                   /*nontemporal=*/false, llvm::Align(16));
        vector::StoreOp::create(ib, l, data, rows, ValueRange{row, column},
                                /*nontemporal=*/false, llvm::Align(16));
      };
      Value inside = bound ? Value(arith::CmpIOp::create(
                                 b, loc, arith::CmpIPredicate::slt, row, bound))
                           : Value();
      // A last partial round leaves the lanes past the warp's chunks out.
      if ((round + 1) * 32 > g.rowsPerWarp * chunksPerRow) {
        Value has =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id,
                                  ids.idx(g.rowsPerWarp * chunksPerRow));
        inside = inside ? arith::AndIOp::create(b, loc, inside, has) : has;
      }
      if (!inside) {
        copy(b, loc);
        continue;
      }
      scf::IfOp::create(b, loc, inside, [&](OpBuilder &ib, Location l) {
        copy(ib, l);
        scf::YieldOp::create(ib, l);
      });
    }
  }
};

struct ConvertLayoutLowering : MmaSyncLowering<ConvertLayoutOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(ConvertLayoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType from = op.getSource().getType(), to = op.getType();
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    if (from.getLayout() == to.getLayout()) {
      rewriter.replaceOp(op, adaptor.getSource());
      return success();
    }
    // Shared to registers: each thread reads its elements.
    if (isShared(from) && !isShared(to)) {
      MmaTileGeometry g(to);
      SmallVector<Value> elements;
      for (int64_t e = 0; e < g.numElements(); ++e) {
        auto [row, column] = ids.coordinates(g, e);
        SmallVector<Value> at = {row};
        if (column)
          at.push_back(column);
        elements.push_back(
            memref::LoadOp::create(rewriter, loc, adaptor.getSource(), at));
      }
      rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), elements));
      return success();
    }
    // Registers to shared: each thread writes its elements.
    if (!isShared(from) && isShared(to)) {
      MmaTileGeometry g(from);
      Value tile = sharedView(rewriter, op, to);
      SmallVector<Value> elements = unpack(rewriter, loc, adaptor.getSource());
      gpu::BarrierOp::create(rewriter, loc);
      for (int64_t e = 0; e < g.numElements(); ++e) {
        auto [row, column] = ids.coordinates(g, e);
        SmallVector<Value> at = {row};
        if (column)
          at.push_back(column);
        memref::StoreOp::create(rewriter, loc, elements[e], tile, at);
      }
      gpu::BarrierOp::create(rewriter, loc);
      rewriter.replaceOp(op, tile);
      return success();
    }
    // An accumulator to the A operand of the next matmul: the same
    // registers, renamed (see #attn_tile.operand).
    auto operand = dyn_cast<OperandLayoutAttr>(to.getLayout());
    auto mmaLayout = dyn_cast<MmaLayoutAttr>(from.getLayout());
    if (operand && mmaLayout && operand.getIndex() == 0 &&
        operand.getParent() == mmaLayout && mmaLayout.getWarps()[1] == 1 &&
        from.getColumns() % 16 == 0) {
      MmaTileGeometry g(from);
      SmallVector<Value> acc = unpack(rewriter, loc, adaptor.getSource());
      int64_t steps = from.getColumns() / 16;
      SmallVector<Value> elements;
      for (int64_t a = 0; a < g.repM; ++a)
        for (int64_t s = 0; s < steps; ++s)
          for (int64_t reg = 0; reg < 4; ++reg)
            for (int64_t h = 0; h < 2; ++h) {
              int64_t c = 2 * s + reg / 2, k = 2 * (reg % 2) + h;
              elements.push_back(acc[(a * g.repN + c) * 4 + k]);
            }
      rewriter.replaceOp(
          op, pack(rewriter, loc, MmaTileGeometry(to).vectorType(), elements));
      return success();
    }
    return rewriter.notifyMatchFailure(op, "unsupported layout conversion");
  }
};

struct MatmulLowering : MmaSyncLowering<MatmulOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType lhs = op.getLhs().getType(), rhs = op.getRhs().getType(),
             acc = op.getAcc().getType();
    Location loc = op.getLoc();
    auto mmaLayout = dyn_cast<MmaLayoutAttr>(acc.getLayout());
    Type element = lhs.getElementType();
    if (!mmaLayout || mmaLayout.getWarps()[1] != 1)
      return rewriter.notifyMatchFailure(
          op, "the accumulator must have an #attn_tile.mma layout with one "
              "column of warps");
    if (!element.isBF16() && !element.isF16())
      return rewriter.notifyMatchFailure(op, "mma.sync takes f16 or bf16");
    if (!isShared(rhs))
      return rewriter.notifyMatchFailure(op, "rhs must be a shared tile");
    bool lhsShared = isShared(lhs);
    auto lhsOperand = dyn_cast_or_null<OperandLayoutAttr>(lhs.getLayout());
    if (!lhsShared &&
        !(lhsOperand && lhsOperand.getIndex() == 0 &&
          lhsOperand.getParent() == mmaLayout && !op.getTransposeLhs()))
      return rewriter.notifyMatchFailure(
          op, "lhs must be shared or the A operand of the accumulator");
    int64_t depth = op.getTransposeLhs() ? lhs.getRows() : lhs.getColumns();
    if (depth % 16 || acc.getColumns() % 16)
      return rewriter.notifyMatchFailure(op, "k and n must be multiples of 16");

    ThreadIds ids(rewriter, loc);
    MmaTileGeometry g(acc);
    SmallVector<Value> c = unpack(rewriter, loc, adaptor.getAcc());
    if (lhsShared) {
      accumulateSharedProduct(ids, element, g, c, adaptor.getLhs(),
                              op.getTransposeLhs(), adaptor.getRhs(),
                              op.getTransposeRhs(), depth);
      rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), c));
      return success();
    }
    // The A operand from registers (#attn_tile.operand).
    SmallVector<Value> a = unpack(rewriter, loc, adaptor.getLhs());
    auto pairType = VectorType::get({2}, element);
    int64_t steps = depth / 16;
    for (int64_t rep = 0; rep < g.repM; ++rep) {
      for (int64_t s = 0; s < steps; ++s) {
        Value k0 = ids.idx(16 * s);
        Fragment fa;
        int64_t first = (rep * steps + s) * 8;
        for (int reg = 0; reg < 4; ++reg)
          fa[reg] =
              getMmaOperand(rewriter, loc,
                            pack(rewriter, loc, pairType,
                                 {a[first + 2 * reg], a[first + 2 * reg + 1]}));
        for (int64_t pair = 0; pair < acc.getColumns() / 16; ++pair) {
          std::array<Value, 4> fb =
              sharedB(ids, adaptor.getRhs(), k0, ids.idx(16 * pair),
                      op.getTransposeRhs());
          accumulateTilePair(rewriter, loc, element, g, c, rep, pair, fa, fb);
        }
      }
    }
    rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), c));
    return success();
  }
};

/// Multiplies each element (f, d) of a state's accumulator registers `c` by
/// exp(p_last,f), its row's decay over the chunk whose log decays `logs`
/// ([C], or [C, F] for one per key feature, in shared memory) hold.
static void decayStateRows(OpBuilder &b, Location loc, ThreadIds &ids,
                           const MmaTileGeometry &g, SmallVector<Value> &c,
                           Value logs, int64_t tokens) {
  Value lastToken = ids.idx(tokens - 1);
  if (cast<MemRefType>(logs.getType()).getRank() == 1) {
    Value last = memref::LoadOp::create(b, loc, logs, ValueRange{lastToken});
    Value decay = createTileExp(b, loc, last);
    for (Value &x : c)
      x = arith::MulFOp::create(b, loc, x, decay);
    return;
  }
  for (int64_t e = 0; e < g.numElements(); ++e) {
    Value f = ids.coordinates(g, e).first;
    Value last = memref::LoadOp::create(b, loc, logs, ValueRange{lastToken, f});
    c[e] = arith::MulFOp::create(b, loc, c[e], createTileExp(b, loc, last));
  }
}

/// S' = diag(exp(p_last)) S on the state's registers.
struct DecayStateLowering : MmaSyncLowering<DecayStateOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(DecayStateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType state = op.getType();
    if (!isa<MmaLayoutAttr>(state.getLayout()) ||
        !isShared(op.getLogDecay().getType()))
      return rewriter.notifyMatchFailure(
          op, "needs an #attn_tile.mma state and shared log gates");
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    MmaTileGeometry g(state);
    SmallVector<Value> c = unpack(rewriter, loc, adaptor.getState());
    decayStateRows(rewriter, loc, ids, g, c, adaptor.getLogDecay(),
                   op.getLogDecay().getType().getRows());
    rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), c));
    return success();
  }
};

/// The A fragment (16 state rows x 16 tokens) at (m0, k0) of K^T, read
/// from the shared keys K [tokens][features], each register's pair scaled
/// by `decays[r]` (vector<2xf32>) in f32 and rounded back: the decayed
/// keys of a state update.
static Fragment scaledKeysA(ThreadIds &ids, Value keys, Value m0, Value k0,
                            ArrayRef<Value> decays) {
  OpBuilder &b = ids.b;
  Location loc = ids.loc;
  auto [row, column] = matrixAddress(ids, k0, m0, false);
  std::array<Value, 4> m =
      loadMatrices(b, loc, keys, row, column, /*transpose=*/true);
  Fragment fa;
  for (int r = 0; r < 4; ++r) {
    auto type = cast<VectorType>(m[r].getType());
    Value wide = arith::ExtFOp::create(
        b, loc, VectorType::get({2}, b.getF32Type()), m[r]);
    wide = arith::MulFOp::create(b, loc, wide, decays[r]);
    fa[r] = getMmaOperand(b, loc, arith::TruncFOp::create(b, loc, type, wide));
  }
  return fa;
}

/// S' = exp(p_last) S + K^T diag(exp(p_last - p)) V on mma.sync: K^T is
/// the A operand (ldmatrix.trans of K), its columns (the tokens) scaled in
/// registers (scaledKeysA), V the B operand.
struct StateUpdateLowering : MmaSyncLowering<StateUpdateOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(StateUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType state = op.getType(), keys = op.getKeys().getType(),
             values = op.getValues().getType();
    Location loc = op.getLoc();
    auto mmaLayout = dyn_cast<MmaLayoutAttr>(state.getLayout());
    Type element = keys.getElementType();
    if (!mmaLayout || mmaLayout.getWarps()[1] != 1 || !isShared(keys) ||
        !isShared(values) || (!element.isBF16() && !element.isF16()))
      return rewriter.notifyMatchFailure(
          op, "needs an #attn_tile.mma state with one column of warps and "
              "16-bit shared keys and values");
    Value logs = adaptor.getLogDecay();
    if (logs && !isShared(cast<TileType>(op.getLogDecay().getType())))
      return rewriter.notifyMatchFailure(op, "needs shared log gates");
    if (logs && cast<TileType>(op.getLogDecay().getType()).getRank() == 2)
      return lowerPerFeature(op, adaptor, rewriter);
    int64_t tokens = keys.getRows();
    if (tokens % 16 || state.getColumns() % 16)
      return rewriter.notifyMatchFailure(op, "tokens and value columns must "
                                             "be multiples of 16");

    ThreadIds ids(rewriter, loc);
    MmaTileGeometry g(state);
    SmallVector<Value> c = unpack(rewriter, loc, adaptor.getState());
    Type f32 = rewriter.getF32Type();
    auto pairF32 = VectorType::get({2}, f32);
    // The last token's log decay in base 2.
    Value last2, log2e;
    if (logs) {
      decayStateRows(rewriter, loc, ids, g, c, logs, tokens);
      Value last = memref::LoadOp::create(rewriter, loc, logs,
                                          ValueRange{ids.idx(tokens - 1)});
      log2e = createLog2E(rewriter, loc, f32);
      last2 = arith::MulFOp::create(rewriter, loc, last, log2e);
    }
    Value warpRow = ids.warpRow(g);
    for (int64_t s = 0; s < tokens / 16; ++s) {
      Value k0 = ids.idx(16 * s);
      // The decays of the four tokens whose columns of K^T this thread's A
      // registers hold: 16 s + 2 q + {0, 1} (a0, a1) and 16 s + 8 + 2 q +
      // {0, 1} (a2, a3). They scale A, once per 16 state rows, rather than
      // V's B fragments, once per 16 state rows and 16 value columns.
      std::array<Value, 4> decays;
      if (logs) {
        for (int half = 0; half < 2; ++half) {
          SmallVector<Value> pair;
          for (int h = 0; h < 2; ++h) {
            Value token = ids.add(ids.mul(ids.quad, 2), 16 * s + 8 * half + h);
            Value p = memref::LoadOp::create(rewriter, loc, logs, token);
            pair.push_back(math::Exp2Op::create(
                rewriter, loc,
                arith::SubFOp::create(
                    rewriter, loc, last2,
                    arith::MulFOp::create(rewriter, loc, p, log2e))));
          }
          decays[2 * half] = decays[2 * half + 1] =
              pack(rewriter, loc, pairF32, pair);
        }
      }
      // Each B fragment is read once for every 16 state rows of the warp:
      // the A fragments of all of them are read first.
      SmallVector<Fragment> fa;
      for (int64_t rep = 0; rep < g.repM; ++rep) {
        Value m0 = ids.add(warpRow, 16 * rep);
        fa.push_back(logs ? scaledKeysA(ids, adaptor.getKeys(), m0, k0, decays)
                          : sharedA(ids, adaptor.getKeys(), m0, k0,
                                    /*transposed=*/true));
      }
      for (int64_t pair = 0; pair < state.getColumns() / 16; ++pair) {
        std::array<Value, 4> fb =
            sharedB(ids, adaptor.getValues(), k0, ids.idx(16 * pair),
                    /*transposed=*/false);
        for (int64_t rep = 0; rep < g.repM; ++rep)
          accumulateTilePair(rewriter, loc, element, g, c, rep, pair, fa[rep],
                             fb);
      }
    }
    rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), c));
    return success();
  }
  /// A log decay per (token, feature): S'[f][d] = exp(p_last,f) S[f][d] +
  /// sum_j exp(p_last,f - p_jf) k_jf v_jd, the decays applied to the A
  /// operand K^T in registers (element (f, j) of the fragment).
  LogicalResult lowerPerFeature(StateUpdateOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const {
    TileType state = op.getType(), keys = op.getKeys().getType();
    Location loc = op.getLoc();
    Type element = keys.getElementType();
    Value logs = adaptor.getLogDecay();
    int64_t tokens = keys.getRows();
    ThreadIds ids(rewriter, loc);
    MmaTileGeometry g(state);
    SmallVector<Value> c = unpack(rewriter, loc, adaptor.getState());
    Type f32 = rewriter.getF32Type();
    auto pairF32 = VectorType::get({2}, f32);
    Value lastToken = ids.idx(tokens - 1);
    decayStateRows(rewriter, loc, ids, g, c, logs, tokens);
    Value warpRow = ids.warpRow(g);
    for (int64_t rep = 0; rep < g.repM; ++rep) {
      Value m0 = ids.add(warpRow, 16 * rep);
      // The features of this thread's A rows, and their last log decays.
      std::array<Value, 2> features, lasts;
      for (int half = 0; half < 2; ++half) {
        features[half] = ids.add(ids.add(m0, ids.group), 8 * half);
        lasts[half] = memref::LoadOp::create(
            rewriter, loc, logs, ValueRange{lastToken, features[half]});
      }
      for (int64_t s = 0; s < tokens / 16; ++s) {
        Value k0 = ids.idx(16 * s);
        // a_r holds (f = m0 + group + 8 (r % 2), j = k0 + 2 quad + 8 (r / 2)
        // + {0, 1}).
        std::array<Value, 4> decays;
        for (int r = 0; r < 4; ++r) {
          SmallVector<Value> pair;
          for (int h = 0; h < 2; ++h) {
            Value token =
                ids.add(ids.mul(ids.quad, 2), 16 * s + 8 * (r / 2) + h);
            Value p = memref::LoadOp::create(
                rewriter, loc, logs, ValueRange{token, features[r % 2]});
            pair.push_back(math::ExpOp::create(
                rewriter, loc,
                arith::SubFOp::create(rewriter, loc, lasts[r % 2], p)));
          }
          decays[r] = pack(rewriter, loc, pairF32, pair);
        }
        Fragment fa = scaledKeysA(ids, adaptor.getKeys(), m0, k0, decays);
        for (int64_t pair = 0; pair < state.getColumns() / 16; ++pair) {
          std::array<Value, 4> fb =
              sharedB(ids, adaptor.getValues(), k0, ids.idx(16 * pair),
                      /*transposed=*/false);
          accumulateTilePair(rewriter, loc, element, g, c, rep, pair, fa, fb);
        }
      }
    }
    rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), c));
    return success();
  }
};

struct MapLowering : MmaSyncLowering<MapOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(MapOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType type = op.getType();
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    if (isShared(type)) {
      // Any thread computes any element: a share of the elements each, in
      // 16-byte runs of a row where the columns allow and no input is one
      // value per row, in a loop. (With a value per row vectorized, or the
      // runs unrolled, ptxas spilled 4-120 bytes for sm_90a in the gated
      // delta rule's kernel at 64 value columns, which has 0 this way.)
      Value tile = sharedView(rewriter, op, type);
      gpu::BarrierOp::create(rewriter, loc);
      int64_t columns = type.getColumns();
      int64_t width = 16 / (type.getElementType().getIntOrFloatBitWidth() / 8);
      bool perRowInput =
          llvm::any_of(llvm::seq<unsigned>(0, op.getInputs().size()),
                       [&](unsigned n) { return op.getBroadcastDim(n) == 0; });
      if (type.getRank() == 2 && columns % width == 0 && !perRowInput) {
        forEachRun(
            rewriter, op, ids, type.getRows(), columns, width,
            [&](OpBuilder &b, Value r, Value c) {
              SmallVector<SmallVector<Value>> inputs;
              for (auto [n, input] : llvm::enumerate(adaptor.getInputs()))
                inputs.push_back(loadRun(b, loc, input,
                                         op.getBroadcastDim(n) < 0
                                             ? ValueRange{r, c}
                                             : ValueRange{c},
                                         width));
              SmallVector<Value> results;
              for (int64_t i = 0; i < width; ++i) {
                SmallVector<Value> arguments = {
                    r,
                    arith::AddIOp::create(
                        b, loc, c, arith::ConstantIndexOp::create(b, loc, i))};
                for (const SmallVector<Value> &input : inputs)
                  arguments.push_back(input[i]);
                results.push_back(cloneMapBody(b, op, arguments));
              }
              storeRun(b, loc, results, tile, {r, c});
            },
            /*unroll=*/false);
        gpu::BarrierOp::create(rewriter, loc);
        rewriter.replaceOp(op, tile);
        return success();
      }
      forEachThreadShare(
          rewriter, loc, ids.thread, type.getNumElements(),
          [&](OpBuilder &b, Value id) {
            Value r = id, c;
            if (type.getRank() == 2) {
              Value width = arith::ConstantIndexOp::create(b, loc, columns);
              r = arith::DivUIOp::create(b, loc, id, width);
              c = arith::RemUIOp::create(b, loc, id, width);
            }
            SmallVector<Value> arguments = {r};
            if (c)
              arguments.push_back(c);
            for (auto [n, input] : llvm::enumerate(adaptor.getInputs())) {
              int64_t along = op.getBroadcastDim(n);
              SmallVector<Value> at = {r};
              if (c)
                at = along < 0 ? SmallVector<Value>{r, c}
                               : SmallVector<Value>{along == 0 ? r : c};
              arguments.push_back(memref::LoadOp::create(b, loc, input, at));
            }
            SmallVector<Value> at = {r};
            if (c)
              at.push_back(c);
            memref::StoreOp::create(b, loc, cloneMapBody(b, op, arguments),
                                    tile, at);
          });
      gpu::BarrierOp::create(rewriter, loc);
      rewriter.replaceOp(op, tile);
      return success();
    }
    MmaTileGeometry g(type);
    SmallVector<SmallVector<Value>> inputs;
    for (Value input : adaptor.getInputs())
      inputs.push_back(unpack(rewriter, loc, input));
    SmallVector<Value> elements;
    for (int64_t e = 0; e < g.numElements(); ++e) {
      auto [row, column] = ids.coordinates(g, e);
      SmallVector<Value> arguments = {row};
      if (type.getRank() == 2)
        arguments.push_back(column);
      for (auto [n, input] : llvm::enumerate(inputs)) {
        int64_t along = op.getBroadcastDim(n);
        int64_t slot =
            along < 0 ? e : (along == 0 ? rowSlot(g, e) : columnSlot(g, e));
        arguments.push_back(input[slot]);
      }
      elements.push_back(cloneMapBody(rewriter, op, arguments));
    }
    rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), elements));
    return success();
  }
};

struct ReduceLowering : MmaSyncLowering<ReduceOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(ReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType source = op.getSource().getType();
    auto mmaLayout = dyn_cast<MmaLayoutAttr>(source.getLayout());
    if (!mmaLayout || mmaLayout.getWarps()[1] != 1)
      return rewriter.notifyMatchFailure(
          op, "reduces #attn_tile.mma tiles with one column of warps");
    Location loc = op.getLoc();
    MmaTileGeometry g(source);
    bool max = op.getKind() == ReductionKind::max;
    SmallVector<Value> x = unpack(rewriter, loc, adaptor.getSource());
    auto combine = [&](Value p, Value q) -> Value {
      if (max)
        return arith::MaxNumFOp::create(rewriter, loc, p, q);
      return arith::AddFOp::create(rewriter, loc, p, q);
    };
    SmallVector<Value> rows;
    for (int64_t a = 0; a < g.repM; ++a)
      for (int64_t h = 0; h < 2; ++h) {
        Value r;
        for (int64_t c = 0; c < g.repN; ++c)
          for (int64_t k = 2 * h; k < 2 * h + 2; ++k) {
            Value v = x[(a * g.repN + c) * 4 + k];
            r = r ? combine(r, v) : v;
          }
        for (int32_t offset : {1, 2}) {
          Value other =
              gpu::ShuffleOp::create(rewriter, loc, r, offset, /*width=*/32,
                                     gpu::ShuffleMode::XOR)
                  .getShuffleResult();
          r = combine(r, other);
        }
        rows.push_back(r);
      }
    rewriter.replaceOp(
        op,
        pack(rewriter, loc, MmaTileGeometry(op.getType()).vectorType(), rows));
    return success();
  }
};

/// Prefix sums of a shared vector by warp 0: each lane sums a run of
/// consecutive entries, the lanes' totals are scanned with shuffles, and
/// each lane writes its run's sums plus the total of the lanes before it.
/// A 2-D shared tile is scanned down each column by one thread.
struct CumsumLowering : MmaSyncLowering<CumsumOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(CumsumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TileType type = op.getType();
    if (!isShared(type))
      return rewriter.notifyMatchFailure(op, "scans shared tiles");
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    Value tile = sharedView(rewriter, op, type);
    if (type.getRank() == 2) {
      // One thread per column, down the rows: the columns are many (the
      // key features) and the rows few (a chunk).
      gpu::BarrierOp::create(rewriter, loc);
      forEachThreadShare(
          rewriter, loc, ids.thread, type.getColumns(),
          [&](OpBuilder &b, Value column) {
            Value sum = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
            for (int64_t r = 0; r < type.getRows(); ++r) {
              Value row = arith::ConstantIndexOp::create(b, loc, r);
              sum = arith::AddFOp::create(
                  b, loc, sum,
                  memref::LoadOp::create(b, loc, adaptor.getSource(),
                                         ValueRange{row, column}));
              memref::StoreOp::create(b, loc, sum, tile,
                                      ValueRange{row, column});
            }
          });
      gpu::BarrierOp::create(rewriter, loc);
      rewriter.replaceOp(op, tile);
      return success();
    }
    int64_t length = type.getRows();
    int64_t run = llvm::divideCeil(length, 32);
    gpu::BarrierOp::create(rewriter, loc);
    Value firstWarp = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::eq, ids.warp, ids.idx(0));
    scf::IfOp::create(rewriter, loc, firstWarp, [&](OpBuilder &b, Location l) {
      Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
      Value start = arith::MulIOp::create(
          b, l, ids.lane, arith::ConstantIndexOp::create(b, l, run));
      SmallVector<Value> positions, sums;
      Value total = zero;
      for (int64_t k = 0; k < run; ++k) {
        Value at = arith::AddIOp::create(
            b, l, start, arith::ConstantIndexOp::create(b, l, k));
        Value inside =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, at,
                                  arith::ConstantIndexOp::create(b, l, length));
        Value safe = arith::SelectOp::create(
            b, l, inside, at, arith::ConstantIndexOp::create(b, l, 0));
        Value g = memref::LoadOp::create(b, l, adaptor.getSource(), safe);
        g = arith::SelectOp::create(b, l, inside, g, zero);
        total = arith::AddFOp::create(b, l, total, g);
        positions.push_back(at);
        sums.push_back(total);
      }
      Value scanned = total;
      for (int32_t offset = 1; offset < 32; offset *= 2) {
        Value up = gpu::ShuffleOp::create(b, l, scanned, offset, /*width=*/32,
                                          gpu::ShuffleMode::UP)
                       .getShuffleResult();
        Value has =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge, ids.lane,
                                  arith::ConstantIndexOp::create(b, l, offset));
        scanned = arith::SelectOp::create(
            b, l, has, arith::AddFOp::create(b, l, scanned, up), scanned);
      }
      Value before = arith::SubFOp::create(b, l, scanned, total);
      for (int64_t k = 0; k < run; ++k) {
        Value inside =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, positions[k],
                                  arith::ConstantIndexOp::create(b, l, length));
        scf::IfOp::create(b, l, inside, [&](OpBuilder &nb, Location nl) {
          memref::StoreOp::create(
              nb, nl, arith::AddFOp::create(nb, nl, before, sums[k]), tile,
              positions[k]);
          scf::YieldOp::create(nb, nl);
        });
      }
      scf::YieldOp::create(b, l);
    });
    gpu::BarrierOp::create(rewriter, loc);
    rewriter.replaceOp(op, tile);
    return success();
  }
};

struct DecayMaskLowering : MmaSyncLowering<DecayMaskOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(DecayMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    TileType type = op.getType();
    if (!isa<MmaLayoutAttr>(type.getLayout()))
      return rewriter.notifyMatchFailure(op, "needs an #attn_tile.mma result");
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    MmaTileGeometry g(type);
    // exp(r - c) as exp2(r log2(e) - c log2(e)): the logs are scaled once
    // per thread's rows and columns, not once per element.
    SmallVector<Value> rows, columns;
    if (adaptor.getRowLogs()) {
      Value log2e = createLog2E(rewriter, loc, rewriter.getF32Type());
      auto scaled = [&](Value logs) {
        SmallVector<Value> out = unpack(rewriter, loc, logs);
        for (Value &x : out)
          x = arith::MulFOp::create(rewriter, loc, x, log2e);
        return out;
      };
      rows = scaled(adaptor.getRowLogs());
      columns = scaled(adaptor.getColumnLogs());
    }
    Value one =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(1.0));
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0.0));
    SmallVector<Value> elements;
    for (int64_t e = 0; e < g.numElements(); ++e) {
      auto [i, j] = ids.coordinates(g, e);
      Value keep = ids.keeps(i, j, op.getDiagonal());
      Value kept = one;
      if (!rows.empty())
        kept = math::Exp2Op::create(
            rewriter, loc,
            arith::SubFOp::create(rewriter, loc, rows[rowSlot(g, e)],
                                  columns[columnSlot(g, e)]));
      elements.push_back(
          arith::SelectOp::create(rewriter, loc, keep, kept, zero));
    }
    rewriter.replaceOp(op, pack(rewriter, loc, g.vectorType(), elements));
    return success();
  }
};

/// A 16x8 f32 product tile of one warp, D = sum A B over 8-wide steps of
/// f32 operands read from shared memory, on m16n8k8 tf32 tensor cores.
/// A is split as a = big + small, both tf32 (big keeps a's top 19 bits,
/// small the rest, exact in f32); B is truncated to tf32; a step runs two
/// MMAs, small A and big A: each product is within 2^-10 of its f32
/// value, where one tf32 MMA of truncated operands can be off by twice
/// that. Splitting B too (a third MMA), or splitting B instead of A, made
/// ptxas spill 4-8 bytes in the delta rules' chunk loops; the inverse is
/// rounded to 16 bits (2^-9) after the solve anyway.
///
/// The operands are [rows, pitch] f32 memrefs, read through flat views at
/// one lane offset plus a constant: the loop around the caller would
/// otherwise hoist an address per element and keep them all alive.
class TensorCoreFloat32Tile {
public:
  TensorCoreFloat32Tile(OpBuilder &b, Location loc, const ThreadIds &ids)
      : b(b), loc(loc), ids(ids) {
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    accumulator.fill(zero);
  }

  /// D += A B with A the 16x8 blocks of `lhs` at (lhsRow, lhsColumn + k)
  /// and B the 8x8 blocks of `rhs` at (rhsRow + k, rhsColumn), for k =
  /// first, first + 8, ... < last.
  void multiplyAdd(Value lhs, int64_t lhsRow, int64_t lhsColumn, Value rhs,
                   int64_t rhsRow, int64_t rhsColumn, int64_t first,
                   int64_t last) {
    for (int64_t k = first; k < last; k += 8) {
      // PTX's m16n8k8 .tf32 fragments: a_i at (group + 8 (i % 2),
      // quad + 4 (i / 2)), b_i at (quad + 4 i, group).
      SmallVector<Value> aBig, aSmall, bTruncated;
      for (int64_t i = 0; i < 4; ++i)
        split(load(lhs, ids.group, ids.quad, lhsRow + 8 * (i % 2),
                   lhsColumn + k + 4 * (i / 2)),
              aBig, aSmall);
      for (int64_t i = 0; i < 2; ++i)
        bTruncated.push_back(truncateToTf32(
            load(rhs, ids.quad, ids.group, rhsRow + k + 4 * i, rhsColumn)));
      accumulator = emitTf32Mma(b, loc, aSmall, bTruncated, accumulator);
      accumulator = emitTf32Mma(b, loc, aBig, bTruncated, accumulator);
    }
  }

  /// Writes D (or -D) to the 16x8 block of `memory` at (row, column):
  /// c_i at (group + 8 (i / 2), 2 quad + i % 2).
  void store(Value memory, int64_t row, int64_t column, bool negate) {
    Value doubleQuad = arith::AddIOp::create(b, loc, ids.quad, ids.quad);
    for (int64_t i = 0; i < 4; ++i) {
      Value value = accumulator[i];
      if (negate)
        value = arith::NegFOp::create(b, loc, value);
      auto [flat, at] = element(memory, ids.group, doubleQuad,
                                row + 8 * (i / 2), column + i % 2);
      memref::StoreOp::create(b, loc, value, flat, at);
    }
  }

private:
  /// The flat view of `memory` and the index of its element
  /// (rowLane + row, columnLane + column).
  std::pair<Value, Value> element(Value memory, Value rowLane, Value columnLane,
                                  int64_t row, int64_t column) {
    int64_t pitch = cast<MemRefType>(memory.getType()).getShape()[1];
    Value flat = memref::CollapseShapeOp::create(
        b, loc, memory, ArrayRef<ReassociationIndices>{{0, 1}});
    Value lane = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, rowLane,
                              arith::ConstantIndexOp::create(b, loc, pitch)),
        columnLane);
    Value at = arith::AddIOp::create(
        b, loc, lane,
        arith::ConstantIndexOp::create(b, loc, row * pitch + column));
    return {flat, at};
  }
  Value load(Value memory, Value rowLane, Value columnLane, int64_t row,
             int64_t column) {
    auto [flat, at] = element(memory, rowLane, columnLane, row, column);
    return memref::LoadOp::create(b, loc, flat, at);
  }
  /// x's top 19 bits (a tf32), as i32 bits.
  Value truncateToTf32(Value x) {
    Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), x);
    return arith::AndIOp::create(
        b, loc, bits,
        arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(~0x1fff)));
  }
  void split(Value x, SmallVectorImpl<Value> &big,
             SmallVectorImpl<Value> &small) {
    Type i32 = b.getI32Type();
    Value bigBits = truncateToTf32(x);
    Value rest = arith::SubFOp::create(
        b, loc, x, arith::BitcastOp::create(b, loc, b.getF32Type(), bigBits));
    big.push_back(bigBits);
    small.push_back(arith::BitcastOp::create(b, loc, i32, rest));
  }

  OpBuilder &b;
  Location loc;
  const ThreadIds &ids;
  MmaFragment accumulator;
};

/// T = (I + L)^-1 of a shared f32 tile in shared memory (L strictly lower):
///  1. Each warp inverts the 16x16 diagonal blocks I it owns (I mod warps),
///     T_II = (I + L_II)^-1: lane m (< 16) solves column m by forward
///     substitution in registers; lanes 16-31 write the zeros right of the
///     diagonal blocks.
///  2. Solved diagonal blocks of 16, 32, ... rows are joined in pairs: the
///     joined block's lower-left part is -T_b (L_ba T_a), two products on
///     tensor cores, each within 2^-10 of f32 (TensorCoreFloat32Tile),
///     between barriers.
/// The source stays untouched and the tiles are f32, as in the CPU
/// strategy's forward substitution; 2 log2(n / 16) + 2 barriers in all.
struct UTSolveLowering : MmaSyncLowering<UTSolveOp> {
  using MmaSyncLowering::MmaSyncLowering;
  LogicalResult
  matchAndRewrite(UTSolveOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TileType type = op.getType();
    int64_t n = type.getRows();
    std::optional<int64_t> threads = getKnownBlockThreads(op);
    if (!isShared(type) || n % 16)
      return rewriter.notifyMatchFailure(
          op, "solves shared tiles of a multiple of 16 rows");
    if (!threads || *threads % 32)
      return rewriter.notifyMatchFailure(
          op, "needs the gpu.func's known block size in whole warps");
    int64_t warps = *threads / 32, blocks = n / 16;
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    Value source = adaptor.getSource();
    Value tile = sharedView(rewriter, op, type);
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));
    Value one =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(1));
    Value column = arith::RemUIOp::create(rewriter, loc, ids.lane, ids.idx(16));
    Value upperHalf = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::uge, ids.lane, ids.idx(16));
    // Runs `body` in warp `row` mod warps.
    auto inOwner = [&](int64_t row, function_ref<void(OpBuilder &)> body) {
      Value owner =
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                ids.warp, ids.idx(row % warps));
      scf::IfOp::create(rewriter, loc, owner, [&](OpBuilder &b, Location l) {
        body(b);
        scf::YieldOp::create(b, l);
      });
    };
    auto at = [&](OpBuilder &b, Value memory, Value row, Value col) {
      return memref::LoadOp::create(b, loc, memory, ValueRange{row, col})
          .getResult();
    };
    auto fma = [&](OpBuilder &b, Value acc, Value x, Value y) {
      return arith::AddFOp::create(b, loc, acc,
                                   arith::MulFOp::create(b, loc, x, y))
          .getResult();
    };
    auto idx = [&](OpBuilder &b, int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    auto storeColumn = [&](OpBuilder &b, ArrayRef<Value> x, int64_t row0,
                           Value col) {
      for (int64_t i = 0; i < 16; ++i)
        memref::StoreOp::create(b, loc, x[i], tile,
                                ValueRange{idx(b, row0 + i), col});
    };
    auto ifLanes = [&](OpBuilder &b, Value cond,
                       function_ref<void(OpBuilder &)> then,
                       function_ref<void(OpBuilder &)> otherwise) {
      scf::IfOp::create(
          b, loc, cond,
          [&](OpBuilder &nb, Location l) {
            then(nb);
            scf::YieldOp::create(nb, l);
          },
          [&](OpBuilder &nb, Location l) {
            if (otherwise)
              otherwise(nb);
            scf::YieldOp::create(nb, l);
          });
    };

    // 1. The earlier readers of this region are done.
    gpu::BarrierOp::create(rewriter, loc);
    for (int64_t blockRow = 0; blockRow < blocks; ++blockRow)
      inOwner(blockRow, [&](OpBuilder &b) {
        ifLanes(
            b, upperHalf,
            [&](OpBuilder &nb) {
              for (int64_t blockColumn = blockRow + 1; blockColumn < blocks;
                   ++blockColumn) {
                Value col = arith::AddIOp::create(nb, loc, column,
                                                  idx(nb, 16 * blockColumn));
                storeColumn(nb, SmallVector<Value>(16, zero), 16 * blockRow,
                            col);
              }
            },
            [&](OpBuilder &nb) {
              // x_i = [i == m] - sum_{p < i} L_ip x_p; x_p = 0 for p < m.
              SmallVector<Value> x;
              for (int64_t i = 0; i < 16; ++i) {
                Value diagonal = arith::CmpIOp::create(
                    nb, loc, arith::CmpIPredicate::eq, column, idx(nb, i));
                Value sum = zero;
                for (int64_t p = 0; p < i; ++p)
                  sum = fma(nb, sum,
                            at(nb, source, idx(nb, 16 * blockRow + i),
                               idx(nb, 16 * blockRow + p)),
                            x[p]);
                x.push_back(arith::SubFOp::create(
                    nb, loc,
                    arith::SelectOp::create(nb, loc, diagonal, one, zero),
                    sum));
              }
              Value col = arith::AddIOp::create(nb, loc, column,
                                                idx(nb, 16 * blockRow));
              storeColumn(nb, x, 16 * blockRow, col);
            });
      });
    // 2. Pairs of solved diagonal blocks of size s = 16, 32, ... become
    // one solved block of 2 s: with T_a and T_b the blocks' inverses and
    // L_ba the lower-left block of L, the inverse's lower-left block is
    // -T_b (L_ba T_a). Both products run on m16n8k8 tensor cores, each
    // warp taking 16x8 tiles of the result in turn; X = L_ba T_a goes
    // through the op's scratch tile.
    SmallVector<Value> scratchTiles = scratchViews(rewriter, op);
    for (int64_t size = 16; size < n; size *= 2) {
      Value scratch = scratchTiles.front();
      struct ResultTile {
        int64_t first, height, row, column;
      };
      SmallVector<ResultTile> tiles;
      for (int64_t first = 0; first + size < n; first += 2 * size) {
        int64_t height = std::min(size, n - first - size);
        for (int64_t row = 0; row < height; row += 16)
          for (int64_t column = 0; column < size; column += 8)
            tiles.push_back({first, height, row, column});
      }
      // Tile k of the result runs in warp k mod warps.
      auto forEachTile =
          [&](function_ref<void(OpBuilder &, const ResultTile &)> body) {
            for (int64_t k = 0, e = tiles.size(); k < e; ++k)
              inOwner(k, [&](OpBuilder &b) { body(b, tiles[k]); });
          };
      // X = L_ba T_a: the rows of L below the pair's upper block, times
      // the upper block's inverse, whose rows above `column` are zero.
      gpu::BarrierOp::create(rewriter, loc);
      forEachTile([&](OpBuilder &b, const ResultTile &r) {
        int64_t upper = r.first, lower = r.first + size;
        TensorCoreFloat32Tile x(b, loc, ids);
        x.multiplyAdd(source, lower + r.row, upper, tile, upper,
                      upper + r.column, /*first=*/r.column, /*last=*/size);
        x.store(scratch, r.first / 2 + r.row, r.column, /*negate=*/false);
      });
      // The lower-left block: -T_b X, T_b's columns right of the tile's
      // last row being zero.
      gpu::BarrierOp::create(rewriter, loc);
      forEachTile([&](OpBuilder &b, const ResultTile &r) {
        int64_t lower = r.first + size;
        TensorCoreFloat32Tile y(b, loc, ids);
        y.multiplyAdd(tile, lower + r.row, lower, scratch, r.first / 2,
                      r.column, /*first=*/0, /*last=*/r.row + 16);
        y.store(tile, lower + r.row, r.first + r.column, /*negate=*/true);
      });
    }
    gpu::BarrierOp::create(rewriter, loc);
    rewriter.replaceOp(op, tile);
    return success();
  }
};

/// Scores under a gate per key feature,
/// s_ij = sum_f q_if k_jf exp(p_if - p_jf), j <= i + diagonal. Whether the
/// exponentials may be factored about the chunk's first row is decided at
/// run time for the whole block:
///  - When every |p_if - p_0f| <= kFactoredDecayBound, each factor of
///    exp(p_if - p_0f) exp(p_0f - p_jf) stays within e^+-bound, far from
///    f32's and bf16's limits: q_if exp(p_if - p_0f) and
///    k_jf exp(p_0f - p_jf) are staged in the op's scratch tiles, rounded
///    to the operands' type, and one tensor-core product gives every
///    score (a share of the exponentials per thread, 2 C F in all).
///  - Otherwise (gates strong enough that a factor could overflow) each
///    thread sums its elements' terms with their own exponentials, as the
///    op's definition reads.
struct DecayedScoresLowering : MmaSyncLowering<DecayedScoresOp> {
  using MmaSyncLowering::MmaSyncLowering;
  static constexpr double kFactoredDecayBound = 60.0;

  LogicalResult
  matchAndRewrite(DecayedScoresOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(checkLayouts(rewriter, op)))
      return failure();
    if (op.getKeyLogs())
      return rewriter.notifyMatchFailure(
          op, "key_logs apart from the queries' logs (a lagged chunk) are "
              "not lowered by the mma.sync strategy yet");
    TileType type = op.getType(), queries = op.getQueries().getType(),
             keys = op.getKeys().getType(), logs = op.getLogs().getType();
    auto mmaLayout = dyn_cast<MmaLayoutAttr>(type.getLayout());
    Type element = queries.getElementType();
    if (!mmaLayout || mmaLayout.getWarps()[1] != 1 || !isShared(queries) ||
        !isShared(keys) || !isShared(logs) ||
        keys.getElementType() != element ||
        (!element.isBF16() && !element.isF16()))
      return rewriter.notifyMatchFailure(
          op, "needs an #attn_tile.mma result with one column of warps and "
              "16-bit shared queries and keys");
    int64_t features = queries.getColumns(), rows = queries.getRows();
    if (features % 16 || type.getColumns() % 16)
      return rewriter.notifyMatchFailure(
          op, "features and keys must be multiples of 16");
    Location loc = op.getLoc();
    ThreadIds ids(rewriter, loc);
    MmaTileGeometry g(type);
    Value q = adaptor.getQueries(), k = adaptor.getKeys(),
          p = adaptor.getLogs();
    Type f32 = rewriter.getF32Type();
    auto constant = [&](OpBuilder &b, double v) {
      return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v))
          .getResult();
    };
    auto idx = [&](OpBuilder &b, int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    auto load = [&](OpBuilder &b, Value memory, Value r, Value c) {
      return memref::LoadOp::create(b, loc, memory, ValueRange{r, c})
          .getResult();
    };

    // Whether any |p_rf - p_0f| exceeds the bound (or is NaN): a share of
    // the columns per thread, joined by the barrier's OR (which also
    // orders the scratch writes after earlier readers of the region).
    Value far =
        arith::ConstantOp::create(rewriter, loc, rewriter.getBoolAttr(false));
    {
      Value threads = gpu::BlockDimOp::create(rewriter, loc, gpu::Dimension::x);
      auto loop =
          scf::ForOp::create(rewriter, loc, ids.thread, idx(rewriter, features),
                             threads, ValueRange{far});
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(loop.getBody());
      Value f = loop.getInductionVar();
      Value first = load(rewriter, p, idx(rewriter, 0), f);
      Value any = loop.getRegionIterArgs()[0];
      for (int64_t r = 1; r < rows; ++r) {
        Value d = arith::SubFOp::create(
            rewriter, loc, load(rewriter, p, idx(rewriter, r), f), first);
        Value magnitude = math::AbsFOp::create(rewriter, loc, d);
        Value beyond = arith::CmpFOp::create(
            rewriter, loc, arith::CmpFPredicate::UGT, magnitude,
            constant(rewriter, kFactoredDecayBound));
        any = arith::OrIOp::create(rewriter, loc, any, beyond);
      }
      scf::YieldOp::create(rewriter, loc, any);
      rewriter.setInsertionPointAfter(loop);
      far = loop.getResult(0);
    }
    Value predicate =
        arith::ExtUIOp::create(rewriter, loc, rewriter.getI32Type(), far);
    Value votes = NVVM::BarrierOp::create(
                      rewriter, loc, rewriter.getI32Type(), Value(), Value(),
                      NVVM::BarrierReductionAttr::get(
                          rewriter.getContext(), NVVM::BarrierReduction::OR),
                      predicate)
                      .getRes();
    Value exact = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::ne, votes,
        arith::ConstantIntOp::create(rewriter, loc, 0, 32));
    VectorType vectorType = g.vectorType();
    auto branch = scf::IfOp::create(
        rewriter, loc, exact,
        [&](OpBuilder &b, Location l) {
          scf::YieldOp::create(b, l, exactScores(b, loc, op, ids, g, q, k, p));
        },
        [&](OpBuilder &b, Location l) {
          SmallVector<Value> scratch = scratchViews(b, op);
          // Stage the rescaled operands, 16-byte runs of a row at a time.
          int64_t width = 8;
          forEachRun(
              b, op, ids, rows, features, width,
              [&](OpBuilder &nb, Value r, Value f) {
                SmallVector<Value> logs = loadRun(nb, loc, p, {r, f}, width);
                SmallVector<Value> firstLogs =
                    loadRun(nb, loc, p, {idx(nb, 0), f}, width);
                SmallVector<Value> qs = loadRun(nb, loc, q, {r, f}, width);
                SmallVector<Value> ks = loadRun(nb, loc, k, {r, f}, width);
                FloatMath m{nb, loc};
                SmallVector<Value> qd, kd;
                for (int64_t i = 0; i < width; ++i) {
                  Value d =
                      arith::SubFOp::create(nb, loc, logs[i], firstLogs[i]);
                  Value up = createTileExp(nb, loc, d);
                  Value down =
                      createTileExp(nb, loc, arith::NegFOp::create(nb, loc, d));
                  qd.push_back(convertFloat(
                      nb, loc, m.mul(convertFloat(nb, loc, qs[i], f32), up),
                      element));
                  kd.push_back(convertFloat(
                      nb, loc, m.mul(convertFloat(nb, loc, ks[i], f32), down),
                      element));
                }
                storeRun(nb, loc, qd, scratch[0], {r, f});
                storeRun(nb, loc, kd, scratch[1], {r, f});
              });
          gpu::BarrierOp::create(b, l);
          SmallVector<Value> c(g.numElements(), constant(b, 0));
          accumulateSharedProduct(ids, element, g, c, scratch[0],
                                  /*transposeLhs=*/false, scratch[1],
                                  /*transposeRhs=*/true, features);
          scf::YieldOp::create(b, l, pack(b, l, vectorType, c));
        });
    SmallVector<Value> scores = unpack(rewriter, loc, branch.getResult(0));
    Value zero = constant(rewriter, 0);
    for (int64_t e = 0; e < g.numElements(); ++e) {
      auto [i, j] = ids.coordinates(g, e);
      Value keep = ids.keeps(i, j, op.getDiagonal());
      scores[e] = arith::SelectOp::create(rewriter, loc, keep, scores[e], zero);
    }
    rewriter.replaceOp(op, pack(rewriter, loc, vectorType, scores));
    return success();
  }

  /// Each element's sum over the features with its own exponentials.
  static Value exactScores(OpBuilder &b, Location loc, DecayedScoresOp op,
                           ThreadIds &ids, const MmaTileGeometry &g, Value q,
                           Value k, Value p) {
    int64_t features = op.getQueries().getType().getColumns();
    Type f32 = b.getF32Type();
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    SmallVector<std::pair<Value, Value>> at;
    for (int64_t e = 0; e < g.numElements(); ++e)
      at.push_back(ids.coordinates(g, e));
    auto loop =
        scf::ForOp::create(b, loc, arith::ConstantIndexOp::create(b, loc, 0),
                           arith::ConstantIndexOp::create(b, loc, features),
                           arith::ConstantIndexOp::create(b, loc, 1),
                           SmallVector<Value>(g.numElements(), zero));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value f = loop.getInductionVar();
      FloatMath m{b, loc};
      SmallVector<Value> sums;
      for (int64_t e = 0; e < g.numElements(); ++e) {
        auto [i, j] = at[e];
        auto read = [&](Value memory, Value r) {
          return memref::LoadOp::create(b, loc, memory, ValueRange{r, f})
              .getResult();
        };
        Value decay = createTileExp(b, loc, m.sub(read(p, i), read(p, j)));
        Value term = m.mul(m.mul(convertFloat(b, loc, read(q, i), f32),
                                 convertFloat(b, loc, read(k, j), f32)),
                           decay);
        sums.push_back(m.add(loop.getRegionIterArgs()[e], term));
      }
      scf::YieldOp::create(b, loc, sums);
    }
    return pack(b, loc, g.vectorType(), SmallVector<Value>(loop.getResults()));
  }
};

} // namespace

MmaSyncTypeConverter::MmaSyncTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](TileType type) -> std::optional<Type> {
    if (isShared(type))
      return Type(sharedMemRefType(type));
    MmaTileGeometry g(type);
    if (!isRegisterLayout(type.getLayout()) || !g.valid())
      return std::nullopt;
    return Type(g.vectorType());
  });
}

/// Whether `op` is a shared load of the same kind (ring or not) as `like`.
static bool isSharedLoadLike(Operation *op, LoadOp like) {
  auto load = dyn_cast_or_null<LoadOp>(op);
  return load && isShared(load.getType()) &&
         load->hasAttr(kRing) == like->hasAttr(kRing);
}

/// Marks the first and last load of each run of consecutive shared loads:
/// the run's copies are all in flight before its one wait.
static void markSharedLoadRuns(Operation *root) {
  root->walk([](LoadOp load) {
    if (!isShared(load.getType()))
      return;
    if (!isSharedLoadLike(load->getPrevNode(), load))
      load->setAttr(kRunStart, UnitAttr::get(load.getContext()));
    if (!isSharedLoadLike(load->getNextNode(), load))
      load->setAttr(kRunEnd, UnitAttr::get(load.getContext()));
  });
}

/// A run of two or more 2-D cp.async loads (one group each, not ring loads)
/// waits for each tile just before its first use in the run's block, for
/// that tile's group and those before it (`cp.async.wait_group` of the
/// groups committed after it), instead of for all of them at the run's end:
/// the flash program's V lands while Q K^T and the softmax run. A run with
/// a synchronous load, or a tile not used in its block, keeps its one wait.
static void waitAtFirstUses(Operation *root) {
  SmallVector<SmallVector<LoadOp>> runs;
  root->walk([&](LoadOp load) {
    if (load->hasAttr(kRunStart))
      runs.emplace_back();
    if (!runs.empty() && isShared(load.getType()) && !load->hasAttr(kRing) &&
        (runs.back().empty() || load->getPrevNode() == runs.back().back()))
      runs.back().push_back(load);
  });
  for (SmallVector<LoadOp> &run : runs) {
    if (run.size() < 2 || !run.back()->hasAttr(kRunEnd))
      continue;
    bool async = llvm::all_of(run, [](LoadOp load) {
      return load.getType().getRank() == 2 && getKnownBlockThreads(load);
    });
    if (!async)
      continue;
    // The first op of the run's block that uses each tile (or holds its
    // use).
    Block *block = run.back()->getBlock();
    SmallVector<Operation *> firstUses;
    for (LoadOp load : run) {
      Operation *first = nullptr;
      for (Operation *user : load->getUsers())
        if (Operation *op = block->findAncestorOpInBlock(*user))
          if (!first || op->isBeforeInBlock(first))
            first = op;
      firstUses.push_back(first);
    }
    if (llvm::is_contained(firstUses, nullptr))
      continue;
    run.back()->removeAttr(kRunEnd);
    // In block order; a wait for fewer pending groups covers the rest.
    SmallVector<unsigned> order(run.size());
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order, [&](unsigned x, unsigned y) {
      return firstUses[x]->isBeforeInBlock(firstUses[y]);
    });
    int64_t waited = run.size();
    for (auto [n, i] : llvm::enumerate(order)) {
      // Tiles first used by one op wait together, for the latest of them.
      int64_t pending = run.size() - 1 - i;
      for (unsigned j : ArrayRef<unsigned>(order).drop_front(n + 1))
        if (firstUses[j] == firstUses[i])
          pending = std::min<int64_t>(pending, run.size() - 1 - j);
      if (pending >= waited)
        continue;
      waited = pending;
      OpBuilder b(firstUses[i]);
      NVVM::CpAsyncWaitGroupOp::create(b, run[i].getLoc(),
                                       b.getI32IntegerAttr(pending));
      gpu::BarrierOp::create(b, run[i].getLoc());
    }
  }
}

/// A loop whose body fetches the next iteration's tiles (ring loads) waits
/// for them as each iteration starts, and for the last fetch after it
/// ends, before the regions are read or the block exits.
static void waitForCarriedLoads(Operation *root) {
  SmallPtrSet<Operation *, 4> loops;
  root->walk([&](LoadOp load) {
    if (load->hasAttr(kRing) && isa<scf::ForOp>(load->getParentOp()))
      loops.insert(load->getParentOp());
  });
  for (Operation *loop : loops) {
    OpBuilder b(loop->getContext());
    b.setInsertionPointToStart(cast<scf::ForOp>(loop).getBody());
    NVVM::CpAsyncWaitGroupOp::create(b, loop->getLoc(), b.getI32IntegerAttr(0));
    gpu::BarrierOp::create(b, loop->getLoc());
    b.setInsertionPointAfter(loop);
    NVVM::CpAsyncWaitGroupOp::create(b, loop->getLoc(), b.getI32IntegerAttr(0));
    gpu::BarrierOp::create(b, loop->getLoc());
  }
}

void mlir::attn::populateTileToMmaSyncPatterns(const TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<SplatLowering, LoadLowering, StoreLowering,
               ConvertLayoutLowering, MatmulLowering, StateUpdateLowering,
               DecayStateLowering, MapLowering, ReduceLowering, CumsumLowering,
               DecayMaskLowering, UTSolveLowering, DecayedScoresLowering>(
      converter, patterns.getContext());
}

namespace {
struct AttnTileToMmaSyncPass
    : mlir::attn::impl::AttnTileToMmaSyncPassBase<AttnTileToMmaSyncPass> {
  void runOnOperation() override {
    bool any = false;
    getOperation().walk([&](Operation *op) {
      if (isa<TileDialect>(op->getDialect()))
        any = true;
    });
    if (!any)
      return;
    if (failed(decomposeTileSoftmax(getOperation())))
      return signalPassFailure();
    WalkResult assigned = getOperation().walk([](FunctionOpInterface function) {
      return failed(assignSharedOffsets(function)) ? WalkResult::interrupt()
                                                   : WalkResult::advance();
    });
    if (assigned.wasInterrupted())
      return signalPassFailure();
    markSharedLoadRuns(getOperation());
    waitAtFirstUses(getOperation());
    waitForCarriedLoads(getOperation());
    MmaSyncTypeConverter converter;
    RewritePatternSet patterns(&getContext());
    ConversionTarget target(getContext());
    target.addIllegalDialect<TileDialect>();
    target.addLegalDialect<
        arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
        scf::SCFDialect, gpu::GPUDialect, nvgpu::NVGPUDialect,
        NVVM::NVVMDialect, LLVM::LLVMDialect, vector::VectorDialect>();
    populateTileToMmaSyncPatterns(converter, patterns);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
