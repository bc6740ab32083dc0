//===- DecomposeTileSoftmax.cpp - softmax tile ops as maps ----------------===//
//
/// \file
/// The online softmax, its finalization and the log-sum-exp as row
/// reductions and elementwise maps, as IREE decomposes its
/// online_attention: each op's definition (docs/reference/TileOps.md)
/// written once, in the layout of its operands, so that a strategy needs
/// only `attn_tile.reduce` and `attn_tile.map` to run it (on the mma.sync
/// strategy a row's reduction is a thread's own elements, then two
/// shuffles within its quad).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/DecomposeTileSoftmax.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

namespace {

/// An attn_tile.map of `inputs` to a tile of `type`; `broadcast` as the op
/// says (empty: every input has the result's shape).
static Value mapTiles(PatternRewriter &rewriter, Location loc, TileType type,
                      ValueRange inputs, ArrayRef<int64_t> broadcast,
                      function_ref<Value(Emitter &, ValueRange)> body) {
  return MapOp::create(
      rewriter, loc, type, inputs, broadcast,
      [&](OpBuilder &b, Location l, ValueRange, ValueRange elements) {
        Emitter e(b, l);
        return body(e, elements);
      });
}

/// exp(x - z) as exp2((x - z) log2(e)): on the GPU one ex2.approx after a
/// subtraction and a multiplication (math.exp becomes libdevice's accurate
/// expf, four times the instructions); the CPU computes the same
/// expression.
static Value shiftedExp(Emitter &e, Value x, Value z) {
  return math::Exp2Op::create(e.b, e.loc,
                              e.f.mul(e.f.sub(x, z), e.f.c(M_LOG2E)));
}

/// With S = scale X: m' = max(m, scale rowmax(X)) (scale > 0); with z = m'
/// where finite, 0 where m' = -inf (a row that has kept no key yet, where
/// s - m' would be -inf - -inf): c = exp(m - z), P = exp(S - z) computed as
/// exp2(X scale log2(e) - z log2(e)), one multiply-add per element, and
/// l' = c l + rowsum(P). exp(-inf) = 0 gives the op's exact zeros: c where
/// m = -inf, P where X = -inf.
struct OnlineSoftmaxDecomposition : OpRewritePattern<OnlineSoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(OnlineSoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType rows = op.getMax().getType(), scores = op.getScores().getType();
    double scale = op.getScale().convertToDouble();
    Value tileMax = ReduceOp::create(rewriter, loc, rows, ReductionKind::max,
                                     op.getScores());
    Value newMax = mapTiles(rewriter, loc, rows, {op.getMax(), tileMax}, {},
                            [&](Emitter &e, ValueRange x) {
                              Value scaled = scale == 1.0
                                                 ? x[1]
                                                 : e.f.mul(e.f.c(scale), x[1]);
                              return e.f.max(x[0], scaled);
                            });
    Value shift = mapTiles(
        rewriter, loc, rows, {newMax}, {}, [](Emitter &e, ValueRange x) {
          FloatMath &f = e.f;
          Value none = f.cmp(arith::CmpFPredicate::OEQ, x[0], e.negInf());
          return f.select(none, f.c(0), x[0]);
        });
    Value correction = mapTiles(
        rewriter, loc, rows, {op.getMax(), shift}, {},
        [](Emitter &e, ValueRange x) { return shiftedExp(e, x[0], x[1]); });
    // -z log2(e) once per row.
    Value negatedShift = mapTiles(rewriter, loc, rows, {shift}, {},
                                  [](Emitter &e, ValueRange x) {
                                    return e.f.mul(x[0], e.f.c(-M_LOG2E));
                                  });
    Value probs =
        mapTiles(rewriter, loc, scores, {op.getScores(), negatedShift}, {-1, 0},
                 [&](Emitter &e, ValueRange x) -> Value {
                   return math::Exp2Op::create(
                       e.b, e.loc,
                       math::FmaOp::create(e.b, e.loc, x[0],
                                           e.f.c(scale * M_LOG2E), x[1]));
                 });
    Value tileSum =
        ReduceOp::create(rewriter, loc, rows, ReductionKind::add, probs);
    Value newSum =
        mapTiles(rewriter, loc, rows, {correction, op.getSum(), tileSum}, {},
                 [](Emitter &e, ValueRange x) {
                   return e.f.add(e.f.mul(x[0], x[1]), x[2]);
                 });
    rewriter.replaceOp(op, {probs, newMax, newSum, correction});
    return success();
  }
};

/// O = acc / l by rows, 0 where l = 0 (Emitter::divOrZero).
struct FinalizeDecomposition : OpRewritePattern<FinalizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FinalizeOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, mapTiles(rewriter, op.getLoc(), op.getType(),
                                    {op.getAccumulator(), op.getSum()}, {-1, 0},
                                    [](Emitter &e, ValueRange x) {
                                      return e.divOrZero(x[0], x[1]);
                                    }));
    return success();
  }
};

/// m + log(l), -inf where l = 0 (emitLogSumExp).
struct LogSumExpDecomposition : OpRewritePattern<LogSumExpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogSumExpOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, mapTiles(rewriter, op.getLoc(), op.getType(),
                                    {op.getMax(), op.getSum()}, {},
                                    [](Emitter &e, ValueRange x) {
                                      return emitLogSumExp(e, x[0], x[1]);
                                    }));
    return success();
  }
};

} // namespace

void mlir::attn::populateDecomposeTileSoftmaxPatterns(
    RewritePatternSet &patterns) {
  patterns.add<OnlineSoftmaxDecomposition, FinalizeDecomposition,
               LogSumExpDecomposition>(patterns.getContext());
}

LogicalResult mlir::attn::decomposeTileSoftmax(Operation *root) {
  RewritePatternSet patterns(root->getContext());
  populateDecomposeTileSoftmaxPatterns(patterns);
  // One walk: only these ops are rewritten, nothing else is folded, moved
  // or erased.
  walkAndApplyPatterns(root, std::move(patterns));
  return success();
}
