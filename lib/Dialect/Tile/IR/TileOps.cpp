//===- TileOps.cpp - attn_tile op verifiers and builders ------------------===//
//
/// \file
/// Verifies the attn_tile ops: shapes, element types and layouts agree the
/// way each op's description says.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn::tile;

#define GET_OP_CLASSES
#include "attn/Dialect/Tile/IR/TileOps.cpp.inc"

static bool isSixteenBit(Type type) { return type.isF16() || type.isBF16(); }

/// The layout a 1-D vector over the rows (dim 0) or columns (dim 1) of a
/// tile of layout `layout` has: a slice that removes the other dimension,
/// or `layout` itself for shared and layout-free tiles.
static Attribute vectorLayout(Attribute layout, int64_t along) {
  if (!layout || isa<SharedLayoutAttr>(layout))
    return layout;
  return SliceLayoutAttr::get(layout.getContext(), /*dim=*/1 - along, layout);
}

LogicalResult SplatOp::verify() {
  if (getValue().getType() != getType().getElementType())
    return emitOpError("value type ")
           << getValue().getType() << " differs from the tile's element type "
           << getType().getElementType();
  return success();
}

/// Checks the indices and element types of a load or store of `tile`
/// from or to `memory`; `widening` says which way the element types may
/// differ (f32 tile over 16-bit memory).
static LogicalResult verifyAccess(Operation *op, TileType tile,
                                  MemRefType memory, size_t numIndices) {
  if (numIndices != size_t(memory.getRank()))
    return op->emitOpError("expected ")
           << memory.getRank() << " indices, one per memory dimension, got "
           << numIndices;
  if (memory.getRank() < tile.getRank())
    return op->emitOpError("a ")
           << tile.getRank() << "-D tile needs memory of rank at least "
           << tile.getRank();
  Type element = memory.getElementType();
  if (element != tile.getElementType() &&
      !(tile.getElementType().isF32() && isSixteenBit(element)))
    return op->emitOpError("tile element type ")
           << tile.getElementType() << " must be the memory's (" << element
           << ") or f32";
  if (tile.getRank() == 2) {
    int64_t columns = memory.getShape().back();
    if (!ShapedType::isDynamic(columns) && tile.getColumns() > columns)
      return op->emitOpError("tile of ")
             << tile.getColumns() << " columns does not fit memory rows of "
             << columns;
  }
  return success();
}

LogicalResult LoadOp::verify() {
  return verifyAccess(*this, getType(), getSource().getType(),
                      getIndices().size());
}

LogicalResult StoreOp::verify() {
  return verifyAccess(*this, getTile().getType(), getDest().getType(),
                      getIndices().size());
}

LogicalResult ConvertLayoutOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getShape() != result.getShape() ||
      source.getElementType() != result.getElementType())
    return emitOpError("changes only the layout: shape and element type must "
                       "stay ")
           << source;
  return success();
}

LogicalResult MatmulOp::verify() {
  TileType lhs = getLhs().getType(), rhs = getRhs().getType(),
           acc = getAcc().getType();
  if (lhs.getRank() != 2 || rhs.getRank() != 2 || acc.getRank() != 2)
    return emitOpError("operands must be 2-D tiles");
  if (lhs.getElementType() != rhs.getElementType())
    return emitOpError("lhs and rhs must have one element type, got ")
           << lhs.getElementType() << " and " << rhs.getElementType();
  int64_t m = getTransposeLhs() ? lhs.getShape()[1] : lhs.getShape()[0];
  int64_t kl = getTransposeLhs() ? lhs.getShape()[0] : lhs.getShape()[1];
  int64_t kr = getTransposeRhs() ? rhs.getShape()[1] : rhs.getShape()[0];
  int64_t n = getTransposeRhs() ? rhs.getShape()[0] : rhs.getShape()[1];
  if (kl != kr)
    return emitOpError("contraction sizes differ: ") << kl << " and " << kr;
  if (acc.getShape()[0] != m || acc.getShape()[1] != n)
    return emitOpError("expected an accumulator of ")
           << m << "x" << n << ", got " << acc.getShape()[0] << "x"
           << acc.getShape()[1];
  return success();
}

int64_t MapOp::getBroadcastDim(unsigned n) {
  if (!getBroadcast())
    return -1;
  return (*getBroadcast())[n];
}

BlockArgument MapOp::getColumnArgument() {
  if (getType().getRank() != 2)
    return {};
  return getBody().getArgument(1);
}

Block::BlockArgListType MapOp::getElementArguments() {
  return getBody().getArguments().drop_front(getType().getRank());
}

void MapOp::build(
    OpBuilder &builder, OperationState &state, TileType result,
    ValueRange inputs, ArrayRef<int64_t> broadcast,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  DenseI64ArrayAttr broadcastAttr;
  if (llvm::any_of(broadcast, [](int64_t d) { return d >= 0; }))
    broadcastAttr = builder.getDenseI64ArrayAttr(broadcast);
  build(builder, state, result, inputs, broadcastAttr);
  Location loc = state.location;
  OpBuilder::InsertionGuard guard(builder);
  Block *block = builder.createBlock(state.regions.front().get());
  SmallVector<Value> coordinates, elements;
  for (int64_t d = 0; d < result.getRank(); ++d)
    coordinates.push_back(block->addArgument(builder.getIndexType(), loc));
  for (Value input : inputs)
    elements.push_back(block->addArgument(
        cast<TileType>(input.getType()).getElementType(), loc));
  YieldOp::create(builder, loc, body(builder, loc, coordinates, elements));
}

LogicalResult MapOp::verify() {
  TileType result = getType();
  if (getBroadcast() && getBroadcast()->size() != getInputs().size())
    return emitOpError("expected one broadcast entry per input, got ")
           << getBroadcast()->size() << " for " << getInputs().size();
  for (auto [n, input] : llvm::enumerate(getInputs())) {
    auto type = cast<TileType>(input.getType());
    int64_t along = getBroadcastDim(n);
    if (along < -1 || along > 1 || (along >= 0 && result.getRank() != 2))
      return emitOpError("broadcast entry ")
             << n << " must be -1, or 0 or 1 for a 2-D result";
    if (along == -1) {
      if (type.getShape() != result.getShape() ||
          type.getLayout() != result.getLayout())
        return emitOpError("input ")
               << n << " must have the result's shape and layout, got " << type;
      continue;
    }
    if (type.getRank() != 1 || type.getShape()[0] != result.getShape()[along])
      return emitOpError("broadcast input ")
             << n << " must be a 1-D tile of " << result.getShape()[along]
             << " elements";
    if (type.getLayout() != vectorLayout(result.getLayout(), along))
      return emitOpError("broadcast input ")
             << n << " must have the layout "
             << vectorLayout(result.getLayout(), along);
  }
  return success();
}

LogicalResult MapOp::verifyRegions() {
  Block &body = getBody().front();
  int64_t rank = getType().getRank();
  if (body.getNumArguments() != rank + getInputs().size())
    return emitOpError("body must take ")
           << rank << " index arguments and one element per input";
  for (int64_t d = 0; d < rank; ++d)
    if (!body.getArgument(d).getType().isIndex())
      return emitOpError("body argument ") << d << " must be an index";
  for (auto [input, argument] : llvm::zip(getInputs(), getElementArguments()))
    if (argument.getType() != cast<TileType>(input.getType()).getElementType())
      return emitOpError("body element argument types must be the inputs' "
                         "element types");
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("body must end with attn_tile.yield");
  if (yield.getValue().getType() != getType().getElementType())
    return emitOpError("yields ")
           << yield.getValue().getType() << " for elements of type "
           << getType().getElementType();
  return success();
}

LogicalResult ReduceOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getRank() != 2 || result.getRank() != 1 ||
      result.getShape()[0] != source.getShape()[0])
    return emitOpError("reduces an [R, C] tile to R elements: expected ")
           << source.getShape()[0] << " elements";
  if (result.getLayout() != vectorLayout(source.getLayout(), 0))
    return emitOpError("result must have the layout ")
           << vectorLayout(source.getLayout(), 0);
  return success();
}

LogicalResult OnlineSoftmaxOp::verify() {
  TileType scores = getScores().getType(), max = getMax().getType();
  if (scores.getRank() != 2)
    return emitOpError("scores must be a 2-D tile, got ") << scores;
  if (max.getRank() != 1 || max.getShape()[0] != scores.getRows() ||
      max.getLayout() != vectorLayout(scores.getLayout(), 0))
    return emitOpError("the running maximum and sum must be 1-D tiles of ")
           << scores.getRows() << " elements laid out along the scores' rows";
  float scale = getScale().convertToFloat();
  if (!(scale > 0) || !std::isfinite(scale))
    return emitOpError("scale must be positive and finite, got ") << scale;
  return success();
}

LogicalResult FinalizeOp::verify() {
  TileType accumulator = getAccumulator().getType(), sum = getSum().getType();
  if (accumulator.getRank() != 2)
    return emitOpError("the accumulator must be a 2-D tile, got ")
           << accumulator;
  if (sum.getRank() != 1 || sum.getShape()[0] != accumulator.getRows() ||
      sum.getLayout() != vectorLayout(accumulator.getLayout(), 0))
    return emitOpError("the sum must be a 1-D tile of ")
           << accumulator.getRows()
           << " elements laid out along the accumulator's rows";
  return success();
}

LogicalResult LogSumExpOp::verify() {
  if (getType().getRank() != 1)
    return emitOpError("takes 1-D tiles, got ") << getType();
  return success();
}

LogicalResult Taylor2FeaturesOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getRank() != 2 || result.getRank() != 2)
    return emitOpError("maps a 2-D tile to a 2-D tile");
  int64_t d = source.getColumns();
  if (result.getRows() != source.getRows() ||
      result.getColumns() != 1 + d + d * d)
    return emitOpError("result must be [")
           << source.getRows() << ", " << 1 + d + d * d << "] (1 + D + D^2)";
  if (result.getElementType() != source.getElementType())
    return emitOpError("result must have the source's element type");
  return success();
}

LogicalResult SoftmaxFeaturesOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getRank() != 2 || result.getRank() != 2 ||
      result.getRows() != source.getRows() ||
      result.getColumns() != 2 * source.getColumns())
    return emitOpError("maps a [C, M] tile to [C, 2 M], got ")
           << source << " -> " << result;
  return success();
}

LogicalResult DecayMaskOp::verify() {
  TileType result = getType();
  if (result.getRank() != 2)
    return emitOpError("result must be a 2-D tile");
  if (!getRowLogs())
    return success();
  auto rows = cast<TileType>(getRowLogs().getType());
  auto columns = cast<TileType>(getColumnLogs().getType());
  if (rows.getRank() != 1 || rows.getShape()[0] != result.getShape()[0] ||
      rows.getLayout() != vectorLayout(result.getLayout(), 0))
    return emitOpError("row logs must be a 1-D tile of ")
           << result.getShape()[0] << " elements laid out along the rows";
  if (columns.getRank() != 1 || columns.getShape()[0] != result.getShape()[1] ||
      columns.getLayout() != vectorLayout(result.getLayout(), 1))
    return emitOpError("column logs must be a 1-D tile of ")
           << result.getShape()[1] << " elements laid out along the columns";
  return success();
}

LogicalResult UTSolveOp::verify() {
  TileType type = getType();
  if (type.getRank() != 2 || type.getShape()[0] != type.getShape()[1])
    return emitOpError("expects a square 2-D tile, got ") << type;
  return success();
}

LogicalResult StateUpdateOp::verify() {
  TileType state = getState().getType(), keys = getKeys().getType(),
           values = getValues().getType();
  if (state.getRank() != 2 || keys.getRank() != 2 || values.getRank() != 2)
    return emitOpError("state, keys and values must be 2-D tiles");
  if (keys.getShape()[0] != values.getShape()[0])
    return emitOpError("keys and values must have one row per token, got ")
           << keys.getShape()[0] << " and " << values.getShape()[0];
  if (state.getShape()[0] != keys.getShape()[1] ||
      state.getShape()[1] != values.getShape()[1])
    return emitOpError("expected a state of ")
           << keys.getShape()[1] << "x" << values.getShape()[1] << ", got "
           << state.getShape()[0] << "x" << state.getShape()[1];
  if (keys.getElementType() != values.getElementType())
    return emitOpError("keys and values must have one element type");
  if (Value logs = getLogDecay()) {
    auto type = cast<TileType>(logs.getType());
    bool perToken = type.getRank() == 1 && type.getRows() == keys.getRows();
    bool perFeature = type.getRank() == 2 && type.getShape() == keys.getShape();
    if (!perToken && !perFeature)
      return emitOpError("log_decay must have one entry per token (")
             << keys.getRows() << ") or per token and key feature ("
             << keys.getRows() << "x" << keys.getColumns() << ")";
  }
  return success();
}

LogicalResult DecayStateOp::verify() {
  TileType state = getState().getType(), logs = getLogDecay().getType();
  if (state.getRank() != 2)
    return emitOpError("the state must be a 2-D tile, got ") << state;
  bool perToken = logs.getRank() == 1;
  bool perFeature = logs.getRank() == 2 && logs.getColumns() == state.getRows();
  if (!perToken && !perFeature)
    return emitOpError("log_decay must have one entry per token ([C]) or "
                       "per token and key feature ([C, ")
           << state.getRows() << "]), got " << logs;
  return success();
}

LogicalResult DecayedScoresOp::verify() {
  TileType queries = getQueries().getType(), keys = getKeys().getType(),
           logs = getLogs().getType(), result = getType();
  if (queries.getRank() != 2 || keys.getRank() != 2 || result.getRank() != 2)
    return emitOpError("queries, keys and result must be 2-D tiles");
  if (queries.getColumns() != keys.getColumns() ||
      logs.getShape() != queries.getShape() ||
      keys.getRows() != queries.getRows())
    return emitOpError("queries, keys and logs must have one shape, got ")
           << queries << ", " << keys << " and " << logs;
  if (result.getRows() != queries.getRows() ||
      result.getColumns() != keys.getRows())
    return emitOpError("expected a result of ")
           << queries.getRows() << "x" << keys.getRows();
  if (Value keyLogs = getKeyLogs())
    if (cast<TileType>(keyLogs.getType()).getShape() != keys.getShape())
      return emitOpError("key_logs must have the keys' shape, got ")
             << keyLogs.getType();
  return success();
}

LogicalResult ExtractRowsOp::verify() {
  TileType source = getSource().getType(), result = getType();
  int64_t offset = getOffset();
  if (source.getRank() != result.getRank() ||
      source.getShape().drop_front() != result.getShape().drop_front() ||
      source.getElementType() != result.getElementType() ||
      source.getLayout() != result.getLayout())
    return emitOpError("result must be rows of the source: the same columns, "
                       "element type and layout, got ")
           << source << " -> " << result;
  if (offset < 0 || offset + result.getRows() > source.getRows())
    return emitOpError("rows [")
           << offset << ", " << offset + result.getRows()
           << ") lie outside the source's " << source.getRows() << " rows";
  return success();
}
