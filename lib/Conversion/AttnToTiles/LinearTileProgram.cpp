//===- LinearTileProgram.cpp - linear attention as a tile program ---------===//
//
/// \file
/// The chunked algorithm of attn.linear_attention written once as attn_tile
/// ops (LinearTileProgram), for the CPU strategy and the mma.sync strategy,
/// and when the tensor-core kernel runs it.
//
//===----------------------------------------------------------------------===//

#include "LinearTileProgram.h"
#include "TileBuilder.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include <numeric>

using namespace mlir;
using namespace mlir::attn;

LinearTerm LinearTerm::of(LinearAttentionOp op) {
  LinearTerm term;
  term.linear = getLinearSpec(op);
  term.shape = getHeadShape(op);
  term.update = op.getUpdate();
  term.causal = op.getCausal();
  term.normalization = op.getNormalization();
  if (op.getNormEpsAttr())
    term.normEps = op.getNormEpsAttr().getValueAsDouble();
  term.chunk = op.getChunkSize();
  term.scale = op.getEffectiveScale();
  term.denominatorState =
      term.normalization == LinearNormalization::denominator;
  return term;
}

LinearTerm LinearTerm::of(HybridOp op) {
  LinearTerm term;
  term.linear = getLinearSpec(op);
  term.shape = getHeadShape(op);
  term.normalization =
      op.getNormalization().value_or(LinearNormalization::none);
  if (op.getNormEpsAttr())
    term.normEps = op.getNormEpsAttr().getValueAsDouble();
  term.chunk = op.getChunkSize();
  term.scale = op.getEffectiveLinearScale();
  bool shared = op.getCombine() == HybridCombine::shared_denominator;
  term.lag = shared ? op.getWindow() : 0;
  term.denominatorState =
      shared || term.normalization == LinearNormalization::denominator;
  return term;
}

/// phi(x) of a [C, Dk] tile of queries (`side` 0) or keys (1) of query
/// head h: [C, F], x itself for the identity, rounded to x's element type
/// as a matmul operand is.
static Value emitTileFeatures(TileBuilder &t, const LinearSpec &linear, Value x,
                              int64_t side, Value h) {
  auto type = cast<tile::TileType>(x.getType());
  FeatureMap map = linear.featureMap.value_or(FeatureMap::identity);
  if (!linear.featureMapRegion && map == FeatureMap::identity)
    return x;
  if (!linear.featureMapRegion && map == FeatureMap::taylor2)
    return tile::Taylor2FeaturesOp::create(
        t.b, t.loc,
        t.tileOf({type.getRows(), linear.featureDim}, type.getElementType(),
                 type.getLayout()),
        x);
  if (!linear.featureMapRegion && map == FeatureMap::hedgehog) {
    // y = x W with W = feature_weights[side, h] ([Dk, M]), then
    // [softmax(y), softmax(-y)].
    int64_t width = linear.featureDim / 2;
    Value weights =
        t.load(t.tileOf({linear.keyDim, width}, t.f32(), t.layouts.loaded),
               t.kernel.get(KernelArgRole::FeatureWeights),
               {arith::ConstantIndexOp::create(t.b, t.loc, side), h,
                arith::ConstantIndexOp::create(t.b, t.loc, 0),
                arith::ConstantIndexOp::create(t.b, t.loc, 0)},
               Value());
    tile::TileType projectionType =
        t.tileOf({type.getRows(), width}, t.f32(), t.layouts.accumulator);
    Value projection =
        tile::MatmulOp::create(t.b, t.loc, t.withElementType(x, t.f32()),
                               weights, t.zeros(projectionType),
                               /*transpose_lhs=*/false,
                               /*transpose_rhs=*/false);
    Value features = tile::SoftmaxFeaturesOp::create(
        t.b, t.loc,
        t.tileOf({type.getRows(), 2 * width}, t.f32(), t.layouts.accumulator),
        projection);
    return t.withElementType(features, type.getElementType());
  }
  return t.map(
      type, x, {-1}, [&](OpBuilder &nb, ValueRange, ValueRange v) -> Value {
        FloatMath f{nb, t.loc};
        Value element = v[0];
        element = convertFloat(nb, t.loc, element, t.f32());
        Value phi = element;
        if (linear.featureMapRegion) {
          phi = inlineRegion(nb, *linear.featureMapRegion, {element}, t.kernel);
        } else if (map == FeatureMap::relu) {
          phi = f.max(element, f.c(0));
        } else if (map == FeatureMap::elu_plus_one) {
          Value positive = f.cmp(arith::CmpFPredicate::OGT, element, f.c(0));
          phi = f.select(
              positive, f.add(element, f.c(1)),
              f.exp(arith::MinimumFOp::create(nb, t.loc, element, f.c(0))));
        }
        return convertFloat(nb, t.loc, phi, type.getElementType());
      });
}

/// The prefix sums of the log gates of the chunk [t0, t0 + C) of head h of
/// sequence bi ([C], or [C, F] for a gate per key feature), zero past the
/// sequence's end n; null without a gate.
static Value emitChunkLogDecay(TileBuilder &t, Emitter &e,
                               const LinearSpec &linear, Value gates,
                               Value loaded, Value h, Value t0, Value n,
                               int64_t chunk) {
  OpBuilder &b = t.b;
  Value logs = loaded;
  switch (linear.gate) {
  case GateKind::none:
    return Value();
  case GateKind::per_head: {
    Value g = e.load(gates, {h});
    logs = t.map(t.tileOf({chunk}, t.f32(), t.layouts.vectors), ValueRange{},
                 {}, [&](OpBuilder &nb, ValueRange at, ValueRange) -> Value {
                   Value row = arith::AddIOp::create(nb, t.loc, t0, at[0]);
                   Value inside = arith::CmpIOp::create(
                       nb, t.loc, arith::CmpIPredicate::slt, row, n);
                   Value none = arith::ConstantOp::create(
                       nb, t.loc, nb.getF32FloatAttr(0.0));
                   return arith::SelectOp::create(nb, t.loc, inside, g, none);
                 });
    break;
  }
  case GateKind::per_token:
  case GateKind::per_key:
    break;
  }
  return tile::CumsumOp::create(b, t.loc, logs);
}

/// The log gates of the chunk starting at t0 of head h of sequence bi as
/// stored ([C], or [C, F] for a gate per key feature; zero past n); null
/// unless the gate is per token or per key feature.
static Value loadChunkGates(TileBuilder &t, const LinearSpec &linear,
                            Value gates, Value bi, Value h, Value t0, Value n,
                            int64_t chunk) {
  if (linear.gate == GateKind::per_token)
    return t.load(t.tileOf({chunk}, t.f32(), t.layouts.vectors), gates,
                  {bi, h, t0}, n);
  if (linear.gate == GateKind::per_key) {
    Value zero = arith::ConstantIndexOp::create(t.b, t.loc, 0);
    return t.load(
        t.tileOf({chunk, linear.featureDim}, t.f32(), t.layouts.loaded), gates,
        {bi, h, t0, zero}, n);
  }
  return Value();
}

namespace {
/// The chunked algorithm of linear attention as a tile program, for the
/// chunks [t0, t0 + C) of head h of sequence bi, and the value columns
/// [v0, v0 + W), for every feature map, gate, update rule and
/// normalization:
///  1. Q, K, V of the chunk (zero past the end), the features phi(q) and
///     phi(k), and p, the prefix sums of the chunk's log gates.
///  2. A = (phi(Q) phi(K)^T) o D with the causal decay mask
///     D_ij = exp(p_i - p_j), j <= i (attn_tile.decayed_scores for a gate
///     per key feature).
///  3. O = scale (A V + diag(exp(p)) phi(Q) S): the intra-chunk part and the
///     inter-chunk part read from the state of the chunks before; the
///     scaled inter-chunk part is the accumulator A V adds onto (a gate per
///     key feature decays phi(Q) before the product instead).
///  4. S <- attn_tile.state_update(S, phi(K), V, p), carried by scf.for.
///  5. The normalization of each row of O: under `denominator`, steps 3-4
///     run a second time on a value 1 per token for z and its state; under
///     `rms_norm`, a row reduction of O^2.
/// The delta rule replaces V by U (deltaValues) before steps 3-4. Matmul
/// operands are rounded to the storage type, as tensor cores take them; the
/// CPU's storage is f32. For additive updates without a gate per key
/// feature, the loop carries the next chunk's inputs beside the states:
/// each iteration first asks for the chunk after its own (loadInputs), so a
/// strategy with asynchronous copies fetches it while this chunk computes
/// (prefetchesInputs says why not for the others).
class LinearTileProgram {
public:
  LinearTileProgram(Emitter &e, const LinearTerm &term, const Kernel &kernel,
                    Value bi, Value h, Value v0, int64_t width,
                    const TileLayouts &layouts, const ChunkSegments *segments,
                    const LinearChunkOutput *output)
      : e(e), b(e.b), loc(e.loc), t{b, loc, kernel, layouts}, term(term),
        kernel(kernel), linear(term.linear), shape(term.shape), bi(bi), h(h),
        v0(v0), width(width), chunk(term.chunk), lag(term.lag),
        scale(term.scale), segments(segments), output(output) {
    valueElement =
        layouts.simt
            ? b.getF32Type()
            : cast<MemRefType>(kernel.get(KernelArgRole::Value).getType())
                  .getElementType();
    zero = e.idx(0);
    n = e.dim(kernel.get(KernelArgRole::Query), 2);
    kh = e.divui(h, shape.keyGroup);
    vh = e.divui(h, shape.valueGroup);
  }

  void build();

private:
  Emitter &e;
  OpBuilder &b;
  Location loc;
  TileBuilder t;
  LinearTerm term;
  const Kernel &kernel;
  LinearSpec linear;
  HeadShape shape;
  Value bi, h, v0;
  /// 0, the sequence length, and the key and value heads of head h.
  Value zero, n, kh, vh;
  int64_t width, chunk, lag;
  double scale;
  Type valueElement;
  const ChunkSegments *segments;
  /// Whether the chunks read the transforms W and U the transform blocks
  /// stored (the delta rule's chunk-parallel form, more than one segment)
  /// instead of V and beta, and the first chunk of the chunk loop being
  /// built (it waits for the transforms there too).
  bool storedTransforms = false;
  Value loopBegin;
  /// Where each chunk's output rows go; null: to the op's output.
  const LinearChunkOutput *output;

  /// What one chunk's steps share once its tiles are loaded.
  struct Chunk {
    /// `logs`: the prefix sums of the log gates over the chunk's keys;
    /// `queryLogs` over its queries from the same start (the two are one
    /// unless the queries lag).
    Value t0, beta, qf, kf, logs, queryLogs, scores, decayedQueries, rowLogs,
        keys;
    /// The delta rule's stored transforms W and U of the chunk, when they
    /// were read from memory (else the chunk solves its UT inverse in
    /// deltaValues).
    Value keyTransform, valueTransform;
    /// The states as right matmul operands (stateOperand).
    DenseMap<Value, Value> stateOperands;
  };

  Attribute acc() const { return t.layouts.accumulator; }
  tile::TileType squareType() {
    return t.tileOf({chunk, chunk}, t.f32(), acc());
  }
  SmallVector<Value> initialStates(bool denominator);
  /// The inputs of the chunk at t0 the loop carries: Q, K, V, the log
  /// gates per token and the delta rule's beta (those that exist); with
  /// stored transforms U in place of V and W in place of beta. Under a
  /// lag L, t0 starts the keys and values, t0 + L the queries, and the
  /// gates cover both: [t0, t0 + L + C).
  SmallVector<Value> loadInputs(Value t0);
  /// The [C, Dk] rows of Q or K, or the [C, W] value columns of V, of
  /// `head` from t0 (zero past the end).
  Value loadRows(KernelArgRole role, Value head, Value t0);
  /// The delta rule's beta of the chunk at t0 ([C]).
  Value loadBeta(Value t0);
  /// Q's features aside, what a delta chunk needs before its values:
  /// phi(K), beta and the log decays, from the chunk's K, beta and (with a
  /// gate per token) gates as loaded, or loading them.
  Chunk deltaKeys(Value t0, Value k, Value beta, Value gates);
  Chunk loadDeltaKeys(Value t0);
  /// Whether the loop fetches the next chunk's inputs ahead. Measured on
  /// the H200 (bench/NOTES.md): ahead of a simple-GLA chunk it gains 3-17%;
  /// the delta rule's and GLA's chunks hold more shared tiles, and the
  /// second copy of the inputs leaves one block per SM instead of two,
  /// 1.5x slower at 2K and 8K tokens per sequence.
  bool prefetchesInputs() {
    return !t.layouts.simt && term.update == UpdateRule::additive &&
           linear.gate != GateKind::per_key;
  }
  SmallVector<Value> buildChunk(Value t0, ValueRange states, ValueRange inputs,
                                Value perKeyGates);
  /// A loop over the chunks [begin, end) carrying `states`; returns their
  /// values after the last chunk. Iteration ci, whose chunk starts at t0,
  /// reads `ownRead(t0)` of its chunk (if given; null otherwise), then runs
  /// `body(ci, t0, states, inputs, own)` on the chunk's `inputsAt(t0)`. With
  /// `ahead` the loop carries the inputs: each iteration asks for the next
  /// chunk's after its own read, so that waiting for that read does not wait
  /// for them.
  SmallVector<Value> emitChunkLoop(
      Value begin, Value end, ValueRange states, bool ahead,
      function_ref<SmallVector<Value>(Value t0)> inputsAt,
      function_ref<Value(Value t0)> ownRead,
      function_ref<SmallVector<Value>(Value ci, Value t0, ValueRange states,
                                      ArrayRef<Value> inputs, Value own)>
          body,
      StringRef stage);
  Value scores(Chunk &c);
  /// body(inputs) at each element (i, j) of a [C, C] chunk tile, times the
  /// decay mask of `logs` (attn_tile.decay_mask), or, without logs, where
  /// j - i <= diagonal (0 elsewhere), decided by the element's coordinates:
  /// a mask tile of ones and zeros is the same in every chunk, and the loop
  /// would hoist it and keep it in registers. A 1-D input is one value per
  /// row.
  Value maskedMap(ArrayRef<Value> inputs, int64_t diagonal, Value rowLogs,
                  Value columnLogs,
                  function_ref<Value(FloatMath &, ValueRange)> body);
  /// The UT inverse (I + diag(beta) ((phi(K) phi(K)^T) o D o M_<))^-1 of
  /// the chunk, solved (a shared f32 tile on the GPU).
  Value solveInverse(Chunk &c);
  /// W [C, F] and U [C, W] of the chunk at t0 (this program's value
  /// columns) as the transform blocks stored them, once they have.
  std::pair<Value, Value> loadTransforms(Value t0);
  Value deltaValues(Chunk &c, Value v, Value state);
  Value stateOperand(Chunk &c, Value s);
  std::pair<Value, Value> numeratorAndState(Chunk &c, Value vals, Value s);
  Value onesColumn(Value t0);
  Value normalize(Value numerator, function_ref<Value()> denominatorColumn);
  void buildNonCausal(ArrayRef<Value> states);
  void storeFinalStates(ArrayRef<Value> finalStates);
  void buildCausal(Value begin, Value end);
  void publishSegmentBoundary(Value begin, Value end);
  void publishChunkTransforms(Value numChunks);
  void publishDeltaBoundaries(Value perSegment, Value numChunks);
  Value segmentStartState();
  tile::TileType stateType() {
    return t.tileOf({linear.featureDim, width}, t.f32(), acc());
  }
};
} // namespace

/// The state, and under `denominator` the state z of the denominators,
/// [F, 1], which the initial and final states hold as their last column.
SmallVector<Value> LinearTileProgram::initialStates(bool denominator) {
  Value initialState = kernel.get(KernelArgRole::InitialState);
  auto initial = [&](tile::TileType type, Value column) -> Value {
    if (!initialState)
      return t.zeros(type);
    return t.load(type, initialState, {bi, h, zero, column}, Value());
  };
  int64_t features = linear.featureDim;
  SmallVector<Value> states = {
      initial(t.tileOf({features, width}, t.f32(), acc()), v0)};
  if (denominator)
    states.push_back(initial(t.tileOf({features, 1}, t.f32(), acc()),
                             e.idx(shape.valueDim)));
  return states;
}

/// Step 2; a gate per key feature also decays phi(Q) for step 3.
Value LinearTileProgram::scores(Chunk &c) {
  if (linear.gate == GateKind::per_key) {
    Value perKeyScores = tile::DecayedScoresOp::create(
        b, loc, squareType(), c.qf, c.kf, c.queryLogs, lag ? c.logs : Value(),
        /*diagonal=*/0);
    // Rounded to the operands' type, as the matmul with S takes it.
    auto queriesType = cast<tile::TileType>(c.qf.getType());
    c.decayedQueries =
        t.map(queriesType, {c.qf, c.queryLogs}, {-1, -1},
              [&](OpBuilder &nb, ValueRange, ValueRange x) {
                FloatMath f{nb, loc};
                Value element = convertFloat(nb, loc, x[0], t.f32());
                return convertFloat(nb, loc, f.mul(element, f.exp(x[1])),
                                    queriesType.getElementType());
              });
    return perKeyScores;
  }
  Value products =
      tile::MatmulOp::create(b, loc, c.qf, c.kf, t.zeros(squareType()),
                             /*transpose_lhs=*/false,
                             /*transpose_rhs=*/true);
  // The scale is folded in here and into the inter-chunk part.
  return maskedMap(
      {products}, /*diagonal=*/0, c.queryLogs, c.logs,
      [&](FloatMath &f, ValueRange x) { return f.mul(x[0], f.c(scale)); });
}

Value LinearTileProgram::maskedMap(
    ArrayRef<Value> inputs, int64_t diagonal, Value rowLogs, Value columnLogs,
    function_ref<Value(FloatMath &, ValueRange)> body) {
  Value logs = rowLogs;
  // The mask, when there is one, comes second: [first input, mask, rest].
  SmallVector<Value> all = {inputs.front()};
  if (logs)
    all.push_back(tile::DecayMaskOp::create(
        b, loc, squareType(), t.withLayout(rowLogs, t.layouts.rows()),
        t.withLayout(columnLogs, t.layouts.columns()), diagonal));
  llvm::append_range(all, inputs.drop_front());
  SmallVector<int64_t> broadcast;
  for (Value input : all)
    broadcast.push_back(
        cast<tile::TileType>(input.getType()).getRank() == 1 ? 0 : -1);
  return t.map(squareType(), all, broadcast,
               [&](OpBuilder &nb, ValueRange at, ValueRange x) -> Value {
                 FloatMath f{nb, loc};
                 if (logs) {
                   // The first input, masked, then the rest.
                   SmallVector<Value> values = {f.mul(x[0], x[1])};
                   llvm::append_range(values, x.drop_front(2));
                   return body(f, values);
                 }
                 Value limit = arith::AddIOp::create(
                     nb, loc, at[0],
                     arith::ConstantIndexOp::create(nb, loc, diagonal));
                 Value kept = arith::CmpIOp::create(
                     nb, loc, arith::CmpIPredicate::sle, at[1], limit);
                 return f.select(kept, body(f, x), f.c(0));
               });
}

/// The delta rule in the WY/UT form (docs/semantics.md, section 6, the
/// implementation note on the delta rule): the chunk's values become
/// U = T V - T diag(exp(p)) phi(K) S, with
/// T = (I + diag(beta) ((phi(K) phi(K)^T) o D o M_<))^-1 diag(beta); U then
/// goes through steps 3-4 as an additive chunk's values do. It is computed
/// as U = (I + ...)^-1 (diag(beta) (V - diag(exp(p)) (phi(K) S))): two
/// products of the chunk and no [C, F] accumulator. The decay scales the
/// rows of the [C, W] product, not phi(K) before it: a [C, F] map of
/// exponentials (and, on the GPU, a shared tile) fewer per chunk.
Value LinearTileProgram::solveInverse(Chunk &c) {
  Value betaRows = t.withLayout(c.beta, t.layouts.rows());
  Value gram = tile::MatmulOp::create(b, loc, c.kf, c.kf, t.zeros(squareType()),
                                      /*transpose_lhs=*/false,
                                      /*transpose_rhs=*/true);
  Value lower =
      maskedMap({gram, betaRows}, /*diagonal=*/-1, c.logs, c.logs,
                [&](FloatMath &f, ValueRange x) { return f.mul(x[0], x[1]); });
  // The solve runs where the strategy keeps the tile in memory, and the
  // product with it reads it from there.
  return tile::UTSolveOp::create(b, loc, t.withLayout(lower, t.layouts.loaded));
}

std::pair<Value, Value> LinearTileProgram::loadTransforms(Value t0) {
  const ChunkSegments::DeltaTransforms &delta = *segments->delta;
  Value ci = e.divui(t0, chunk);
  // A group's transforms are waited for once, at its first chunk or where
  // the loop starts.
  Value groupStart = e.cmpi(
      arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, ci, e.idx(delta.groupChunks)), zero);
  Value first = arith::OrIOp::create(
      b, loc, groupStart, e.cmpi(arith::CmpIPredicate::eq, ci, loopBegin));
  // A chunk fetched ahead past the last has no transform (nor flag).
  Value rows = e.dim(delta.keyTransforms, 0);
  first = arith::AndIOp::create(b, loc, first,
                                e.cmpi(arith::CmpIPredicate::ult, t0, rows));
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{}, first,
                                /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    delta.awaitTransforms(e.divui(ci, delta.groupChunks));
  }
  Value keys = t.load(
      t.tileOf({chunk, linear.featureDim}, valueElement, t.layouts.loaded),
      delta.keyTransforms, {t0, zero}, rows);
  Value values =
      t.load(t.tileOf({chunk, width}, valueElement, t.layouts.loaded),
             delta.valueTransforms, {t0, v0}, rows);
  return {keys, values};
}

Value LinearTileProgram::deltaValues(Chunk &c, Value v, Value state) {
  const TileLayouts &layouts = t.layouts;
  tile::TileType valuesType = t.tileOf({chunk, width}, t.f32(), acc());
  if (c.keyTransform) {
    // U - W S: one product of the chunk.
    Value keyStates =
        tile::MatmulOp::create(b, loc, c.keyTransform, stateOperand(c, state),
                               t.zeros(valuesType), false, false);
    Value u =
        t.map(valuesType, {t.withLayout(c.valueTransform, acc()), keyStates},
              {-1, -1}, [&](OpBuilder &nb, ValueRange, ValueRange x) {
                FloatMath f{nb, loc};
                return f.sub(convertFloat(nb, loc, x[0], t.f32()), x[1]);
              });
    return t.rhsOperand(u, valueElement);
  }
  Value betaRows = t.withLayout(c.beta, layouts.rows());
  Value inverse = solveInverse(c);
  Value keyStates = tile::MatmulOp::create(b, loc, c.kf, stateOperand(c, state),
                                           t.zeros(valuesType), false, false);
  SmallVector<Value> inputs = {t.withLayout(v, acc()), keyStates, betaRows};
  SmallVector<int64_t> broadcast = {-1, -1, 0};
  if (c.logs) {
    inputs.push_back(t.withLayout(c.logs, layouts.rows()));
    broadcast.push_back(0);
  }
  Value residual = t.map(valuesType, inputs, broadcast,
                         [&](OpBuilder &nb, ValueRange, ValueRange x) {
                           FloatMath f{nb, loc};
                           Value value = convertFloat(nb, loc, x[0], t.f32());
                           Value keyState =
                               x.size() > 3 ? f.mul(f.exp(x[3]), x[1]) : x[1];
                           return f.mul(x[2], f.sub(value, keyState));
                         });
  Value u = tile::MatmulOp::create(b, loc, t.lhsOperand(inverse, valueElement),
                                   t.rhsOperand(residual, valueElement),
                                   t.zeros(valuesType), false, false);
  return t.rhsOperand(u, valueElement);
}

/// S as the right operand of the chunk's products, converted once per chunk.
Value LinearTileProgram::stateOperand(Chunk &c, Value s) {
  Type operandElement = cast<tile::TileType>(c.kf.getType()).getElementType();
  Value &operand = c.stateOperands[s];
  if (!operand)
    operand = t.rhsOperand(s, operandElement);
  return operand;
}

/// Steps 3-4 for values `vals` [C, W] and their state `s` [F, W].
std::pair<Value, Value>
LinearTileProgram::numeratorAndState(Chunk &c, Value vals, Value s) {
  int64_t columns = cast<tile::TileType>(vals.getType()).getColumns();
  tile::TileType outType = t.tileOf({chunk, columns}, t.f32(), acc());
  Value o;
  if (linear.gate == GateKind::per_key) {
    Value intra =
        tile::MatmulOp::create(b, loc, t.lhsOperand(c.scores, valueElement),
                               vals, t.zeros(outType), false, false);
    Value both = tile::MatmulOp::create(
        b, loc, c.decayedQueries, stateOperand(c, s), intra, false, false);
    o = t.map(
        outType, both, {-1}, [&](OpBuilder &nb, ValueRange, ValueRange x) {
          return FloatMath{nb, loc}.mul(x[0], FloatMath{nb, loc}.c(scale));
        });
  } else {
    // scale diag(exp(p)) phi(Q) S first, then A V accumulates onto it: one
    // accumulator of [C, W] lives at a time.
    Value inter = tile::MatmulOp::create(b, loc, c.qf, stateOperand(c, s),
                                         t.zeros(outType), false, false);
    SmallVector<Value> inputs = {inter};
    SmallVector<int64_t> broadcast = {-1};
    if (c.rowLogs) {
      inputs.push_back(c.rowLogs);
      broadcast.push_back(0);
    }
    inter = t.map(outType, inputs, broadcast,
                  [&](OpBuilder &nb, ValueRange, ValueRange x) {
                    FloatMath f{nb, loc};
                    Value decayed =
                        x.size() > 1 ? f.mul(f.exp(x[1]), x[0]) : x[0];
                    return f.mul(decayed, f.c(scale));
                  });
    o = tile::MatmulOp::create(b, loc, t.lhsOperand(c.scores, valueElement),
                               vals, inter, false, false);
  }
  Value next = tile::StateUpdateOp::create(b, loc, s, c.keys, vals, c.logs);
  return {o, next};
}

/// Step 5; under `denominator` the z state's next value joins `next`.
/// A value 1 per token of the chunk starting at t0 (0 past the end): the
/// values whose numerator is the denominator z.
Value LinearTileProgram::onesColumn(Value t0) {
  return t.map(
      t.tileOf({chunk, 1}, valueElement, t.layouts.loaded), ValueRange{}, {},
      [&](OpBuilder &nb, ValueRange at, ValueRange) -> Value {
        Value row = arith::AddIOp::create(nb, loc, t0, at[0]);
        Value inside =
            arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt, row, n);
        Value one = arith::ConstantOp::create(
            nb, loc, nb.getFloatAttr(valueElement, 1.0));
        Value none = arith::ConstantOp::create(
            nb, loc, nb.getFloatAttr(valueElement, 0.0));
        return arith::SelectOp::create(nb, loc, inside, one, none);
      });
}

Value LinearTileProgram::normalize(Value numerator,
                                   function_ref<Value()> denominatorColumn) {
  auto outType = cast<tile::TileType>(numerator.getType());
  LinearNormalization normalization = term.normalization;
  if (normalization == LinearNormalization::denominator) {
    Value zColumn = denominatorColumn();
    Value z = tile::ReduceOp::create(
        b, loc, t.tileOf({chunk}, t.f32(), t.layouts.rows()),
        tile::ReductionKind::add, zColumn);
    return t.map(outType, {numerator, z}, {-1, 0},
                 [&](OpBuilder &nb, ValueRange, ValueRange x) {
                   FloatMath f{nb, loc};
                   Value nonzero =
                       f.cmp(arith::CmpFPredicate::UNE, x[1], f.c(0));
                   Value safe = f.select(nonzero, x[1], f.c(1));
                   return f.select(nonzero, f.div(x[0], safe), f.c(0));
                 });
  }
  if (normalization != LinearNormalization::rms_norm)
    return numerator;
  Value squares = t.map(
      outType, numerator, {-1}, [&](OpBuilder &nb, ValueRange, ValueRange x) {
        return arith::MulFOp::create(nb, loc, x[0], x[0]).getResult();
      });
  Value sums = tile::ReduceOp::create(
      b, loc, t.tileOf({chunk}, t.f32(), t.layouts.rows()),
      tile::ReductionKind::add, squares);
  double eps = term.normEps;
  int64_t valueDim = shape.valueDim;
  return t.map(outType, {numerator, sums}, {-1, 0},
               [&](OpBuilder &nb, ValueRange, ValueRange x) {
                 FloatMath f{nb, loc};
                 Value mean = f.div(x[1], f.c(double(valueDim)));
                 Value rms = math::SqrtOp::create(nb, loc,
                                                  f.add(mean, f.c(float(eps))));
                 return f.div(x[0], rms);
               });
}

Value LinearTileProgram::loadRows(KernelArgRole role, Value head, Value t0) {
  Value memory = kernel.get(role);
  Type element = t.layouts.simt
                     ? t.f32()
                     : cast<MemRefType>(memory.getType()).getElementType();
  bool values = role == KernelArgRole::Value;
  return t.load(t.tileOf({chunk, values ? width : shape.keyDim}, element,
                         t.layouts.loaded),
                memory, {bi, head, t0, values ? v0 : zero}, n);
}

SmallVector<Value> LinearTileProgram::loadInputs(Value t0) {
  Value queryStart = lag ? e.addi(t0, e.idx(lag)) : t0;
  SmallVector<Value> inputs = {loadRows(KernelArgRole::Query, h, queryStart),
                               loadRows(KernelArgRole::Key, kh, t0)};
  std::pair<Value, Value> transforms;
  if (storedTransforms) {
    transforms = loadTransforms(t0);
    inputs.push_back(transforms.second);
  } else {
    inputs.push_back(loadRows(KernelArgRole::Value, vh, t0));
  }
  if (linear.gate == GateKind::per_token)
    inputs.push_back(loadChunkGates(t, linear, kernel.get(KernelArgRole::Gate),
                                    bi, h, t0, n, chunk + lag));
  if (term.update == UpdateRule::delta)
    inputs.push_back(storedTransforms ? transforms.first : loadBeta(t0));
  return inputs;
}

Value LinearTileProgram::loadBeta(Value t0) {
  return t.load(t.tileOf({chunk}, t.f32(), t.layouts.vectors),
                kernel.get(KernelArgRole::Beta), {bi, h, t0}, n);
}

LinearTileProgram::Chunk LinearTileProgram::deltaKeys(Value t0, Value k,
                                                      Value beta, Value gates) {
  Chunk c;
  c.t0 = t0;
  c.kf = emitTileFeatures(t, linear, k, /*side=*/1, h);
  c.beta = beta;
  c.logs = emitChunkLogDecay(t, e, linear, kernel.get(KernelArgRole::Gate),
                             gates, h, t0, n, chunk);
  c.keys = t.withElementType(c.kf, valueElement);
  return c;
}

LinearTileProgram::Chunk LinearTileProgram::loadDeltaKeys(Value t0) {
  Value k = loadRows(KernelArgRole::Key, kh, t0);
  Value beta = loadBeta(t0);
  Value gates = linear.gate == GateKind::per_token
                    ? loadChunkGates(t, linear, kernel.get(KernelArgRole::Gate),
                                     bi, h, t0, n, chunk)
                    : Value();
  return deltaKeys(t0, k, beta, gates);
}

SmallVector<Value> LinearTileProgram::buildChunk(Value t0, ValueRange carried,
                                                 ValueRange inputs,
                                                 Value perKeyGates) {
  const TileLayouts &layouts = t.layouts;
  Chunk c;
  c.t0 = t0;
  // 1.
  Value q = inputs[0], k = inputs[1], v = inputs[2];
  Value gates = linear.gate == GateKind::per_token ? inputs[3] : perKeyGates;
  if (storedTransforms) {
    c.valueTransform = v;
    c.keyTransform = inputs.back();
  } else if (term.update == UpdateRule::delta) {
    c.beta = inputs.back();
  }
  c.qf = emitTileFeatures(t, linear, q, /*side=*/0, h);
  c.kf = emitTileFeatures(t, linear, k, /*side=*/1, h);
  c.logs = c.queryLogs =
      emitChunkLogDecay(t, e, linear, kernel.get(KernelArgRole::Gate), gates, h,
                        c.t0, n, chunk + lag);
  if (c.logs && lag) {
    // The sums over [t0, t0 + L + C): the keys' rows first, the queries'
    // last, both from t0, so a decay is still exp(query - key).
    Value prefix = c.logs;
    auto type = cast<tile::TileType>(prefix.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = chunk;
    auto rowsOf = [&](int64_t offset) -> Value {
      return tile::ExtractRowsOp::create(
          b, loc, t.tileOf(shape, t.f32(), type.getLayout()), prefix,
          b.getI64IntegerAttr(offset));
    };
    c.queryLogs = rowsOf(lag);
    c.logs = rowsOf(0);
  }
  // U for V under the delta rule, before the scores are alive.
  Value values =
      term.update == UpdateRule::delta ? deltaValues(c, v, carried[0]) : v;
  // 2.
  c.scores = scores(c);
  if (c.logs && linear.gate != GateKind::per_key)
    c.rowLogs = t.withLayout(c.queryLogs, layouts.rows());
  c.keys = t.withElementType(c.kf, valueElement);
  // 3-4.
  auto [numerator, nextState] = numeratorAndState(c, values, carried[0]);
  SmallVector<Value> next = {nextState};
  // 5.
  Value zColumn;
  auto denominatorColumn = [&] {
    if (!zColumn) {
      auto [column, nextZ] = numeratorAndState(c, onesColumn(c.t0), carried[1]);
      next.push_back(nextZ);
      zColumn = column;
    }
    return zColumn;
  };
  Value out = normalize(numerator, denominatorColumn);
  Value queryStart = lag ? e.addi(c.t0, e.idx(lag)) : c.t0;
  if (!output) {
    tile::StoreOp::create(b, loc, out, kernel.get(KernelArgRole::Output),
                          ValueRange{bi, h, queryStart, v0}, n);
    return next;
  }
  // A shared denominator: the caller divides.
  Value denominators;
  if (term.denominatorState &&
      term.normalization != LinearNormalization::denominator)
    denominators = tile::ReduceOp::create(
        b, loc, t.tileOf({chunk}, t.f32(), t.layouts.rows()),
        tile::ReductionKind::add, denominatorColumn());
  (*output)(queryStart, out, denominators);
  return next;
}

/// The final state (and z, as its last column) when the op returns it.
void LinearTileProgram::storeFinalStates(ArrayRef<Value> finalStates) {
  Value finalState = kernel.get(KernelArgRole::FinalState);
  if (!finalState)
    return;
  tile::StoreOp::create(b, loc, finalStates[0], finalState,
                        ValueRange{bi, h, zero, v0}, Value());
  if (finalStates.size() > 1)
    tile::StoreOp::create(b, loc, finalStates[1], finalState,
                          ValueRange{bi, h, zero, e.idx(shape.valueDim)},
                          Value());
}

SmallVector<Value> LinearTileProgram::emitChunkLoop(
    Value begin, Value end, ValueRange states, bool ahead,
    function_ref<SmallVector<Value>(Value t0)> inputsAt,
    function_ref<Value(Value t0)> ownRead,
    function_ref<SmallVector<Value>(Value ci, Value t0, ValueRange states,
                                    ArrayRef<Value> inputs, Value own)>
        body,
    StringRef stage) {
  size_t numStates = states.size();
  SmallVector<Value> carried(states.begin(), states.end());
  if (ahead)
    llvm::append_range(carried, inputsAt(b.createOrFold<arith::MulIOp>(
                                    loc, begin, e.idx(chunk))));
  SmallVector<Value> results = emitFor(
      b, loc, begin, end, carried,
      [&](Value ci, ValueRange iterArgs) -> SmallVector<Value> {
        Value t0 = arith::MulIOp::create(b, loc, ci, e.idx(chunk));
        Value own = ownRead ? ownRead(t0) : Value();
        SmallVector<Value> inputs, next;
        if (ahead) {
          next = inputsAt(e.addi(t0, e.idx(chunk)));
          inputs = llvm::to_vector(iterArgs.drop_front(numStates));
        } else {
          inputs = inputsAt(t0);
        }
        SmallVector<Value> yielded =
            body(ci, t0, iterArgs.take_front(numStates), inputs, own);
        llvm::append_range(yielded, next);
        return yielded;
      },
      stage);
  results.resize(numStates);
  return results;
}

/// A boundary block of ChunkSegments for the chunks [begin, end) of its
/// segment: the segment's local state L and decay D, then the state after
/// the segment, D o S + L, from the state S before it. A chunk's work is
/// one state update, short beside the wait for its K and V, so the loop
/// fetches the next chunk's K and V ahead where the output loop fetches
/// its inputs ahead (prefetchesInputs). The gates are read in their own
/// chunk: carrying a gate per token's too, ptxas spills 40 bytes of the
/// simple-GLA kernel for sm_90a.
void LinearTileProgram::publishSegmentBoundary(Value begin, Value end) {
  bool gated = linear.gate != GateKind::none;
  Value gate = kernel.get(KernelArgRole::Gate);
  bool ahead = prefetchesInputs();
  auto inputsAt = [&](Value t0) -> SmallVector<Value> {
    return {loadRows(KernelArgRole::Key, kh, t0),
            loadRows(KernelArgRole::Value, vh, t0)};
  };
  SmallVector<Value> inits = {t.zeros(stateType())};
  if (gated)
    inits.push_back(tile::SplatOp::create(
        b, loc, stateType(),
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0))));
  SmallVector<Value> local = emitChunkLoop(
      begin, end, inits, ahead, inputsAt,
      // The chunk's gates, read before the next chunk is asked for.
      [&](Value t0) {
        return loadChunkGates(t, linear, gate, bi, h, t0, n, chunk);
      },
      [&](Value, Value t0, ValueRange carried, ArrayRef<Value> inputs,
          Value gates) -> SmallVector<Value> {
        Value keys = t.withElementType(
            emitTileFeatures(t, linear, inputs[0], /*side=*/1, h),
            valueElement);
        Value logs =
            emitChunkLogDecay(t, e, linear, gate, gates, h, t0, n, chunk);
        SmallVector<Value> next = {tile::StateUpdateOp::create(
            b, loc, carried[0], keys, inputs[1], logs)};
        if (gated)
          next.push_back(tile::DecayStateOp::create(b, loc, carried[1], logs));
        return next;
      },
      "segment_boundary");
  SmallVector<Value> inputs = {segmentStartState(), local[0]};
  if (gated)
    inputs.push_back(local[1]);
  SmallVector<int64_t> broadcast(inputs.size(), -1);
  Value after = t.map(stateType(), inputs, broadcast,
                      [&](OpBuilder &nb, ValueRange, ValueRange x) {
                        FloatMath f{nb, loc};
                        Value kept = x.size() > 2 ? f.mul(x[2], x[0]) : x[0];
                        return f.add(kept, x[1]);
                      });
  tile::StoreOp::create(b, loc, after, segments->boundaries,
                        ValueRange{segments->index, zero, v0}, Value());
  segments->publish(segments->index);
}

/// A transform block of the delta rule's chunk-parallel form: W and U of
/// each chunk of its group (ChunkSegments::DeltaTransforms), stored for
/// the chain and output blocks, which then need one product of the chunk
/// for its values instead of two (and no inverse to convert).
void LinearTileProgram::publishChunkTransforms(Value numChunks) {
  const ChunkSegments::DeltaTransforms &delta = *segments->delta;
  Value groupChunks = e.idx(delta.groupChunks);
  Value begin = arith::MinUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, delta.group, groupChunks),
      numChunks);
  Value end =
      arith::MinUIOp::create(b, loc, e.addi(begin, groupChunks), numChunks);
  emitFor(
      b, loc, begin, end, {},
      [&](Value ci, ValueRange) -> SmallVector<Value> {
        Value t0 = arith::MulIOp::create(b, loc, ci, e.idx(chunk));
        Chunk c = loadDeltaKeys(t0);
        Value inverse = t.lhsOperand(solveInverse(c), valueElement);
        Value betaRows = t.withLayout(c.beta, t.layouts.rows());
        // T A for the rows of A scaled by beta (and, for W, by exp(p)).
        auto transform = [&](Value rows, bool decayed) {
          auto type = cast<tile::TileType>(rows.getType());
          tile::TileType resultType =
              t.tileOf({chunk, type.getShape()[1]}, t.f32(), acc());
          SmallVector<Value> inputs = {t.withLayout(rows, acc()), betaRows};
          SmallVector<int64_t> broadcast = {-1, 0};
          if (decayed && c.logs) {
            inputs.push_back(t.withLayout(c.logs, t.layouts.rows()));
            broadcast.push_back(0);
          }
          Value scaled = t.map(
              resultType, inputs, broadcast,
              [&](OpBuilder &nb, ValueRange, ValueRange x) {
                FloatMath f{nb, loc};
                Value element =
                    f.mul(convertFloat(nb, loc, x[0], t.f32()), x[1]);
                return x.size() > 2 ? f.mul(element, f.exp(x[2])) : element;
              });
          return tile::MatmulOp::create(b, loc, inverse,
                                        t.rhsOperand(scaled, valueElement),
                                        t.zeros(resultType), false, false);
        };
        tile::StoreOp::create(b, loc, transform(c.kf, /*decayed=*/true),
                              delta.keyTransforms, ValueRange{t0, zero},
                              Value());
        // U in one product up to Dv = 128, else by 64 value columns (or
        // 32) at a time: a [C, 192] accumulator spills (12 bytes for
        // sm_90a, 28 for sm_80).
        int64_t piece = shape.valueDim <= 128
                            ? shape.valueDim
                            : std::gcd(shape.valueDim, int64_t(64));
        for (int64_t column = 0; column < shape.valueDim; column += piece) {
          Value values = t.load(
              t.tileOf({chunk, piece}, valueElement, t.layouts.loaded),
              kernel.get(KernelArgRole::Value), {bi, vh, t0, e.idx(column)}, n);
          tile::StoreOp::create(b, loc, transform(values, /*decayed=*/false),
                                delta.valueTransforms,
                                ValueRange{t0, e.idx(column)}, Value());
        }
        return {};
      },
      "chunk_transforms");
  delta.publishTransforms(delta.group);
}

/// The chain block of the delta rule's chunk-parallel form: the state
/// through the chunks of every segment but the last, from the stored
/// transforms (the values U - W S, then the state update: no scores and no
/// output), stored and published where each segment ends. It is the
/// critical path of the form, so the loop fetches each chunk's inputs (W,
/// K, U, gates) one chunk ahead.
void LinearTileProgram::publishDeltaBoundaries(Value perSegment,
                                               Value numChunks) {
  Value boundaries = e.subi(segments->count, e.idx(1));
  Value chainEnd = arith::MinUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, boundaries, perSegment), numChunks);
  Value gate = kernel.get(KernelArgRole::Gate);
  auto inputsAt = [&](Value t0) {
    auto [keyTransform, valueTransform] = loadTransforms(t0);
    SmallVector<Value> inputs = {
        keyTransform, loadRows(KernelArgRole::Key, kh, t0), valueTransform};
    if (linear.gate == GateKind::per_token)
      inputs.push_back(loadChunkGates(t, linear, gate, bi, h, t0, n, chunk));
    return inputs;
  };
  auto publishAt = [&](Value segment, Value state) {
    tile::StoreOp::create(b, loc, state, segments->boundaries,
                          ValueRange{segment, zero, v0}, Value());
    segments->publish(segment);
  };
  loopBegin = zero;
  SmallVector<Value> results = emitChunkLoop(
      zero, chainEnd, {initialStates(/*denominator=*/false)[0]},
      /*ahead=*/true, inputsAt, /*ownRead=*/{},
      [&](Value ci, Value t0, ValueRange iterArgs, ArrayRef<Value> inputs,
          Value) -> SmallVector<Value> {
        Chunk c =
            deltaKeys(t0, inputs[1], /*beta=*/Value(),
                      linear.gate == GateKind::per_token ? inputs[3] : Value());
        c.keyTransform = inputs[0];
        c.valueTransform = inputs[2];
        Value u = deltaValues(c, /*v=*/Value(), iterArgs[0]);
        Value state =
            tile::StateUpdateOp::create(b, loc, iterArgs[0], c.keys, u, c.logs);
        // Where a segment ends.
        Value done = e.addi(ci, e.idx(1));
        Value ends =
            e.cmpi(arith::CmpIPredicate::eq,
                   arith::RemUIOp::create(b, loc, done, perSegment), zero);
        auto ifOp = scf::IfOp::create(b, loc, TypeRange{}, ends,
                                      /*withElseRegion=*/false);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          publishAt(e.subi(arith::DivUIOp::create(b, loc, done, perSegment),
                           e.idx(1)),
                    state);
        }
        return {state};
      },
      "chain_chunks");
  // Segments that end past the sequence (the last ones may be empty) end
  // where it does.
  emitFor(
      b, loc, arith::DivUIOp::create(b, loc, chainEnd, perSegment), boundaries,
      {},
      [&](Value segment, ValueRange) -> SmallVector<Value> {
        publishAt(segment, results[0]);
        return {};
      },
      "chain_tail");
}

/// The state where this block's segment starts: the op's initial state for
/// the first segment (read there only), else the boundary before it, once
/// published.
Value LinearTileProgram::segmentStartState() {
  Value first = e.cmpi(arith::CmpIPredicate::eq, segments->index, e.idx(0));
  return emitIf(
      b, loc, first,
      [&]() -> SmallVector<Value> {
        return {initialStates(/*denominator=*/false)[0]};
      },
      [&]() -> SmallVector<Value> {
        Value before = e.subi(segments->index, e.idx(1));
        segments->await(before);
        return {t.load(stateType(), segments->boundaries, {before, zero, v0},
                       Value())};
      })[0];
}

void LinearTileProgram::build() {
  if (!term.causal)
    return buildNonCausal(initialStates(term.denominatorState));
  // Under a lag L the chunks run over the keys that some query reads:
  // [0, n - L).
  Value keys = n;
  if (lag)
    keys = arith::SubIOp::create(
        b, loc, arith::MaxUIOp::create(b, loc, n, e.idx(lag)), e.idx(lag));
  Value numChunks =
      arith::CeilDivUIOp::create(b, loc, keys, e.idx(chunk)).getResult();
  if (!segments)
    return buildCausal(zero, numChunks);
  Value perSegment =
      arith::CeilDivUIOp::create(b, loc, numChunks, segments->count);
  Value begin = arith::MinUIOp::create(
      b, loc, arith::MulIOp::create(b, loc, segments->index, perSegment),
      numChunks);
  Value end =
      arith::MinUIOp::create(b, loc, e.addi(begin, perSegment), numChunks);
  // The kinds of block are branches: nothing of one is alive in another
  // (ptxas spills the output loop when the boundary's loop comes before it
  // in one block).
  auto branch = [&](Value condition, function_ref<void()> then,
                    function_ref<void()> otherwise) {
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{}, condition,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    then();
    b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    otherwise();
  };
  if (!segments->delta)
    return branch(
        segments->boundaryBlock, [&] { publishSegmentBoundary(begin, end); },
        [&] { buildCausal(begin, end); });
  // The delta rule: with more than one segment, the three kinds of block,
  // the output blocks reading the stored transforms; with one segment,
  // which stores none, every block is an output block of the whole
  // sequence, solving each chunk's. (With a gate per token, output blocks
  // reading the transforms spilled 52 bytes for sm_90a until the state
  // update scaled K^T instead of V and the decay mask took exp2: none now.)
  branch(
      e.cmpi(arith::CmpIPredicate::eq, segments->count, e.idx(1)),
      [&] { buildCausal(begin, end); },
      [&] {
        branch(
            segments->delta->transformBlock,
            [&] { publishChunkTransforms(numChunks); },
            [&] {
              branch(
                  segments->boundaryBlock,
                  [&] {
                    // A chain block runs its part of the split's columns.
                    int64_t parts = segments->delta->chainsPerSplit;
                    int64_t columns = width / parts;
                    Value column =
                        parts == 1
                            ? v0
                            : e.addi(v0, arith::MulIOp::create(
                                             b, loc, segments->delta->chainPart,
                                             e.idx(columns)));
                    LinearTileProgram chain(e, term, kernel, bi, h, column,
                                            columns, t.layouts, segments,
                                            output);
                    chain.storedTransforms = true;
                    chain.publishDeltaBoundaries(perSegment, numChunks);
                  },
                  [&] {
                    storedTransforms = true;
                    buildCausal(begin, end);
                    storedTransforms = false;
                  });
            });
      });
}

/// The chunk loop over the chunks [begin, end) of a sequence; with
/// segments, from the state the boundaries before give, and the final state
/// written by the last segment only.
void LinearTileProgram::buildCausal(Value begin, Value end) {
  // A chunk-parallel program has no denominator state (canSplitIntoSegments).
  SmallVector<Value> states = segments ? SmallVector<Value>{segmentStartState()}
                                       : initialStates(term.denominatorState);
  loopBegin = begin;
  SmallVector<Value> finalStates = emitChunkLoop(
      begin, end, states, prefetchesInputs(),
      [&](Value t0) { return loadInputs(t0); },
      // A gate per key feature is as large as K: it is not carried but
      // read in its own chunk.
      [&](Value t0) {
        return linear.gate == GateKind::per_key
                   ? loadChunkGates(t, linear, kernel.get(KernelArgRole::Gate),
                                    bi, h, t0, n, chunk + lag)
                   : Value();
      },
      [&](Value, Value t0, ValueRange iterStates, ArrayRef<Value> inputs,
          Value perKeyGates) {
        return buildChunk(t0, iterStates, inputs, perKeyGates);
      },
      "chunks");
  if (!segments)
    return storeFinalStates(finalStates);
  Value last = e.cmpi(arith::CmpIPredicate::eq,
                      e.addi(segments->index, e.idx(1)), segments->count);
  auto ifOp =
      scf::IfOp::create(b, loc, TypeRange{}, last, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  storeFinalStates(finalStates);
}

/// Non-causal (docs/semantics.md 6.6, no gates, no delta rule): the state
/// of all the keys first, S = S_0 + sum_t phi(k_t) v_t^T (and z under
/// `denominator`), chunk by chunk; then every query reads it,
/// o_t = scale S^T phi(q_t), normalized as the causal rows are.
void LinearTileProgram::buildNonCausal(ArrayRef<Value> states) {
  bool denominator = term.normalization == LinearNormalization::denominator;
  Value numChunks =
      arith::CeilDivUIOp::create(b, loc, n, e.idx(chunk)).getResult();
  SmallVector<Value> finalStates = emitFor(
      b, loc, zero, numChunks, states,
      [&](Value ci, ValueRange carried) -> SmallVector<Value> {
        Value t0 = arith::MulIOp::create(b, loc, ci, e.idx(chunk));
        Value k = loadRows(KernelArgRole::Key, kh, t0);
        Value v = loadRows(KernelArgRole::Value, vh, t0);
        Value keys = t.withElementType(
            emitTileFeatures(t, linear, k, /*side=*/1, h), valueElement);
        SmallVector<Value> next = {
            tile::StateUpdateOp::create(b, loc, carried[0], keys, v, Value())};
        if (denominator)
          next.push_back(tile::StateUpdateOp::create(b, loc, carried[1], keys,
                                                     onesColumn(t0), Value()));
        return next;
      },
      "key_states");
  emitFor(
      b, loc, zero, numChunks, {},
      [&](Value ci, ValueRange) -> SmallVector<Value> {
        Value t0 = arith::MulIOp::create(b, loc, ci, e.idx(chunk));
        Value q = loadRows(KernelArgRole::Query, h, t0);
        Value qf = emitTileFeatures(t, linear, q, /*side=*/0, h);
        Type operandElement =
            cast<tile::TileType>(qf.getType()).getElementType();
        auto read = [&](Value state) {
          int64_t columns = cast<tile::TileType>(state.getType()).getColumns();
          tile::TileType outType = t.tileOf({chunk, columns}, t.f32(), acc());
          Value product = tile::MatmulOp::create(
              b, loc, qf, t.rhsOperand(state, operandElement), t.zeros(outType),
              false, false);
          return t.map(outType, product, {-1},
                       [&](OpBuilder &nb, ValueRange, ValueRange x) {
                         return FloatMath{nb, loc}.mul(
                             x[0], FloatMath{nb, loc}.c(scale));
                       });
        };
        Value out = normalize(read(finalStates[0]),
                              [&] { return read(finalStates[1]); });
        tile::StoreOp::create(b, loc, out, kernel.get(KernelArgRole::Output),
                              ValueRange{bi, h, t0, v0}, n);
        return {};
      },
      "query_outputs");
  storeFinalStates(finalStates);
}

/// Emits the linear tile program of `op` (see LinearTileProgram).
void mlir::attn::emitLinearTileProgram(Emitter &e, LinearAttentionOp op,
                                       const Kernel &kernel, Value bi, Value h,
                                       Value v0, int64_t width,
                                       const TileLayouts &layouts,
                                       const ChunkSegments *segments) {
  assert((!segments || canSplitIntoSegments(op)) &&
         "no chunk-parallel form for this op");
  LinearTileProgram(e, LinearTerm::of(op), kernel, bi, h, v0, width, layouts,
                    segments, /*output=*/nullptr)
      .build();
}

void mlir::attn::emitLinearTermProgram(Emitter &e, const LinearTerm &term,
                                       const Kernel &kernel, Value bi, Value h,
                                       const LinearChunkOutput &output,
                                       const TileLayouts &layouts) {
  assert(term.causal && (!term.lag || term.update == UpdateRule::additive) &&
         "no tile program for this linear term");
  LinearTileProgram(e, term, kernel, bi, h, e.idx(0), term.shape.valueDim,
                    layouts, /*segments=*/nullptr, &output)
      .build();
}

/// The denominators' state is not split.
bool mlir::attn::canSplitIntoSegments(LinearAttentionOp op) {
  return op.getCausal() &&
         op.getNormalization() != LinearNormalization::denominator;
}

/// The value columns one block of the tensor-core linear kernel handles;
/// the grid's z axis runs over the Dv / width splits. 64 where Dv allows:
/// measured on the H200 (bench/NOTES.md), 64 columns (255 registers, 2
/// blocks an SM) beat 32 (168 registers, 3 blocks) 1.5-2x at 2K and 8K
/// tokens per sequence (half the recomputed Q K^T, and 64K tokens at
/// H = 16 fit one wave) and tie at 32K. rms_norm needs the whole row in
/// one block. With an initial or final state, 64 columns spill (ptxas: 32
/// bytes at Dk = 128), so those take 32. The delta rule recomputes K K^T,
/// its UT solve and the scores for every block, so it gains the most from
/// 64 columns (gated, Dk = 128: 1.8x on the H200 at 2K and 8K tokens,
/// bench/NOTES.md). It fits in registers at Dk = 64; at Dk = 128 with a
/// gate per token or none, and only for sm_90 (ptxas spills 52 and 32 bytes
/// for sm_80, and 4 bytes with a gate per head for sm_90a), so the others
/// take 32. test/ptx checks each kind.
int64_t mlir::attn::getTensorCoreValueColumns(LinearAttentionOp op,
                                              StringRef chip) {
  int64_t valueDim = getHeadShape(op).valueDim;
  if (op.getNormalization() == LinearNormalization::rms_norm)
    return valueDim;
  bool states = op.getInitialState() || op.getFinalState();
  bool deltaFits = op.getUpdate() != UpdateRule::delta ||
                   getHeadShape(op).keyDim == 64 ||
                   ((getLinearSpec(op).gate == GateKind::per_token ||
                     getLinearSpec(op).gate == GateKind::none) &&
                    chip.starts_with("sm_90"));
  return valueDim % 64 == 0 && !states && deltaFits ? 64 : 32;
}

/// Whether the linear tile program runs on the mma.sync strategy for `op`:
/// causal, additive or delta, bf16 or f16 storage, the identity feature map,
/// any gate (in f32 when per key feature), no normalization (or rms_norm with
/// Dv 32 or 64, the row in one block; not `denominator`), chunks of 64, Dk a
/// multiple of 64 up to 128 and Dv a multiple of 32.
bool mlir::attn::canRunLinearOnTensorCores(LinearAttentionOp op,
                                           const Kernel &kernel,
                                           StringRef chip) {
  LinearSpec linear = getLinearSpec(op);
  HeadShape shape = getHeadShape(op);
  auto element = [&](KernelArgRole role) {
    return cast<MemRefType>(kernel.get(role).getType()).getElementType();
  };
  Type storage = element(KernelArgRole::Query);
  bool sixteenBit = (storage.isBF16() || storage.isF16()) &&
                    element(KernelArgRole::Key) == storage &&
                    element(KernelArgRole::Value) == storage;
  int64_t columns = getTensorCoreValueColumns(op, chip);
  // A gate per key feature is staged in shared memory by 16-byte copies of
  // its own type: f32.
  bool gates =
      linear.gate != GateKind::per_key || element(KernelArgRole::Gate).isF32();
  // The denominators' state is one column wide, narrower than an MMA tile.
  bool denominator = op.getNormalization() == LinearNormalization::denominator;
  // Elementwise feature maps (named or a region) are a map over each
  // loaded Q and K tile; taylor2 and hedgehog change the feature width.
  FeatureMap map = linear.featureMap.value_or(FeatureMap::identity);
  bool elementwise = linear.featureMapRegion || map == FeatureMap::identity ||
                     map == FeatureMap::relu || map == FeatureMap::elu_plus_one;
  return sixteenBit && gates && !denominator && op.getCausal() && elementwise &&
         (columns == 32 || columns == 64) && shape.valueDim % columns == 0 &&
         op.getChunkSize() == 64 && shape.keyDim % 64 == 0 &&
         shape.keyDim <= 128;
}
