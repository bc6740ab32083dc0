//===- HybridTileProgram.cpp - attn.hybrid as a tile program --------------===//
//
/// \file
/// attn.hybrid (docs/semantics.md, section 7) written as attn_tile ops, for
/// head h of sequence b:
///  1. The linear term's chunk loop (emitLinearTermProgram). Under
///     `weighted_sum` it is attn.linear_attention's causal program, its rows
///     normalized as the op says. Under `shared_denominator` query i reads
///     the keys j <= i - window: the loop runs over the key chunks
///     [k0, k0 + C) with their queries [k0 + window, ...), and hands over
///     the numerators and the denominators z unnormalized.
///  2. For the queries [q0, q0 + C) of each chunk, the flash loop over the
///     key tiles of their windows (emitKeyTiles under
///     sliding_window<left = window - 1>, the mask evaluated on the partial
///     tiles only): S = scale Q K^T, attn_tile.online_softmax, giving the
///     row maximum m, the row sum l and the accumulator acc.
///  3. The two combined:
///     weighted_sum: O = w0 attn_tile.finalize(acc, l) + w1 lin;
///     shared_denominator: with c = max(m, 0) (so exp(-c) <= 1 however
///     negative the scores),
///       O = attn_tile.finalize(w0 e^(m-c) acc + w1 e^-c N,
///                              w0 e^(m-c) l + w1 e^-c z),
///     and the queries before the window's end, which read no key of the
///     linear term, take N = 0 and z = 0.
//
//===----------------------------------------------------------------------===//

#include "HybridTileProgram.h"
#include "AttentionTileProgram.h"
#include "LinearTileProgram.h"
#include "TileBuilder.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// The program of one (sequence, head); see the file comment.
class HybridTileProgram {
public:
  HybridTileProgram(Emitter &e, HybridOp op, const Kernel &kernel,
                    int64_t blockKeys, Value bi, Value h,
                    const TileLayouts &layouts)
      : e(e), b(e.b), loc(e.loc), t{b, loc, kernel, layouts}, op(op),
        kernel(kernel), term(LinearTerm::of(op)), shape(getHeadShape(op)),
        blockKeys(blockKeys), bi(bi), h(h) {
    n = e.dim(kernel.get(KernelArgRole::Query), 2);
    if (std::optional<ArrayRef<float>> mix = op.getWeights()) {
      w0 = (*mix)[0];
      w1 = (*mix)[1];
    }
    keys.mask =
        SlidingWindowAttr::get(op.getContext(), op.getWindow() - 1,
                               /*right=*/0, DiagonalAlignment::bottom_right);
    keys.numQueries = keys.numKeys = n;
  }

  void build();

private:
  Emitter &e;
  OpBuilder &b;
  Location loc;
  TileBuilder t;
  HybridOp op;
  const Kernel &kernel;
  LinearTerm term;
  HeadShape shape;
  int64_t blockKeys;
  Value bi, h, n;
  float w0 = 1, w1 = 1;
  KeyBlockPlan keys;

  bool shared() { return op.getCombine() == HybridCombine::shared_denominator; }
  tile::TileType rowsType() { return t.tileOf({term.chunk}, t.f32()); }
  tile::TileType outType() {
    return t.tileOf({term.chunk, shape.valueDim}, t.f32());
  }
  /// Step 2 for the queries [q0, q0 + C): {m, l, acc}.
  SmallVector<Value> softmaxWindow(Value q0, Value q1);
  /// Steps 2-3 for the queries [q0, min(q0 + C, end)) and the linear
  /// term's rows `linear` and denominators `z` (null for weighted_sum).
  void combine(Value q0, Value end, Value linear, Value z);
};
} // namespace

SmallVector<Value> HybridTileProgram::softmaxWindow(Value q0, Value q1) {
  Value zero = e.idx(0);
  Value kh = e.divui(h, shape.keyGroup), vh = e.divui(h, shape.valueGroup);
  int64_t rows = term.chunk;
  double empty = -std::numeric_limits<double>::infinity();
  Value q = t.load(t.tileOf({rows, shape.keyDim}, t.f32()),
                   kernel.get(KernelArgRole::Query), {bi, h, q0, zero}, q1);
  tile::TileType scoresType = t.tileOf({rows, blockKeys}, t.f32());
  SmallVector<Value> init = {
      tile::SplatOp::create(
          b, loc, rowsType(),
          arith::ConstantOp::create(b, loc, b.getF32FloatAttr(empty))),
      t.zeros(rowsType()), t.zeros(outType())};
  Value qb = e.divui(q0, rows);
  double scale = op.getEffectiveScale();
  auto keyTile = [&](Value k0, Value k1, bool masked,
                     ValueRange state) -> SmallVector<Value> {
    Value k = t.load(t.tileOf({blockKeys, shape.keyDim}, t.f32()),
                     kernel.get(KernelArgRole::Key), {bi, kh, k0, zero}, k1);
    Value v = t.load(t.tileOf({blockKeys, shape.valueDim}, t.f32()),
                     kernel.get(KernelArgRole::Value), {bi, vh, k0, zero}, k1);
    Value dots = tile::MatmulOp::create(b, loc, q, k, t.zeros(scoresType),
                                        /*transpose_lhs=*/false,
                                        /*transpose_rhs=*/true);
    Value scores = t.map(
        scoresType, dots, {-1},
        [&](OpBuilder &nb, ValueRange at, ValueRange x) -> Value {
          Emitter inner(nb, loc);
          FloatMath &f = inner.f;
          Value i = inner.addi(q0, at[0]), j = inner.addi(k0, at[1]);
          Value inside = arith::AndIOp::create(
              nb, loc, inner.cmpi(arith::CmpIPredicate::ult, i, q1),
              inner.cmpi(arith::CmpIPredicate::ult, j, k1));
          if (masked) {
            MaskValues values{bi, h, i, j, n, n, {}, {}};
            inside = arith::AndIOp::create(
                nb, loc, inside, keys.mask.buildIsVisible(nb, loc, values));
          }
          return f.select(inside, f.mul(x[0], f.c(scale)), f.c(empty));
        });
    return emitOnlineSoftmaxStep(t, scores, v, state);
  };
  return emitKeyTiles(e, keys, blockKeys, bi, h, q0, q1, qb, init, keyTile);
}

void HybridTileProgram::combine(Value q0, Value end, Value linear, Value z) {
  Value q1 = arith::MinUIOp::create(b, loc, e.addi(q0, e.idx(term.chunk)), end);
  SmallVector<Value> window = softmaxWindow(q0, q1);
  Value max = window[0], sum = window[1], acc = window[2];
  Value out;
  if (!shared()) {
    out = t.map(outType(), {tile::FinalizeOp::create(b, loc, acc, sum), linear},
                {-1, -1}, [&](OpBuilder &nb, ValueRange, ValueRange x) {
                  FloatMath f{nb, loc};
                  return f.add(f.mul(f.c(w0), x[0]), f.mul(f.c(w1), x[1]));
                });
  } else {
    // The factors of the two terms, w0 e^(m-c) and w1 e^-c, per row.
    auto factor = [&](bool softmax) {
      return t.map(
          rowsType(), max, {-1}, [&](OpBuilder &nb, ValueRange, ValueRange x) {
            FloatMath f{nb, loc};
            Value shift = f.max(x[0], f.c(0));
            return softmax ? f.mul(f.c(w0), f.exp(f.sub(x[0], shift)))
                           : f.mul(f.c(w1), f.exp(f.sub(f.c(0), shift)));
          });
    };
    Value softmaxFactor = factor(true), linearFactor = factor(false);
    auto mix = [&](tile::TileType type, Value softmaxPart, Value linearPart) {
      int64_t broadcast = type.getRank() == 2 ? 0 : -1;
      return t.map(type, {softmaxPart, linearPart, softmaxFactor, linearFactor},
                   {-1, -1, broadcast, broadcast},
                   [&](OpBuilder &nb, ValueRange, ValueRange x) {
                     FloatMath f{nb, loc};
                     return f.add(f.mul(x[2], x[0]), f.mul(x[3], x[1]));
                   });
    };
    out = tile::FinalizeOp::create(b, loc, mix(outType(), acc, linear),
                                   mix(rowsType(), sum, z));
  }
  tile::StoreOp::create(b, loc, out, kernel.get(KernelArgRole::Output),
                        ValueRange{bi, h, q0, e.idx(0)}, q1);
}

void HybridTileProgram::build() {
  if (shared()) {
    // The queries [0, min(window, n)) read no key of the linear term.
    Value prologue =
        arith::MinUIOp::create(b, loc, e.idx(op.getWindow()), n).getResult();
    Value blocks =
        arith::CeilDivUIOp::create(b, loc, prologue, e.idx(term.chunk));
    e.loop(
        e.idx(0), blocks,
        [&](Value block) {
          Value q0 = arith::MulIOp::create(b, loc, block, e.idx(term.chunk));
          combine(q0, prologue, t.zeros(outType()), t.zeros(rowsType()));
        },
        "window_only_queries");
  }
  emitLinearTermProgram(
      e, term, kernel, bi, h,
      [&](Value q0, Value linear, Value z) { combine(q0, n, linear, z); },
      t.layouts);
}

void mlir::attn::emitHybridTileProgram(Emitter &e, HybridOp op,
                                       const Kernel &kernel,
                                       int64_t blockKeys) {
  Value batches = e.dim(kernel.get(KernelArgRole::Query), 0);
  e.loop(e.idx(0), batches, [&](Value bi) {
    e.loop(getHeadShape(op).heads, [&](Value h) {
      emitHybridTileProgram(e, op, kernel, blockKeys, bi, h, TileLayouts{});
    });
  });
}

void mlir::attn::emitHybridTileProgram(Emitter &e, HybridOp op,
                                       const Kernel &kernel, int64_t blockKeys,
                                       Value bi, Value h,
                                       const TileLayouts &layouts) {
  HybridTileProgram(e, op, kernel, blockKeys, bi, h, layouts).build();
}
