//===- KernelEmitter.h - Pieces shared by every kernel body -----*- C++ -*-===//
//
/// \file
/// An emitter of kernel bodies (loops, fp32 loads and stores, small math)
/// and the pieces of attn semantics every kernel computes the same way:
/// attention weights, feature maps, gates and the normalization of linear
/// attention outputs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_KERNELEMITTER_H
#define ATTN_CONVERSION_KERNELEMITTER_H

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include <functional>
#include <limits>
#include <optional>

namespace mlir::attn {

using Values = SmallVector<Value>;

/// Shared state of one kernel body: builder, location, f32 helpers, sizes.
struct Emitter {
  OpBuilder &b;
  Location loc;
  FloatMath f;

  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc), f{b, loc} {}

  Value idx(int64_t v) { return f.index(v); }
  Value dim(Value memref, int64_t d) {
    return memref::DimOp::create(b, loc, memref, d);
  }
  Value divui(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value subi(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value negInf() { return f.c(-std::numeric_limits<double>::infinity()); }
  /// A scratch buffer of f32 on the heap (the reference kernels'); free()
  /// releases it.
  Value buffer(ArrayRef<int64_t> shape) {
    return memref::AllocOp::create(b, loc,
                                   MemRefType::get(shape, b.getF32Type()));
  }
  void free(Value memref) { memref::DeallocOp::create(b, loc, memref); }
  Value load(Value memref, ValueRange indices) {
    return loadF32(b, loc, memref, indices);
  }
  /// Loads an integer element as is.
  Value loadInt(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, loc, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    storeF32(b, loc, value, memref, indices);
  }
  /// A plain loop without results over [lb, ub).
  void loop(Value lb, Value ub, function_ref<void(Value)> body,
            StringRef stage = {}) {
    emitFor(
        b, loc, lb, ub, {},
        [&](Value iv, ValueRange) {
          body(iv);
          return Values{};
        },
        stage);
  }
  void loop(int64_t ub, function_ref<void(Value)> body, StringRef stage = {}) {
    loop(idx(0), idx(ub), body, stage);
  }
  /// Sum over [lb, ub) of term(iv), in order.
  Value sum(Value lb, Value ub, function_ref<Value(Value)> term) {
    return emitFor(b, loc, lb, ub, {f.c(0)}, [&](Value iv, ValueRange acc) {
      return Values{f.add(acc[0], term(iv))};
    })[0];
  }
  Value sum(int64_t ub, function_ref<Value(Value)> term) {
    return sum(idx(0), idx(ub), term);
  }
  void fill(Value memref, int64_t size, Value value) {
    loop(size, [&](Value i) { store(value, memref, {i}); });
  }
  /// `x / y`, or 0 where y == 0.
  Value divOrZero(Value x, Value y) {
    Value zero = f.c(0);
    Value nonzero = f.cmp(arith::CmpFPredicate::UNE, y, zero);
    Value safe = f.select(nonzero, y, f.c(1));
    return f.select(nonzero, f.div(x, safe), zero);
  }
};

/// The head layout of a spec op: query heads, how many query heads share a
/// key head and a value head (GQA), and the head dims.
struct HeadShape {
  int64_t heads, keyGroup, valueGroup, keyDim, valueDim;
};
HeadShape getHeadShape(Operation *specOp);

/// The score s_ij = score_mod(scale * <q[b,h,i,:], k[b,kh,j,:]>, b, h, i, j)
/// of an attn.attention op.
Value emitAttentionScore(Emitter &e, AttentionOp op, const Kernel &kernel,
                         Value bi, Value h, Value kh, Value i, Value j);

/// Whether key j is kept for query i: the named mask (when `withNamedMask`)
/// and the `mask_mod` region; true without either.
Value emitAttentionKeep(Emitter &e, AttentionOp op, const Kernel &kernel,
                        Value bi, Value h, Value i, Value j, Value numQueries,
                        Value numKeys, bool withNamedMask);

/// Which key blocks a block of query rows visits: the named mask's key
/// ranges, the mask region, or a run-time block mask's lists.
struct KeyBlockPlan {
  /// The named mask (may be null) and whether a mask region exists.
  MaskAttrInterface mask;
  bool hasMaskMod = false;
  /// A run-time block mask: per (b, h, query block) the counts and lists of
  /// partial and full key blocks; null without one.
  Value blockCounts, blockIndices, fullCounts, fullIndices;
  Value numQueries, numKeys;
};

/// The plan of an attn.attention op: its named mask, whether it has a
/// mask_mod region, and its block lists when it has a block mask, for
/// `numQueries` queries and `numKeys` keys. Creates no ops.
KeyBlockPlan getKeyBlockPlan(AttentionOp op, const Kernel &kernel,
                             Value numQueries, Value numKeys);

/// Builds one key tile [k0, k1) of a query block: `masked` says whether the
/// mask must be evaluated in it. Returns the new loop-carried `state`; with a
/// KeyTileFetch, `state` ends with the tile's fetched values.
using KeyTileBody = function_ref<SmallVector<Value>(
    Value k0, Value k1, bool masked, ValueRange state)>;

/// Fetches what a key tile needs (its K and V tiles) for keys [k0, k0 + block)
/// with the rows at or past `rowsBelow` zero.
using KeyTileFetch =
    function_ref<SmallVector<Value>(Value k0, Value rowsBelow)>;

/// Visits the key tiles of query rows [q0, q1) of head h of sequence bi,
/// carrying `init` through them (scf.for iter_args) and returning the final
/// state:
///  - with a block mask, exactly the blocks listed for query block
///    `listBlock`: partial ones masked, full ones not;
///  - otherwise, for every interval of keys the named mask can make visible
///    (every key without a mask), the blocks of `blockKeys` keys it covers,
///    restricted to it, so no key is visited twice; a block inside the range
///    every query sees runs unmasked (without a mask every block does; with
///    a mask region none does).
/// The loops' bounds depend only on the query block, so every thread of a
/// GPU block running them for the same block takes the same path. With
/// `fetch`, a loop over a key range fetches its first tile before it and the
/// next tile at the start of every iteration, carrying the fetched values (a
/// GPU strategy double-buffers them: the next tile lands while this one is
/// used); the fetch past a loop's last tile reads nothing. A block list's
/// loops, and every loop without `fetchAhead`, fetch each tile in its own
/// iteration.
SmallVector<Value> emitKeyTiles(Emitter &e, const KeyBlockPlan &plan,
                                int64_t blockKeys, Value bi, Value h, Value q0,
                                Value q1, Value listBlock, ValueRange init,
                                KeyTileBody body, KeyTileFetch fetch = {},
                                bool fetchAhead = true);

/// scale * dot with the op's score_mod applied: the score s_ij of query i and
/// key j of head h.
Value emitScoreMod(Emitter &e, AttentionOp op, const Kernel &kernel, Value dot,
                   Value bi, Value h, Value i, Value j);

/// Whether key `j` is kept for query `i` under the op's block mask: its key
/// block is listed as full, or listed as partial and `maskKeep` holds. Only
/// for ops with a block mask.
Value emitBlockMaskKeep(Emitter &e, AttentionOp op, const Kernel &kernel,
                        Value bi, Value h, Value i, Value j, Value maskKeep);

/// The log-sum-exp m + log(l) of a row with maximum m and sum l: -inf for an
/// empty row (l == 0); NaN stays NaN.
Value emitLogSumExp(Emitter &e, Value rowMax, Value rowSum);

/// The weight p of a kept score `score` before the row normalization:
/// exp(s - rowMax) for softmax (0 for s = -inf), sigmoid(s + bias), relu(s),
/// or the `l1_map` region.
Value attentionWeight(Emitter &e, AttentionOp op, Value score, Value rowMax,
                      const Kernel &kernel);

/// The linear term of an op: its feature map and gate.
struct LinearSpec {
  std::optional<FeatureMap> featureMap;
  Region *featureMapRegion;
  GateKind gate;
  int64_t keyDim, featureDim;
};

/// The feature map, gate kind and widths of a linear_attention or hybrid op.
LinearSpec getLinearSpec(Operation *op);

/// Writes phi(x) * scale into `features` [F], where x = source[b, head, t, :]
/// and `queryHead` selects the hedgehog weights (`side` 0 for queries, 1 for
/// keys). `scratch` holds at least max(Dk, M) floats.
void emitFeatures(Emitter &e, const LinearSpec &spec, Value source, Value bi,
                  Value head, Value t, Value queryHead, int64_t side,
                  Value weights, Value scale, Value features, Value scratch);

/// Normalizes `numerator` [Dv (+1 for z)] into output[index..., :]; with
/// `weight`, adds weight * result to what the output holds.
void emitLinearOutput(Emitter &e, LinearNormalization normalization,
                      std::optional<float> normEps, int64_t valueDim,
                      Value numerator, Value output, ValueRange index,
                      Value weight);

/// The log gate of token t for head h (scalar kinds), or of feature
/// `feature` (per_key).
Value logGate(Emitter &e, GateKind gate, Value gates, Value bi, Value h,
              Value t, Value feature);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_KERNELEMITTER_H
