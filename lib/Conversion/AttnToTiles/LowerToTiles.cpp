//===- LowerToTiles.cpp - attn spec ops to their tiled algorithms ---------===//
//
/// \file
/// The algorithms the GPU runs, written once against memrefs and scf so
/// that the CPU backend runs the same tiling in CI:
///
/// attn.attention (flash-style online softmax), per (b, h, query block):
///  1. Ask the named mask for the key ranges of the block
///     (`buildKeyRanges`): intervals of keys some query may see, and the
///     interval every query sees. Without a mask everything is full; with a
///     `mask_mod` nothing is.
///  2. For every interval, loop over the key blocks it covers, restricted to
///     the interval, so blocks outside every interval are never visited and
///     no key is visited twice.
///  3. A block inside the full interval runs a tile body without any mask
///     code; any other block runs the masked tile body.
///  4. The tile body updates the running row maximum m, sum l and
///     accumulator: m' = max(m, max_j s_j), c = exp(m - m'),
///     l' = c l + sum_j exp(s_j - m'), acc' = c acc + sum_j exp(s_j - m') v_j.
///     Other normalizations accumulate their weights directly.
///  5. Divide by l (0 for an empty row) and write the log-sum-exp.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"
#include <functional>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTOTILESPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Tile sizes of the kernels.
struct TileSizes {
  int64_t blockQueries, blockKeys;
};

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

/// What the flash loop needs to know about one attention-like computation.
struct FlashSpec {
  int64_t heads, keyGroup, valueGroup, valueDim;
  /// Softmax keeps a running row maximum; other normalizations accumulate
  /// their weights directly.
  bool softmax;
  /// The named mask (may be null) and whether a mask region exists.
  MaskAttrInterface mask;
  bool hasMaskMod;
  Value value, numQueries, numKeys, batches;
  /// s_ij for query i and key j of head h (kh = the key head).
  std::function<Value(Value bi, Value h, Value kh, Value i, Value j)> score;
  /// Whether key j is kept for query i (named mask and mask region).
  std::function<Value(Value bi, Value h, Value i, Value j)> keep;
  /// The weight of a kept score under a non-softmax normalization.
  std::function<Value(Value s)> weight;
  /// Consumes row r (query i) of a finished query block: its maximum, sum
  /// and the accumulator buffer holding the row at [r, :].
  std::function<void(Value bi, Value h, Value i, Value rowMax, Value rowSum,
                     Value acc, Value r)>
      finishRow;
};

/// Emits the flash loops (steps 1-5 of the file comment) over batches,
/// heads and query blocks.
static void emitFlashLoops(Emitter &e, const FlashSpec &spec,
                           TileSizes tiles) {
  OpBuilder &b = e.b;
  FloatMath &f = e.f;
  int64_t bq = tiles.blockQueries, bk = tiles.blockKeys;
  int64_t valueDim = spec.valueDim;
  bool softmax = spec.softmax;
  Value numQueries = spec.numQueries, numKeys = spec.numKeys;
  // Per-row running statistics of one query block, and one row of weights.
  Value rowMax = e.buffer({bq}), rowSum = e.buffer({bq});
  Value acc = e.buffer({bq, valueDim});
  Value weights = e.buffer({bk});
  Value zero = e.idx(0);
  Value numQueryBlocks = arith::CeilDivUIOp::create(b, e.loc, numQueries,
                                                    e.idx(bq));

  e.loop(zero, spec.batches, [&](Value bi) {
    e.loop(spec.heads, [&](Value h) {
      Value kh = e.divui(h, spec.keyGroup), vh = e.divui(h, spec.valueGroup);
      e.loop(zero, numQueryBlocks, [&](Value qb) {
        Value q0 = arith::MulIOp::create(b, e.loc, qb, e.idx(bq));
        Value q1 = arith::MinUIOp::create(b, e.loc, e.addi(q0, e.idx(bq)),
                                          numQueries);
        Value rows = e.subi(q1, q0);

        // 1. Key ranges of this query block.
        KeyRangeQuery rangeQuery{q0, q1, h, numQueries, numKeys};
        KeyRanges ranges;
        if (spec.mask) {
          ranges = spec.mask.buildKeyRanges(b, e.loc, rangeQuery);
        } else {
          ranges.visible.push_back({zero, numKeys});
          ranges.full = {zero, numKeys};
        }
        Value fullLo = arith::MaxSIOp::create(b, e.loc, ranges.full.first, zero);
        Value fullHi =
            arith::MinSIOp::create(b, e.loc, ranges.full.second, numKeys);

        e.loop(zero, rows, [&](Value r) {
          e.store(softmax ? e.negInf() : f.c(0), rowMax, {r});
          e.store(f.c(0), rowSum, {r});
          e.loop(valueDim, [&](Value d) { e.store(f.c(0), acc, {r, d}); });
        });

        // 4. One tile: rows [q0, q1) x keys [k0, k1).
        auto tile = [&](Value k0, Value k1, bool masked) {
          e.loop(zero, rows, [&](Value r) {
            Value i = e.addi(q0, r);
            // Scores (softmax) or weights of the row, and the tile maximum.
            Value tileMax = emitFor(
                b, e.loc, k0, k1, {e.negInf()}, [&](Value j, ValueRange mx) {
                  Value s = spec.score(bi, h, kh, i, j);
                  Value slot = e.subi(j, k0);
                  if (!softmax) {
                    Value p = spec.weight(s);
                    if (masked)
                      p = f.select(spec.keep(bi, h, i, j), p, f.c(0));
                    e.store(p, weights, {slot});
                    return Values{mx[0]};
                  }
                  if (masked)
                    s = f.select(spec.keep(bi, h, i, j), s, e.negInf());
                  e.store(s, weights, {slot});
                  return Values{f.max(mx[0], s)};
                })[0];

            Value correction = f.c(1), newMax;
            if (softmax) {
              Value oldMax = e.load(rowMax, {r});
              newMax = f.max(oldMax, tileMax);
              Value wasEmpty =
                  f.cmp(arith::CmpFPredicate::OEQ, oldMax, e.negInf());
              correction = f.select(
                  wasEmpty, f.c(0),
                  f.exp(f.select(wasEmpty, f.c(0), f.sub(oldMax, newMax))));
              e.store(newMax, rowMax, {r});
            }
            Value tileSum = emitFor(
                b, e.loc, k0, k1, {f.c(0)}, [&](Value j, ValueRange sum) {
                  Value slot = e.subi(j, k0);
                  Value p = e.load(weights, {slot});
                  if (softmax) {
                    // exp(s - m'), 0 for a masked (-inf) score.
                    Value isNegInf =
                        f.cmp(arith::CmpFPredicate::OEQ, p, e.negInf());
                    p = f.select(isNegInf, f.c(0),
                                 f.exp(f.select(isNegInf, f.c(0),
                                                f.sub(p, newMax))));
                    e.store(p, weights, {slot});
                  }
                  return Values{f.add(sum[0], p)};
                })[0];
            e.store(f.add(f.mul(correction, e.load(rowSum, {r})), tileSum),
                    rowSum, {r});
            e.loop(valueDim, [&](Value d) {
              Value pv = emitFor(b, e.loc, k0, k1, {f.c(0)},
                                 [&](Value j, ValueRange sum) {
                                   Value p = e.load(weights, {e.subi(j, k0)});
                                   Value v = e.load(spec.value, {bi, vh, j, d});
                                   return Values{f.add(sum[0], f.mul(p, v))};
                                 })[0];
              e.store(f.add(f.mul(correction, e.load(acc, {r, d})), pv), acc,
                      {r, d});
            });
          });
        };

        // 2. Visit the key blocks of every interval, restricted to it.
        for (auto [lo, hi] : ranges.visible) {
          Value begin = arith::MaxSIOp::create(b, e.loc, lo, zero);
          Value end = arith::MaxSIOp::create(
              b, e.loc, arith::MinSIOp::create(b, e.loc, hi, numKeys), begin);
          Value firstBlock = e.divui(begin, bk);
          Value lastBlock = arith::CeilDivUIOp::create(b, e.loc, end, e.idx(bk));
          e.loop(firstBlock, lastBlock, [&](Value kb) {
            Value blockStart = arith::MulIOp::create(b, e.loc, kb, e.idx(bk));
            Value k0 = arith::MaxSIOp::create(b, e.loc, blockStart, begin);
            Value k1 = arith::MinSIOp::create(
                b, e.loc, e.addi(blockStart, e.idx(bk)), end);
            // 3. Blocks every query sees run without mask code. Without a
            // mask every block is such a block; with a mask_mod none is.
            if (!spec.mask && !spec.hasMaskMod) {
              tile(k0, k1, /*masked=*/false);
              return;
            }
            if (spec.hasMaskMod) {
              tile(k0, k1, /*masked=*/true);
              return;
            }
            Value isFull = arith::AndIOp::create(
                b, e.loc, e.cmpi(arith::CmpIPredicate::sge, k0, fullLo),
                e.cmpi(arith::CmpIPredicate::sle, k1, fullHi));
            emitIf(
                b, e.loc, isFull,
                [&] {
                  tile(k0, k1, /*masked=*/false);
                  return Values{};
                },
                [&] {
                  tile(k0, k1, /*masked=*/true);
                  return Values{};
                });
          });
        }

        // 5. Hand every finished row to the caller.
        e.loop(zero, rows, [&](Value r) {
          spec.finishRow(bi, h, e.addi(q0, r), rowMax, rowSum, acc, r);
        });
      });
    });
  });
  for (Value buffer : {rowMax, rowSum, acc, weights})
    e.free(buffer);
}

static void buildAttentionTiled(OpBuilder &b, AttentionOp op,
                                const Kernel &kernel, TileSizes tiles) {
  Emitter e(b, op.getLoc());
  FloatMath &f = e.f;
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value output = kernel.get(KernelArgRole::Output);
  Value lse = kernel.get(KernelArgRole::LogSumExp);
  Values captures = kernel.getCaptures();
  Normalization normalization = op.getNormalization();
  int64_t heads = op.getQuery().getType().getDimSize(1);

  FlashSpec spec;
  spec.heads = heads;
  spec.keyGroup = heads / op.getKey().getType().getDimSize(1);
  spec.valueGroup = heads / op.getValue().getType().getDimSize(1);
  spec.valueDim = op.getValue().getType().getDimSize(3);
  spec.softmax = normalization == Normalization::softmax;
  spec.mask = op.getMaskAttr();
  spec.hasMaskMod = !op.getMaskMod().empty();
  spec.value = kernel.get(KernelArgRole::Value);
  spec.batches = e.dim(query, 0);
  spec.numQueries = e.dim(query, 2);
  spec.numKeys = e.dim(key, 2);
  spec.score = [&](Value bi, Value h, Value kh, Value i, Value j) {
    return emitAttentionScore(e, op, kernel, bi, h, kh, i, j);
  };
  spec.keep = [&](Value bi, Value h, Value i, Value j) {
    return emitAttentionKeep(e, op, kernel, bi, h, i, j, spec.numQueries,
                             spec.numKeys, /*withNamedMask=*/true);
  };
  spec.weight = [&](Value s) {
    return attentionWeight(e, op, s, Value(), captures);
  };
  // 5. Normalize and write the row.
  bool dividesBySum = spec.softmax || normalization == Normalization::l1;
  spec.finishRow = [&](Value bi, Value h, Value i, Value rowMax, Value rowSum,
                       Value acc, Value r) {
    Value sum = e.load(rowSum, {r});
    e.loop(spec.valueDim, [&](Value d) {
      Value o = e.load(acc, {r, d});
      e.store(dividesBySum ? e.divOrZero(o, sum) : o, output, {bi, h, i, d});
    });
    if (!lse)
      return;
    Value positive = f.cmp(arith::CmpFPredicate::OGT, sum, f.c(0));
    Value logSum = f.log(f.select(positive, sum, f.c(1)));
    e.store(f.select(positive, f.add(e.load(rowMax, {r}), logSum), e.negInf()),
            lse, {bi, h, i});
  };
  emitFlashLoops(e, spec, tiles);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct AttnLowerToTilesPass
    : public attn::impl::AttnLowerToTilesPassBase<AttnLowerToTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockQueries <= 0 || blockKeys <= 0) {
      module.emitError() << "block-queries and block-keys must be positive";
      return signalPassFailure();
    }
    TileSizes tiles{blockQueries, blockKeys};
    FailureOr<Type> storage = parseFloatStorage(module, floatStorage);
    if (failed(storage) ||
        failed(lowerSpecOps(
            module, "tiled", *storage,
            [&](OpBuilder &builder, Operation *op,
                const Kernel &kernel) -> LogicalResult {
              return llvm::TypeSwitch<Operation *, LogicalResult>(op)
                  .Case([&](AttentionOp spec) {
                    buildAttentionTiled(builder, spec, kernel, tiles);
                    return success();
                  })
                  .Default([](Operation *spec) {
                    return spec->emitOpError()
                           << "has no tiled lowering yet";
                  });
            })))
      signalPassFailure();
  }
};

} // namespace
