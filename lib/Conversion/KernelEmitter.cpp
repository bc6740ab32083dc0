//===- KernelEmitter.cpp - Pieces shared by every kernel body -------------===//
//
/// \file
/// Attention weights, feature maps, gates and the linear-attention output
/// normalization, emitted as scf/arith/math on memrefs. The reference and
/// the tiled kernels both use them, so the two compute each piece the same
/// way and differ only in the algorithm.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelEmitter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

HeadShape mlir::attn::getHeadShape(Operation *specOp) {
  auto type = [&](unsigned operand) {
    return cast<RankedTensorType>(specOp->getOperand(operand).getType());
  };
  // Every spec op starts with query, key, value.
  RankedTensorType query = type(0), key = type(1), value = type(2);
  int64_t heads = query.getDimSize(1);
  return {heads, heads / key.getDimSize(1), heads / value.getDimSize(1),
          query.getDimSize(3), value.getDimSize(3)};
}

Value mlir::attn::emitAttentionScore(Emitter &e, AttentionOp op,
                                     const Kernel &kernel, Value bi, Value h,
                                     Value kh, Value i, Value j) {
  FloatMath &f = e.f;
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  int64_t keyDim = op.getQuery().getType().getDimSize(3);
  Value dot = e.sum(keyDim, [&](Value d) {
    return f.mul(e.load(query, {bi, h, i, d}), e.load(key, {bi, kh, j, d}));
  });
  return emitScoreMod(e, op, kernel, dot, bi, h, i, j);
}

Value mlir::attn::emitScoreMod(Emitter &e, AttentionOp op, const Kernel &kernel,
                               Value dot, Value bi, Value h, Value i, Value j) {
  Value s = e.f.mul(e.f.c(op.getEffectiveScale()), dot);
  if (op.getScoreMod().empty())
    return s;
  Values args = {s, bi, h, i, j};
  return inlineRegion(e.b, op.getScoreMod(), args, kernel);
}

Value mlir::attn::emitAttentionKeep(Emitter &e, AttentionOp op,
                                    const Kernel &kernel, Value bi, Value h,
                                    Value i, Value j, Value numQueries,
                                    Value numKeys, bool withNamedMask) {
  Value bit = arith::ConstantIntOp::create(e.b, e.loc, /*value=*/1,
                                           /*width=*/1);
  MaskAttrInterface mask = op.getMaskAttr();
  if (mask && withNamedMask) {
    MaskValues values{bi,
                      h,
                      i,
                      j,
                      numQueries,
                      numKeys,
                      kernel.get(KernelArgRole::QuerySegmentIds),
                      kernel.get(KernelArgRole::KeySegmentIds)};
    bit = mask.buildIsVisible(e.b, e.loc, values);
  }
  if (!op.getMaskMod().empty()) {
    Values args = {bi, h, i, j};
    bit = arith::AndIOp::create(
        e.b, e.loc, bit, inlineRegion(e.b, op.getMaskMod(), args, kernel));
  }
  return bit;
}

/// Whether `block` is among the first counts[b, h, qb] entries of
/// indices[b, h, qb, :].
static Value emitListed(Emitter &e, Value counts, Value indices, Value bi,
                        Value h, Value qb, Value block) {
  OpBuilder &b = e.b;
  Value count = arith::IndexCastOp::create(
      b, e.loc, b.getIndexType(),
      memref::LoadOp::create(b, e.loc, counts, ValueRange{bi, h, qb}));
  Value none = arith::ConstantIntOp::create(b, e.loc, /*value=*/0,
                                            /*width=*/1);
  return emitFor(b, e.loc, e.idx(0), count, {none},
                 [&](Value entry, ValueRange found) {
                   Value listed = arith::IndexCastOp::create(
                       b, e.loc, b.getIndexType(),
                       memref::LoadOp::create(b, e.loc, indices,
                                              ValueRange{bi, h, qb, entry}));
                   Value hit = e.cmpi(arith::CmpIPredicate::eq, listed, block);
                   return Values{arith::OrIOp::create(b, e.loc, found[0], hit)};
                 })[0];
}

Value mlir::attn::emitBlockMaskKeep(Emitter &e, AttentionOp op,
                                    const Kernel &kernel, Value bi, Value h,
                                    Value i, Value j, Value maskKeep) {
  ArrayRef<int64_t> blockSize = *op.getBlockSize();
  Value qb = e.divui(i, blockSize[0]), kb = e.divui(j, blockSize[1]);
  Value full =
      emitListed(e, kernel.get(KernelArgRole::FullKvNumBlocks),
                 kernel.get(KernelArgRole::FullKvIndices), bi, h, qb, kb);
  Value partial =
      emitListed(e, kernel.get(KernelArgRole::KvNumBlocks),
                 kernel.get(KernelArgRole::KvIndices), bi, h, qb, kb);
  return arith::OrIOp::create(
      e.b, e.loc, full, arith::AndIOp::create(e.b, e.loc, partial, maskKeep));
}

Value mlir::attn::emitLogSumExp(Emitter &e, Value rowMax, Value rowSum) {
  FloatMath &f = e.f;
  // An ordered compare: a NaN sum is not empty, so its NaN reaches the lse.
  Value empty = f.cmp(arith::CmpFPredicate::OEQ, rowSum, f.c(0));
  Value logSum = f.log(f.select(empty, f.c(1), rowSum));
  return f.select(empty, e.negInf(), f.add(rowMax, logSum));
}

/// The weight p of a kept score s (before the row normalization).
Value mlir::attn::attentionWeight(Emitter &e, AttentionOp op, Value score,
                                  Value rowMax, const Kernel &kernel) {
  FloatMath &f = e.f;
  switch (op.getNormalization()) {
  case Normalization::softmax: {
    // exp(s - m), with s = -inf (a score_mod that masks) giving 0.
    Value isNegInf = f.cmp(arith::CmpFPredicate::OEQ, score, e.negInf());
    Value shifted = f.select(isNegInf, f.c(0), f.sub(score, rowMax));
    return f.select(isNegInf, f.c(0), f.exp(shifted));
  }
  case Normalization::sigmoid: {
    float bias = op.getSigmoidBiasAttr().getValueAsDouble();
    Value x = f.add(score, f.c(bias));
    return f.div(f.c(1), f.add(f.c(1), f.exp(f.sub(f.c(0), x))));
  }
  case Normalization::relu:
    return f.max(score, f.c(0));
  case Normalization::l1:
    Values args = {score};
    return inlineRegion(e.b, op.getL1Map(), args, kernel);
  }
  llvm_unreachable("unknown normalization");
}

//===----------------------------------------------------------------------===//
// Feature maps, shared by attn.linear_attention and attn.hybrid
//===----------------------------------------------------------------------===//

LinearSpec mlir::attn::getLinearSpec(Operation *op) {
  return llvm::TypeSwitch<Operation *, LinearSpec>(op)
      .Case<LinearAttentionOp, HybridOp>([](auto op) {
        LinearSpec spec;
        spec.featureMap = op.getFeatureMap();
        spec.featureMapRegion = op.getFeatureMapRegion().empty()
                                    ? nullptr
                                    : &op.getFeatureMapRegion();
        spec.gate = op.getGate();
        spec.keyDim = op.getQuery().getType().getDimSize(3);
        spec.featureDim = spec.keyDim;
        if (!spec.featureMapRegion && spec.featureMap == FeatureMap::taylor2)
          spec.featureDim = 1 + spec.keyDim + spec.keyDim * spec.keyDim;
        if (!spec.featureMapRegion && spec.featureMap == FeatureMap::hedgehog)
          spec.featureDim =
              2 * cast<RankedTensorType>(op.getFeatureWeights().getType())
                      .getDimSize(3);
        return spec;
      });
}

/// Writes phi(x) * scale into `features` [F], where x = source[b, head, t, :]
/// and `queryHead` selects the hedgehog weights (`side` 0 for queries, 1 for
/// keys). `scratch` holds at least max(Dk, M) floats.
void mlir::attn::emitFeatures(Emitter &e, const LinearSpec &spec, Value source,
                              Value bi, Value head, Value t, Value queryHead,
                              int64_t side, Value weights, Value scale,
                              Value features, Value scratch) {
  FloatMath &f = e.f;
  FeatureMap map = spec.featureMap.value_or(FeatureMap::identity);
  auto x = [&](Value d) { return e.load(source, {bi, head, t, d}); };
  if (spec.featureMapRegion) {
    e.loop(spec.keyDim, [&](Value d) {
      Values args = {x(d)};
      e.store(f.mul(scale, inlineRegion(e.b, *spec.featureMapRegion, args,
                                        ValueRange{})),
              features, {d});
    });
    return;
  }
  switch (map) {
  case FeatureMap::identity:
    e.loop(spec.keyDim,
           [&](Value d) { e.store(f.mul(scale, x(d)), features, {d}); });
    return;
  case FeatureMap::relu:
    e.loop(spec.keyDim, [&](Value d) {
      e.store(f.mul(scale, f.max(x(d), f.c(0))), features, {d});
    });
    return;
  case FeatureMap::elu_plus_one:
    e.loop(spec.keyDim, [&](Value d) {
      Value v = x(d);
      Value positive = f.cmp(arith::CmpFPredicate::OGT, v, f.c(0));
      Value phi =
          f.select(positive, f.add(v, f.c(1)),
                   f.exp(arith::MinimumFOp::create(e.b, e.loc, v, f.c(0))));
      e.store(f.mul(scale, phi), features, {d});
    });
    return;
  case FeatureMap::taylor2: {
    int64_t dk = spec.keyDim;
    e.store(scale, features, {e.idx(0)});
    e.loop(dk, [&](Value d) {
      e.store(f.mul(scale, x(d)), features, {e.addi(d, e.idx(1))});
    });
    Value halfRoot = f.c(1.0 / std::sqrt(2.0));
    e.loop(dk, [&](Value d1) {
      Value x1 = x(d1);
      e.loop(dk, [&](Value d2) {
        Value term = f.mul(scale, f.mul(halfRoot, f.mul(x1, x(d2))));
        Value position = e.addi(
            e.idx(1 + dk),
            e.addi(arith::MulIOp::create(e.b, e.loc, d1, e.idx(dk)), d2));
        e.store(term, features, {position});
      });
    });
    return;
  }
  case FeatureMap::hedgehog: {
    int64_t width = spec.featureDim / 2;
    // y = x W, then [softmax(y), softmax(-y)].
    e.loop(width, [&](Value m) {
      Value y = e.sum(spec.keyDim, [&](Value d) {
        return f.mul(x(d), e.load(weights, {e.idx(side), queryHead, d, m}));
      });
      e.store(y, scratch, {m});
    });
    for (int sign : {1, -1}) {
      Value offset = e.idx(sign == 1 ? 0 : width);
      Value signValue = f.c(sign);
      Value maxValue =
          emitFor(e.b, e.loc, e.idx(0), e.idx(width), {e.negInf()},
                  [&](Value m, ValueRange acc) {
                    return Values{
                        f.max(acc[0], f.mul(signValue, e.load(scratch, {m})))};
                  })[0];
      Value total = e.sum(width, [&](Value m) {
        Value p =
            f.exp(f.sub(f.mul(signValue, e.load(scratch, {m})), maxValue));
        e.store(p, features, {e.addi(offset, m)});
        return p;
      });
      e.loop(width, [&](Value m) {
        Value position = e.addi(offset, m);
        e.store(f.mul(scale, f.div(e.load(features, {position}), total)),
                features, {position});
      });
    }
    return;
  }
  }
}

/// Normalizes the numerator `numerator` [Dv (+1)] into output[b, h, t, :].
void mlir::attn::emitLinearOutput(Emitter &e, LinearNormalization normalization,
                                  std::optional<float> normEps,
                                  int64_t valueDim, Value numerator,
                                  Value output, ValueRange index,
                                  Value weight) {
  FloatMath &f = e.f;
  auto store = [&](Value d, Value o) {
    Values at(index.begin(), index.end());
    at.push_back(d);
    Value scaled = weight ? f.mul(weight, o) : o;
    if (weight)
      scaled = f.add(e.load(output, at), scaled);
    e.store(scaled, output, at);
  };
  switch (normalization) {
  case LinearNormalization::none:
    e.loop(valueDim, [&](Value d) { store(d, e.load(numerator, {d})); });
    return;
  case LinearNormalization::denominator: {
    Value z = e.load(numerator, {e.idx(valueDim)});
    e.loop(valueDim,
           [&](Value d) { store(d, e.divOrZero(e.load(numerator, {d}), z)); });
    return;
  }
  case LinearNormalization::rms_norm: {
    Value squares = e.sum(valueDim, [&](Value d) {
      Value n = e.load(numerator, {d});
      return f.mul(n, n);
    });
    Value meanSquare = f.div(squares, f.c(valueDim));
    Value rms = math::SqrtOp::create(
        e.b, e.loc, f.add(meanSquare, f.c(normEps.value_or(1e-6f))));
    e.loop(valueDim,
           [&](Value d) { store(d, f.div(e.load(numerator, {d}), rms)); });
    return;
  }
  }
}

/// The log gate of token t for head h (scalar kinds), or of feature `feature`
/// (per_key).
Value mlir::attn::logGate(Emitter &e, GateKind gate, Value gates, Value bi,
                          Value h, Value t, Value feature) {
  switch (gate) {
  case GateKind::none:
    return e.f.c(0);
  case GateKind::per_head:
    return e.load(gates, {h});
  case GateKind::per_token:
    return e.load(gates, {bi, h, t});
  case GateKind::per_key:
    return e.load(gates, {bi, h, t, feature});
  }
  llvm_unreachable("unknown gate kind");
}

//===----------------------------------------------------------------------===//
// Key tiles of a query block
//===----------------------------------------------------------------------===//

KeyBlockPlan mlir::attn::getKeyBlockPlan(AttentionOp op, const Kernel &kernel,
                                         Value numQueries, Value numKeys) {
  KeyBlockPlan plan;
  plan.mask = op.getMaskAttr();
  plan.hasMaskMod = !op.getMaskMod().empty();
  plan.numQueries = numQueries;
  plan.numKeys = numKeys;
  if (op.getBlockSize()) {
    plan.blockCounts = kernel.get(KernelArgRole::KvNumBlocks);
    plan.blockIndices = kernel.get(KernelArgRole::KvIndices);
    plan.fullCounts = kernel.get(KernelArgRole::FullKvNumBlocks);
    plan.fullIndices = kernel.get(KernelArgRole::FullKvIndices);
  }
  return plan;
}

SmallVector<Value> mlir::attn::emitKeyTiles(
    Emitter &e, const KeyBlockPlan &plan, int64_t blockKeys, Value bi, Value h,
    Value q0, Value q1, Value listBlock, ValueRange init, KeyTileBody body,
    KeyTileFetch fetch, bool fetchAhead) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Value zero = e.idx(0), numKeys = plan.numKeys;
  Values state(init.begin(), init.end());
  size_t numState = state.size();
  // One loop over tiles: `tileAt(iv)` gives the tile [k0, k1) of iteration
  // iv. With a fetch and `consecutive` tiles (whose double buffer a GPU
  // strategy alternates by tile index), the loop carries the fetched values
  // after the state: each iteration fetches the next one's before it runs
  // the body on its own; past the loop's last tile, tileAt's k1 <= k0 reads
  // nothing. Otherwise each iteration fetches its own tile first.
  auto visit =
      [&](Value lo, Value hi,
          function_ref<std::pair<Value, Value>(Value)> tileAt, bool consecutive,
          function_ref<Values(Value, Value, ValueRange)> run, StringRef name) {
        bool ahead = fetch && fetchAhead && consecutive;
        Values carried = state;
        if (ahead) {
          auto [k0, k1] = tileAt(lo);
          llvm::append_range(carried, fetch(k0, k1));
        }
        Values result = emitFor(
            b, loc, lo, hi, carried,
            [&](Value iv, ValueRange loopCarried) -> Values {
              Values next;
              if (ahead) {
                auto [k0, k1] = tileAt(e.addi(iv, e.idx(1)));
                next = fetch(k0, k1);
              }
              auto [k0, k1] = tileAt(iv);
              Values own(loopCarried.begin(), loopCarried.end());
              if (fetch && !ahead)
                llvm::append_range(own, fetch(k0, k1));
              Values yielded = run(k0, k1, own);
              llvm::append_range(yielded, next);
              return yielded;
            },
            name);
        state.assign(result.begin(), result.begin() + numState);
      };

  // With a run-time block mask, visit exactly the listed key blocks:
  // partial ones with the mask, full ones not.
  if (plan.blockCounts) {
    auto toIndex = [&](Value v) {
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    };
    auto visitList = [&](Value counts, Value indices, bool masked) {
      Value count = toIndex(e.loadInt(counts, {bi, h, listBlock}));
      auto blockAt = [&](Value entry) {
        Value kb = toIndex(e.loadInt(indices, {bi, h, listBlock, entry}));
        Value k0 = arith::MulIOp::create(b, loc, kb, e.idx(blockKeys));
        Value k1 = arith::MinSIOp::create(b, loc, e.addi(k0, e.idx(blockKeys)),
                                          numKeys);
        return std::make_pair(k0, k1);
      };
      visit(
          zero, count, blockAt, /*consecutive=*/false,
          [&](Value k0, Value k1, ValueRange carried) {
            return body(k0, k1, masked, carried);
          },
          masked ? "partial_key_blocks" : "full_key_blocks");
    };
    visitList(plan.blockCounts, plan.blockIndices,
              /*masked=*/plan.mask || plan.hasMaskMod);
    visitList(plan.fullCounts, plan.fullIndices, /*masked=*/false);
    return state;
  }

  KeyRanges ranges;
  if (plan.mask) {
    KeyRangeQuery query{q0, q1, h, plan.numQueries, numKeys};
    ranges = plan.mask.buildKeyRanges(b, loc, query);
  } else {
    ranges.visible.push_back({zero, numKeys});
    ranges.full = {zero, numKeys};
  }
  Value fullLo = arith::MaxSIOp::create(b, loc, ranges.full.first, zero);
  Value fullHi = arith::MinSIOp::create(b, loc, ranges.full.second, numKeys);
  for (auto [lo, hi] : ranges.visible) {
    Value begin = arith::MaxSIOp::create(b, loc, lo, zero);
    Value end = arith::MaxSIOp::create(
        b, loc, arith::MinSIOp::create(b, loc, hi, numKeys), begin);
    Value firstBlock = e.divui(begin, blockKeys);
    Value lastBlock = arith::CeilDivUIOp::create(b, loc, end, e.idx(blockKeys));
    // Block kb's keys within [begin, end); past the last block, none.
    auto tileAt = [&](Value kb) {
      Value blockStart = arith::MulIOp::create(b, loc, kb, e.idx(blockKeys));
      Value k0 = arith::MaxSIOp::create(b, loc, blockStart, begin);
      Value k1 = arith::MinSIOp::create(
          b, loc, e.addi(blockStart, e.idx(blockKeys)), end);
      return std::make_pair(k0, k1);
    };
    visit(
        firstBlock, lastBlock, tileAt, /*consecutive=*/true,
        [&](Value k0, Value k1, ValueRange carried) -> Values {
          // Blocks every query sees run without mask code. Without a mask
          // every block is such a block; with a mask_mod none is.
          if (!plan.mask && !plan.hasMaskMod)
            return body(k0, k1, /*masked=*/false, carried);
          if (plan.hasMaskMod)
            return body(k0, k1, /*masked=*/true, carried);
          Value isFull = arith::AndIOp::create(
              b, loc, e.cmpi(arith::CmpIPredicate::sge, k0, fullLo),
              e.cmpi(arith::CmpIPredicate::sle, k1, fullHi));
          return emitIf(
              b, loc, isFull,
              [&] { return body(k0, k1, /*masked=*/false, carried); },
              [&] { return body(k0, k1, /*masked=*/true, carried); });
        },
        "key_blocks");
  }
  return state;
}
