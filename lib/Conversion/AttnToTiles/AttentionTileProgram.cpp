//===- AttentionTileProgram.cpp - attention as a tile program -------------===//
//
/// \file
/// The flash algorithm of attn.attention written as attn_tile ops. For each
/// query block [q0, q1) of head h of sequence b:
///  1. Q [Bq, Dk] (zero past the queries' end); the running row maximum m
///     (-inf; softmax only), row sum l (0) and accumulator acc (0).
///  2. For each key tile [k0, k1) the key-tile schedule visits
///     (emitKeyTiles: named masks and block lists skip what they can), its
///     K, V [Bk, D] (zero past k1), fetched while the tile before runs
///     (the loop carries them); the scores S = score_mod(scale Q K^T) by
///     each element's (b, h, i, j), the mask applied where the tile is
///     partial, -inf (softmax) or weight 0 past k1; then softmax:
///     attn_tile.online_softmax gives P, m', l' and the correction c, and
///     acc' = diag(c) acc + P V; the other normalizations: P = weight(S),
///     acc' = acc + P V, and for l1 l' = l + rowsum(P). Without a
///     score_mod, softmax takes the raw Q K^T and the scale (folded into
///     its exponent), and a whole unmasked tile takes no map at all.
///  3. O = attn_tile.finalize(acc, l) for softmax and l1 (acc for sigmoid
///     and relu), and the log-sum-exp attn_tile.log_sum_exp(m, l) when the
///     op returns it.
/// The CPU strategy runs it, and the mma.sync strategy as the tensor-core
/// kernel (buildAttentionTileKernel).
//
//===----------------------------------------------------------------------===//

#include "AttentionTileProgram.h"
#include "TileBuilder.h"
#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/TileToMmaSync.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;

SmallVector<Value> mlir::attn::emitOnlineSoftmaxStep(TileBuilder &t,
                                                     Value scores, Value values,
                                                     ValueRange state,
                                                     double scale) {
  Location loc = t.loc;
  Value acc = state[2];
  auto step = tile::OnlineSoftmaxOp::create(
      t.b, loc, scores, state[0], state[1], t.b.getF32FloatAttr(scale));
  acc = t.map(cast<tile::TileType>(acc.getType()), {acc, step.getCorrection()},
              {-1, 0}, [&](OpBuilder &nb, ValueRange, ValueRange x) -> Value {
                return arith::MulFOp::create(nb, loc, x[0], x[1]);
              });
  Type operand = cast<tile::TileType>(values.getType()).getElementType();
  acc = tile::MatmulOp::create(t.b, loc, t.lhsOperand(step.getProbs(), operand),
                               values, acc,
                               /*transpose_lhs=*/false,
                               /*transpose_rhs=*/false);
  return {step.getNewMax(), step.getNewSum(), acc};
}

void mlir::attn::emitAttentionQueryBlock(
    Emitter &e, AttentionOp op, const Kernel &kernel, const KeyBlockPlan &keys,
    int64_t blockQueries, int64_t blockKeys, const TileLayouts &layouts,
    Value bi, Value h, Value qb) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  TileBuilder t{b, loc, kernel, layouts};
  HeadShape shape = getHeadShape(op);
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value value = kernel.get(KernelArgRole::Value);
  Value output = kernel.get(KernelArgRole::Output);
  Value lse = kernel.get(KernelArgRole::LogSumExp);
  Normalization normalization = op.getNormalization();
  bool softmax = normalization == Normalization::softmax;
  bool dividesBySum = softmax || normalization == Normalization::l1;
  double empty = softmax ? -std::numeric_limits<double>::infinity() : 0.0;
  int64_t bq = blockQueries, bk = blockKeys;
  Type f32 = t.f32();
  // Matmul operands: widened to f32 where nothing is placed (the CPU), in
  // the storage type for tensor cores.
  Type operand = layouts.accumulator
                     ? cast<MemRefType>(query.getType()).getElementType()
                     : f32;
  Attribute acc = layouts.accumulator;
  tile::TileType rowsType = t.tileOf({bq}, f32, layouts.rows());
  tile::TileType scoresType = t.tileOf({bq, bk}, f32, acc);
  tile::TileType outType = t.tileOf({bq, shape.valueDim}, f32, acc);
  Value zero = e.idx(0);

  Value q0 = arith::MulIOp::create(b, loc, qb, e.idx(bq));
  Value q1 =
      arith::MinUIOp::create(b, loc, e.addi(q0, e.idx(bq)), keys.numQueries);
  Value kh = e.divui(h, shape.keyGroup);
  Value vh = e.divui(h, shape.valueGroup);
  // The block list's query block holding these rows: a block of a block
  // mask may hold several query blocks (of 64 rows on tensor cores).
  Value listBlock = qb;
  if (std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize())
    listBlock = e.divui(q0, (*blockSize)[0]);
  // 1.
  Value q = t.load(t.tileOf({bq, shape.keyDim}, operand, layouts.loaded), query,
                   {bi, h, q0, zero}, q1);
  // Up to 64 key dims, Q's A fragments stay in registers for the whole
  // key loop (Dk / 2 bf16 values a thread per 16 rows of its warp); wider,
  // they are read from shared memory per key tile, to leave registers for
  // the scores and the accumulator.
  if (acc && shape.keyDim <= 64)
    q = t.withLayout(
        q, tile::OperandLayoutAttr::get(b.getContext(), /*index=*/0,
                                        cast<tile::MmaLayoutAttr>(acc)));
  Value initialMax = tile::SplatOp::create(
      b, loc, rowsType,
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(empty)));
  SmallVector<Value> init = {initialMax, t.zeros(rowsType), t.zeros(outType)};
  // 2. Softmax without a score_mod takes the raw dots and folds the scale
  // into its exponent (one multiply-add before each exp2); a negative scale
  // would flip the row maximum, so it stays in the scores' map.
  double scale = op.getEffectiveScale();
  bool scaleInSoftmax = softmax && op.getScoreMod().empty() && scale > 0;
  // The regions read captured tensors at clamped rows: rows past the
  // queries' end are computed but never stored.
  Value lastQuery = e.subi(keys.numQueries, e.idx(1));
  auto scoresOf = [&](Value dots, Value k0, Value k1, bool masked,
                      bool bounded) -> Value {
    if (!masked && !bounded && scaleInSoftmax)
      return dots;
    return t.map(
        scoresType, dots, {-1},
        [&](OpBuilder &nb, ValueRange at, ValueRange x) -> Value {
          Emitter inner(nb, loc);
          Value i =
              arith::MinUIOp::create(nb, loc, inner.addi(q0, at[0]), lastQuery);
          Value j = inner.addi(k0, at[1]);
          auto score = [&]() -> Value {
            Value s = scaleInSoftmax
                          ? x[0]
                          : emitScoreMod(inner, op, kernel, x[0], bi, h, i, j);
            if (!softmax)
              s = attentionWeight(inner, op, s, Value(), kernel);
            if (masked)
              s = inner.f.select(emitAttentionKeep(inner, op, kernel, bi, h, i,
                                                   j, keys.numQueries,
                                                   keys.numKeys,
                                                   /*withNamedMask=*/true),
                                 s, inner.f.c(empty));
            return s;
          };
          if (!bounded)
            return score();
          // Only inside the tile: a score_mod or mask may read captured
          // tensors at (i, j).
          return emitIf(
              nb, loc, inner.cmpi(arith::CmpIPredicate::ult, j, k1),
              [&] { return Values{score()}; },
              [&] { return Values{inner.f.c(empty)}; })[0];
        });
  };
  // K and V of the tile at k0, fetched a tile ahead (emitKeyTiles).
  auto fetch = [&](Value k0, Value rowsBelow) -> SmallVector<Value> {
    return {t.load(t.tileOf({bk, shape.keyDim}, operand, layouts.loaded), key,
                   {bi, kh, k0, zero}, rowsBelow),
            t.load(t.tileOf({bk, shape.valueDim}, operand, layouts.loaded),
                   value, {bi, vh, k0, zero}, rowsBelow)};
  };
  auto keyTile = [&](Value k0, Value k1, bool masked,
                     ValueRange carried) -> SmallVector<Value> {
    ValueRange state = carried.take_front(3);
    Value k = carried[3], v = carried[4];
    Value dots = tile::MatmulOp::create(b, loc, q, k, t.zeros(scoresType),
                                        /*transpose_lhs=*/false,
                                        /*transpose_rhs=*/true);
    // A tile the keys' end cuts short keeps its keys by a compare per
    // element; a whole one needs none.
    Value scores;
    if (masked) {
      scores = scoresOf(dots, k0, k1, /*masked=*/true, /*bounded=*/true);
    } else {
      Value whole = e.cmpi(arith::CmpIPredicate::eq, e.subi(k1, k0), e.idx(bk));
      auto unmasked = [&](bool bounded) {
        return Values{scoresOf(dots, k0, k1, /*masked=*/false, bounded)};
      };
      scores = emitIf(
          b, loc, whole, [&] { return unmasked(/*bounded=*/false); },
          [&] { return unmasked(/*bounded=*/true); })[0];
    }
    if (softmax)
      return emitOnlineSoftmaxStep(t, scores, v, state,
                                   scaleInSoftmax ? scale : 1.0);
    Value max = state[0], sum = state[1], accumulator = state[2];
    if (dividesBySum) {
      Value rowSums = tile::ReduceOp::create(b, loc, rowsType,
                                             tile::ReductionKind::add, scores);
      sum = t.map(rowsType, {sum, rowSums}, {-1, -1},
                  [&](OpBuilder &nb, ValueRange, ValueRange x) -> Value {
                    return arith::AddFOp::create(nb, loc, x[0], x[1]);
                  });
    }
    accumulator = tile::MatmulOp::create(b, loc, t.lhsOperand(scores, operand),
                                         v, accumulator,
                                         /*transpose_lhs=*/false,
                                         /*transpose_rhs=*/false);
    return {max, sum, accumulator};
  };
  SmallVector<Value> state =
      emitKeyTiles(e, keys, bk, bi, h, q0, q1, listBlock, init, keyTile, fetch,
                   /*fetchAhead=*/!layouts.simt);
  // 3.
  Value out = dividesBySum
                  ? Value(tile::FinalizeOp::create(b, loc, state[2], state[1]))
                  : state[2];
  tile::StoreOp::create(b, loc, out, output, ValueRange{bi, h, q0, zero}, q1);
  if (lse && softmax)
    tile::StoreOp::create(b, loc,
                          tile::LogSumExpOp::create(b, loc, state[0], state[1]),
                          lse, ValueRange{bi, h, q0}, q1);
}

void mlir::attn::emitAttentionTileProgram(Emitter &e, AttentionOp op,
                                          const Kernel &kernel,
                                          const KeyBlockPlan &keys,
                                          int64_t blockQueries,
                                          int64_t blockKeys) {
  Value query = kernel.get(KernelArgRole::Query);
  Value numQueryBlocks = arith::CeilDivUIOp::create(e.b, e.loc, keys.numQueries,
                                                    e.idx(blockQueries));
  e.loop(e.idx(0), e.dim(query, 0), [&](Value bi) {
    e.loop(getHeadShape(op).heads, [&](Value h) {
      e.loop(
          e.idx(0), numQueryBlocks,
          [&](Value qb) {
            emitAttentionQueryBlock(e, op, kernel, keys, blockQueries,
                                    blockKeys, TileLayouts{}, bi, h, qb);
          },
          "query_blocks");
    });
  });
}

/// Warps per block of the tensor-core kernel.
static constexpr int64_t kTensorCoreAttentionWarps = 4;

bool mlir::attn::canUseTensorCores(AttentionOp op,
                                   const KernelSignature &signature) {
  auto elementType = [&](KernelArgRole role) {
    return signature.args[signature.find(role)].type.getElementType();
  };
  Type query = elementType(KernelArgRole::Query);
  if (!(query.isBF16() || query.isF16()) ||
      elementType(KernelArgRole::Key) != query ||
      elementType(KernelArgRole::Value) != query)
    return false;
  HeadShape shape = getHeadShape(op);
  for (int64_t dim : {shape.keyDim, shape.valueDim})
    if (dim <= 0 || dim % 16 != 0 || dim > 256)
      return false;
  // A block of query rows must lie in one query block of a block mask.
  if (std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize())
    if ((*blockSize)[0] % 64 != 0)
      return false;
  return true;
}

LogicalResult mlir::attn::requireTensorCores(AttentionOp op,
                                             const KernelSignature &signature) {
  if (canUseTensorCores(op, signature))
    return success();
  return op.emitError() << "this attention cannot run on tensor cores: it "
                           "needs bf16 or f16 query, key and value with "
                           "head dims that are multiples of 16, at most 256";
}

/// Whether each score of `op` is the scaled dot product or -inf: no
/// score_mod, no mask region, and no named mask but causal, whose partial
/// tiles compare two indices. Anything more per element (a
/// region, a mask reading segment ids) needs the registers that 128 rows
/// take: ptxas spills such kernels (alibi, document and mask_mod examples).
static bool hasPlainScores(AttentionOp op) {
  MaskAttrInterface mask = op.getMaskAttr();
  return op.getScoreMod().empty() && op.getMaskMod().empty() &&
         (!mask || isa<CausalAttr>(mask));
}

TensorCoreAttentionTiles
mlir::attn::getTensorCoreAttentionTiles(AttentionOp op) {
  int64_t valueDim = getHeadShape(op).valueDim;
  int64_t keys = valueDim > 128 ? 32 : 64;
  TensorCoreAttentionTiles tiles{64, keys};
  if (std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize())
    tiles.keys = (*blockSize)[1];
  else if (hasPlainScores(op) && valueDim <= 128)
    tiles = {128, valueDim <= 64 ? 64 : 32};
  return tiles;
}

LogicalResult mlir::attn::buildAttentionTileKernel(OpBuilder &b, AttentionOp op,
                                                   const Kernel &kernel,
                                                   GPULaunch &launch) {
  if (failed(requireTensorCores(op, *kernel.signature)))
    return failure();
  Emitter e(b, op.getLoc());
  Value numQueries = e.dim(kernel.get(KernelArgRole::Query), 2);
  Value numKeys = e.dim(kernel.get(KernelArgRole::Key), 2);
  KeyBlockPlan keys = getKeyBlockPlan(op, kernel, numQueries, numKeys);
  TensorCoreAttentionTiles tiles = getTensorCoreAttentionTiles(op);
  Value qb = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::x);
  Value h = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::y);
  Value bi = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::z);
  emitAttentionQueryBlock(
      e, op, kernel, keys, tiles.rows, tiles.keys,
      TileLayouts::mmaSync(b.getContext(), kTensorCoreAttentionWarps), bi, h,
      qb);
  FunctionOpInterface function = kernel.func;
  auto func = cast<gpu::GPUFuncOp>(function.getOperation());
  // Every register: left to itself ptxas caps some of these kernels
  // (neighborhood masks) at 128 and spills.
  setKernelBlockSize(func, 32 * kTensorCoreAttentionWarps,
                     /*everyRegister=*/true);
  launch = {GridOrder::QueryBlocksHeadsBatch,
            32 * kTensorCoreAttentionWarps,
            /*workspaceWords=*/0,
            tiles.rows,
            getTileSharedBytes(kernel.func),
            /*alignedRows=*/true};
  return success();
}
