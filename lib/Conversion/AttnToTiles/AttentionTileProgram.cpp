//===- AttentionTileProgram.cpp - attention as a tile program -------------===//
//
/// \file
/// The flash algorithm of attn.attention written as attn_tile ops. For each
/// query block [q0, q1) of head h of sequence b:
///  1. Q [Bq, Dk] (zero past the queries' end); the running row maximum m
///     (-inf; softmax only), row sum l (0) and accumulator acc (0).
///  2. For each key tile [k0, k1) the key-tile schedule visits
///     (emitKeyTiles: named masks and block lists skip what they can):
///     K, V [Bk, D] (zero past k1); the scores S = score_mod(scale Q K^T)
///     by each element's (b, h, i, j), the mask applied where the tile is
///     partial, -inf (softmax) or weight 0 outside [q0, q1) x [k0, k1);
///     then softmax: attn_tile.online_softmax gives P, m', l' and the
///     correction c, and acc' = diag(c) acc + P V; the other
///     normalizations: P = weight(S), acc' = acc + P V, and for l1
///     l' = l + rowsum(P).
///  3. O = attn_tile.finalize(acc, l) for softmax and l1 (acc for sigmoid
///     and relu), and the log-sum-exp attn_tile.log_sum_exp(m, l) when the
///     op returns it.
/// The CPU strategy runs it; the GPU's kernels for attn.attention are not
/// built from it yet (docs/design/tile-level.md).
//
//===----------------------------------------------------------------------===//

#include "AttentionTileProgram.h"
#include "TileBuilder.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;

SmallVector<Value> mlir::attn::emitOnlineSoftmaxStep(TileBuilder &t,
                                                     Value scores, Value values,
                                                     ValueRange state) {
  Location loc = t.loc;
  Value acc = state[2];
  auto step =
      tile::OnlineSoftmaxOp::create(t.b, loc, scores, state[0], state[1]);
  acc = t.map(cast<tile::TileType>(acc.getType()), {acc, step.getCorrection()},
              {-1, 0}, [&](OpBuilder &nb, ValueRange, ValueRange x) -> Value {
                return arith::MulFOp::create(nb, loc, x[0], x[1]);
              });
  acc = tile::MatmulOp::create(t.b, loc, step.getProbs(), values, acc,
                               /*transpose_lhs=*/false,
                               /*transpose_rhs=*/false);
  return {step.getNewMax(), step.getNewSum(), acc};
}

void mlir::attn::emitAttentionTileProgram(Emitter &e, AttentionOp op,
                                          const Kernel &kernel,
                                          const KeyBlockPlan &keys,
                                          int64_t blockQueries,
                                          int64_t blockKeys) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  TileBuilder t{b, loc, kernel, TileLayouts{}};
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
  tile::TileType rowsType = t.tileOf({bq}, f32);
  tile::TileType scoresType = t.tileOf({bq, bk}, f32);
  tile::TileType outType = t.tileOf({bq, shape.valueDim}, f32);
  Value zero = e.idx(0);
  Value numQueryBlocks =
      arith::CeilDivUIOp::create(b, loc, keys.numQueries, e.idx(bq));

  auto queryBlock = [&](Value bi, Value h, Value qb) {
    Value q0 = arith::MulIOp::create(b, loc, qb, e.idx(bq));
    Value q1 =
        arith::MinUIOp::create(b, loc, e.addi(q0, e.idx(bq)), keys.numQueries);
    Value kh = e.divui(h, shape.keyGroup);
    Value vh = e.divui(h, shape.valueGroup);
    // 1.
    Value q =
        t.load(t.tileOf({bq, shape.keyDim}, f32), query, {bi, h, q0, zero}, q1);
    Value initialMax = tile::SplatOp::create(
        b, loc, rowsType,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(empty)));
    SmallVector<Value> init = {initialMax, t.zeros(rowsType), t.zeros(outType)};
    // 2.
    auto keyTile = [&](Value k0, Value k1, bool masked,
                       ValueRange state) -> SmallVector<Value> {
      Value k = t.load(t.tileOf({bk, shape.keyDim}, f32), key,
                       {bi, kh, k0, zero}, k1);
      Value v = t.load(t.tileOf({bk, shape.valueDim}, f32), value,
                       {bi, vh, k0, zero}, k1);
      Value dots = tile::MatmulOp::create(b, loc, q, k, t.zeros(scoresType),
                                          /*transpose_lhs=*/false,
                                          /*transpose_rhs=*/true);
      Value scores =
          t.map(scoresType, dots, {-1},
                [&](OpBuilder &nb, ValueRange at, ValueRange x) -> Value {
                  Emitter inner(nb, loc);
                  Value i = inner.addi(q0, at[0]), j = inner.addi(k0, at[1]);
                  Value inside = arith::AndIOp::create(
                      nb, loc, inner.cmpi(arith::CmpIPredicate::ult, i, q1),
                      inner.cmpi(arith::CmpIPredicate::ult, j, k1));
                  Value none = inner.f.c(empty);
                  // Only inside the tile: a score_mod or mask may read captured
                  // tensors at (i, j).
                  return emitIf(
                      nb, loc, inside,
                      [&] {
                        Value s =
                            emitScoreMod(inner, op, kernel, x[0], bi, h, i, j);
                        if (!softmax)
                          s = attentionWeight(inner, op, s, Value(), kernel);
                        if (masked)
                          s = inner.f.select(
                              emitAttentionKeep(inner, op, kernel, bi, h, i, j,
                                                keys.numQueries, keys.numKeys,
                                                /*withNamedMask=*/true),
                              s, none);
                        return Values{s};
                      },
                      [&] { return Values{none}; })[0];
                });
      if (softmax)
        return emitOnlineSoftmaxStep(t, scores, v, state);
      Value max = state[0], sum = state[1], acc = state[2];
      Value probs = scores;
      if (dividesBySum) {
        Value rowSums = tile::ReduceOp::create(b, loc, rowsType,
                                               tile::ReductionKind::add, probs);
        sum = t.map(rowsType, {sum, rowSums}, {-1, -1},
                    [&](OpBuilder &nb, ValueRange, ValueRange x) -> Value {
                      return arith::AddFOp::create(nb, loc, x[0], x[1]);
                    });
      }
      acc = tile::MatmulOp::create(b, loc, probs, v, acc,
                                   /*transpose_lhs=*/false,
                                   /*transpose_rhs=*/false);
      return {max, sum, acc};
    };
    SmallVector<Value> state =
        emitKeyTiles(e, keys, bk, bi, h, q0, q1, qb, init, keyTile);
    // 3.
    Value out =
        dividesBySum
            ? Value(tile::FinalizeOp::create(b, loc, state[2], state[1]))
            : state[2];
    tile::StoreOp::create(b, loc, out, output, ValueRange{bi, h, q0, zero}, q1);
    if (lse && softmax)
      tile::StoreOp::create(
          b, loc, tile::LogSumExpOp::create(b, loc, state[0], state[1]), lse,
          ValueRange{bi, h, q0}, q1);
  };

  e.loop(zero, e.dim(query, 0), [&](Value bi) {
    e.loop(shape.heads, [&](Value h) {
      e.loop(
          zero, numQueryBlocks, [&](Value qb) { queryBlock(bi, h, qb); },
          "query_blocks");
    });
  });
}
