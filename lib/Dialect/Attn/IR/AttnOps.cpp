//===- AttnOps.cpp - attn spec-level op verifiers
//--------------------------===//
//
/// \file
/// Verifiers of attn.attention, attn.linear_attention and attn.hybrid. Each
/// diagnostic says what is wrong and what is allowed; the exact meaning of
/// the ops is in docs/semantics.md.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

namespace {
/// Dimension positions of the [batch, heads, seq, head_dim] layout.
enum Dim : unsigned { kBatch = 0, kHeads = 1, kSeq = 2, kHeadDim = 3 };
} // namespace

/// Prints a shape as `[2, ?, 16]`.
static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t dim) {
    if (ShapedType::isDynamic(dim))
      os << "?";
    else
      os << dim;
  });
  os << "]";
  return text;
}

/// Whether `actual` can hold a tensor of shape `expected`: same rank, and
/// every dimension static on both sides agrees. Dynamic dimensions are
/// checked by the runtime.
static bool isCompatibleShape(ArrayRef<int64_t> actual,
                              ArrayRef<int64_t> expected) {
  if (actual.size() != expected.size())
    return false;
  for (auto [a, e] : llvm::zip_equal(actual, expected))
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(e) && a != e)
      return false;
  return true;
}

static LogicalResult verifyOperandShape(Operation *op, StringRef what,
                                        Type type, ArrayRef<int64_t> expected,
                                        StringRef layout) {
  auto tensor = cast<RankedTensorType>(type);
  if (isCompatibleShape(tensor.getShape(), expected))
    return success();
  return op->emitOpError() << what << " must have shape "
                           << shapeString(expected) << " (" << layout
                           << "), got " << type;
}

/// Requires the result type to be exactly `elementType` over `shape`.
static LogicalResult verifyResultType(Operation *op, StringRef what,
                                      Type actual, ArrayRef<int64_t> shape,
                                      Type elementType, StringRef layout) {
  auto expected = RankedTensorType::get(shape, elementType);
  if (actual == expected)
    return success();
  return op->emitOpError() << what << " type must be " << expected << " ("
                           << layout << "), got " << actual;
}

/// The scale attribute's value, or `fallback` when it is absent.
static float scaleOr(FloatAttr scale, float fallback) {
  return scale ? static_cast<float>(scale.getValueAsDouble()) : fallback;
}

/// 1/sqrt(Dk), the default scale of <q, k>.
static float inverseSqrtHeadDim(RankedTensorType query) {
  return 1.0f / std::sqrt(static_cast<float>(query.getDimSize(3)));
}

float AttentionOp::getEffectiveScale() {
  return scaleOr(getScaleAttr(), inverseSqrtHeadDim(getQuery().getType()));
}

float LinearAttentionOp::getEffectiveScale() {
  return scaleOr(getScaleAttr(), inverseSqrtHeadDim(getQuery().getType()));
}

float HybridOp::getEffectiveScale() {
  return scaleOr(getScaleAttr(), inverseSqrtHeadDim(getQuery().getType()));
}

float HybridOp::getEffectiveLinearScale() {
  return scaleOr(getLinearScaleAttr(), 1.0f);
}

static LogicalResult verifyScale(Operation *op, StringRef name,
                                 std::optional<float> scale) {
  if (!scale || (std::isfinite(*scale) && *scale > 0))
    return success();
  return op->emitOpError() << "'" << name
                           << "' must be a positive finite number, got "
                           << *scale;
}

/// Rejects attributes `op` does not define. MLIR keeps an attribute it does
/// not know as a discardable one, so a misspelt or misplaced attribute
/// (`mask` on attn.linear_attention) would otherwise be silently ignored.
/// Dialect-prefixed names (`foo.bar`) belong to their dialect and pass.
static LogicalResult verifyKnownAttributes(Operation *op) {
  for (NamedAttribute attr : op->getDiscardableAttrs()) {
    if (attr.getName().strref().contains('.'))
      continue;
    InFlightDiagnostic diag = op->emitOpError()
                              << "has no attribute '"
                              << attr.getName().getValue() << "'; it takes ";
    auto stated = llvm::make_filter_range(
        op->getName().getAttributeNames(), [](StringAttr name) {
          return !name.strref().ends_with("SegmentSizes");
        });
    llvm::interleaveComma(stated, diag, [&](StringAttr name) {
      diag << "'" << name.getValue() << "'";
    });
    return diag;
  }
  return success();
}

namespace {
/// Static facts about q, k, v that every op's verifier needs.
struct HeadLayout {
  RankedTensorType query, key, value;
  int64_t queryHeads, keyHeads, valueHeads;
  int64_t keyDim, valueDim;
};
} // namespace

/// Checks the rules shared by every op: one element type, static head
/// counts and head dims, matching Dk, head counts that divide, agreeing
/// batch and key/value lengths. With `selfAttention`, also Nq == Nk.
static FailureOr<HeadLayout> verifyHeadLayout(Operation *op, Value query,
                                              Value key, Value value,
                                              bool selfAttention) {
  HeadLayout layout;
  layout.query = cast<RankedTensorType>(query.getType());
  layout.key = cast<RankedTensorType>(key.getType());
  layout.value = cast<RankedTensorType>(value.getType());
  if (layout.query.getElementType() != layout.key.getElementType() ||
      layout.query.getElementType() != layout.value.getElementType())
    return op->emitOpError()
           << "query, key and value must share one element type, got "
           << layout.query.getElementType() << ", "
           << layout.key.getElementType() << " and "
           << layout.value.getElementType();

  for (auto [name, type] :
       {std::pair{"query", layout.query}, std::pair{"key", layout.key},
        std::pair{"value", layout.value}}) {
    for (auto [dim, dimName] : {std::pair{kHeads, "head count (dim 1)"},
                                std::pair{kHeadDim, "head dim (dim 3)"}}) {
      int64_t size = type.getDimSize(dim);
      if (ShapedType::isDynamic(size))
        return op->emitOpError()
               << name << " " << dimName << " must be static, got " << type;
      if (size <= 0)
        return op->emitOpError()
               << name << " " << dimName << " must be positive, got " << type;
    }
    if (type.getDimSize(kHeadDim) > kMaxHeadDim)
      return op->emitOpError() << name << " head dim (dim 3) must be at most "
                               << kMaxHeadDim << ", got " << type;
  }
  layout.queryHeads = layout.query.getDimSize(kHeads);
  layout.keyHeads = layout.key.getDimSize(kHeads);
  layout.valueHeads = layout.value.getDimSize(kHeads);
  layout.keyDim = layout.key.getDimSize(kHeadDim);
  layout.valueDim = layout.value.getDimSize(kHeadDim);

  if (layout.keyDim != layout.query.getDimSize(kHeadDim))
    return op->emitOpError() << "key head dim (" << layout.keyDim
                             << ") must equal query head dim ("
                             << layout.query.getDimSize(kHeadDim) << ")";
  for (auto [name, heads] : {std::pair{"key", layout.keyHeads},
                             std::pair{"value", layout.valueHeads}})
    if (layout.queryHeads % heads != 0)
      return op->emitOpError() << "query heads (" << layout.queryHeads
                               << ") must be a multiple of " << name
                               << " heads (" << heads << ")";

  auto agree = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  for (auto [name, type] :
       {std::pair{"key", layout.key}, std::pair{"value", layout.value}})
    if (!agree(type.getDimSize(kBatch), layout.query.getDimSize(kBatch)))
      return op->emitOpError() << name << " batch (" << type.getDimSize(kBatch)
                               << ") must equal query batch ("
                               << layout.query.getDimSize(kBatch) << ")";
  if (!agree(layout.value.getDimSize(kSeq), layout.key.getDimSize(kSeq)))
    return op->emitOpError()
           << "value sequence length (" << layout.value.getDimSize(kSeq)
           << ") must equal key sequence length ("
           << layout.key.getDimSize(kSeq) << ")";
  if (selfAttention &&
      !agree(layout.key.getDimSize(kSeq), layout.query.getDimSize(kSeq)))
    return op->emitOpError()
           << "key sequence length (" << layout.key.getDimSize(kSeq)
           << ") must equal query sequence length ("
           << layout.query.getDimSize(kSeq)
           << "): this op is causal self-attention";
  return layout;
}

/// The output of every op: [B, Hq, Nq, Dv] in the query's element type.
static LogicalResult verifyOutput(Operation *op, const HeadLayout &layout,
                                  Type output) {
  return verifyResultType(op, "output", output,
                          {layout.query.getDimSize(kBatch), layout.queryHeads,
                           layout.query.getDimSize(kSeq), layout.valueDim},
                          layout.query.getElementType(),
                          "batch, query heads, queries, value dim");
}

//===----------------------------------------------------------------------===//
// Region helpers
//===----------------------------------------------------------------------===//

/// Checks that a non-empty region takes `arguments`, holds only
/// side-effect-free ops, and yields exactly one `result`. `signature`
/// spells the expected signature for the message.
static LogicalResult verifyRegion(Operation *op, Region &region, StringRef name,
                                  TypeRange arguments, Type result,
                                  StringRef signature) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getNumArguments() != arguments.size())
    return op->emitOpError()
           << "'" << name << "' region must take " << arguments.size()
           << " arguments " << signature << ", got " << block.getNumArguments();
  for (auto [index, pair] :
       llvm::enumerate(llvm::zip(block.getArgumentTypes(), arguments))) {
    auto [actual, expected] = pair;
    if (actual != expected)
      return op->emitOpError()
             << "'" << name << "' region argument #" << index << " must be "
             << expected << " " << signature << ", got " << actual;
  }
  for (Operation &nested : block.without_terminator())
    if (!isMemoryEffectFree(&nested))
      return nested.emitOpError()
             << "has side effects; the '" << name << "' region of "
             << op->getName() << " may only hold side-effect-free ops";
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op->emitOpError()
           << "'" << name << "' region must end in attn.yield";
  ValueRange values = yield.getValues();
  if (values.size() != 1)
    return yield.emitOpError()
           << "must yield exactly one " << result << " from the '" << name
           << "' region, got " << values.size() << " values";
  if (values.front().getType() != result)
    return yield.emitOpError()
           << "must yield " << result << " from the '" << name
           << "' region, got " << values.front().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Linear-term helpers, shared by attn.linear_attention and attn.hybrid
//===----------------------------------------------------------------------===//

namespace {
/// What the linear term of an op states.
struct LinearTerm {
  std::optional<FeatureMap> featureMap;
  bool hasFeatureMapRegion;
  Value featureWeights;
  GateKind gate;
  Value gateValues;
  std::optional<LinearNormalization> normalization;
  std::optional<float> normEps;
  bool causal;
};
} // namespace

/// Checks the feature map, gate and normalization of a linear term and
/// returns the feature dim F.
static FailureOr<int64_t> verifyLinearTerm(Operation *op,
                                           const HeadLayout &layout,
                                           const LinearTerm &term) {
  int64_t keyDim = layout.keyDim;
  if (term.featureMap && term.hasFeatureMapRegion)
    return op->emitOpError() << "feature map given both as attribute ("
                             << stringifyFeatureMap(*term.featureMap)
                             << ") and as a region; give one";
  FeatureMap map = term.featureMap.value_or(FeatureMap::identity);
  bool hedgehog = map == FeatureMap::hedgehog && !term.hasFeatureMapRegion;
  if (hedgehog && !term.featureWeights)
    return op->emitOpError()
           << "feature map hedgehog needs feature_weights(...) of shape [2, "
           << layout.queryHeads << ", " << keyDim << ", M]";
  if (!hedgehog && term.featureWeights)
    return op->emitOpError()
           << "feature_weights are only used by the hedgehog feature map";

  int64_t featureDim = keyDim;
  if (!term.hasFeatureMapRegion && map == FeatureMap::taylor2)
    featureDim = 1 + keyDim + keyDim * keyDim;
  if (hedgehog) {
    auto weights = cast<RankedTensorType>(term.featureWeights.getType());
    if (weights.getRank() != 4 ||
        !isCompatibleShape(weights.getShape().take_front(3),
                           {2, layout.queryHeads, keyDim}) ||
        ShapedType::isDynamic(weights.getDimSize(3)))
      return op->emitOpError()
             << "feature_weights must have shape [2, " << layout.queryHeads
             << ", " << keyDim
             << ", M] (query/key, heads, key dim, static width), got "
             << weights;
    // Compared before doubling, which could overflow.
    if (weights.getDimSize(3) > kMaxFeatureDim / 2)
      return op->emitOpError()
             << "feature_weights' width M gives 2M features; at most "
             << kMaxFeatureDim
             << " are allowed, got M = " << weights.getDimSize(3);
    featureDim = 2 * weights.getDimSize(3);
  }
  if (featureDim > kMaxFeatureDim)
    return op->emitOpError()
           << "the feature map gives " << featureDim << " features; at most "
           << kMaxFeatureDim << " are allowed";

  int64_t batch = layout.query.getDimSize(kBatch);
  int64_t seq = layout.query.getDimSize(kSeq);
  if (term.gate == GateKind::none && term.gateValues)
    return op->emitOpError() << "gate(...) values given but the gate kind is "
                                "none; set gate = #attn.gate<per_head>, "
                                "<per_token> or <per_key>";
  if (term.gate != GateKind::none) {
    if (!term.gateValues)
      return op->emitOpError() << "gate kind " << stringifyGateKind(term.gate)
                               << " needs gate(...) values";
    if (!term.causal)
      return op->emitOpError()
             << "gates decay the recurrent state and need a causal spec";
    Type type = term.gateValues.getType();
    switch (term.gate) {
    case GateKind::per_head:
      if (failed(verifyOperandShape(op, "per_head gate", type,
                                    {layout.queryHeads}, "query heads")))
        return failure();
      break;
    case GateKind::per_token:
      if (failed(verifyOperandShape(op, "per_token gate", type,
                                    {batch, layout.queryHeads, seq},
                                    "batch, query heads, sequence")))
        return failure();
      break;
    case GateKind::per_key:
      if (failed(
              verifyOperandShape(op, "per_key gate", type,
                                 {batch, layout.queryHeads, seq, featureDim},
                                 "batch, query heads, sequence, feature dim")))
        return failure();
      break;
    case GateKind::none:
      break;
    }
  }

  bool rmsNorm = term.normalization == LinearNormalization::rms_norm;
  if (term.normEps && !rmsNorm)
    return op->emitOpError() << "'norm_eps' is only used by normalization "
                                "rms_norm";
  if (term.normEps && !(std::isfinite(*term.normEps) && *term.normEps > 0))
    return op->emitOpError() << "'norm_eps' must be a positive finite number, "
                                "got "
                             << *term.normEps;
  return featureDim;
}

static LogicalResult verifyFeatureMapRegion(Operation *op, Region &region) {
  Type f32 = Float32Type::get(op->getContext());
  return verifyRegion(op, region, "feature_map", {f32}, f32, "(x: f32)");
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

/// Whether `mask` or one of the masks it combines is `#attn.document`.
static bool usesDocumentMask(Attribute mask) {
  bool found = false;
  mask.walk([&](DocumentAttr) { found = true; });
  return found;
}

static std::optional<float> optionalFloat(FloatAttr attr) {
  if (!attr)
    return std::nullopt;
  return static_cast<float>(attr.getValueAsDouble());
}

/// Checks the block_mask operands and block_size of an attention op.
static LogicalResult verifyBlockMask(AttentionOp op, int64_t batch,
                                     int64_t heads, int64_t numQueries) {
  Value lists[] = {op.getKvNumBlocks(), op.getKvIndices(),
                   op.getFullKvNumBlocks(), op.getFullKvIndices()};
  int given = llvm::count_if(lists, [](Value v) { return v != nullptr; });
  std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize();
  if (given == 0) {
    if (blockSize)
      return op.emitOpError() << "'block_size' is only used with block_mask";
    return success();
  }
  if (given != 4)
    return op.emitOpError() << "block_mask needs kv_num_blocks, kv_indices, "
                               "full_kv_num_blocks and full_kv_indices";
  if (!blockSize)
    return op.emitOpError()
           << "block_mask needs 'block_size' = array<i64: BQ, BK>";
  if (blockSize->size() != 2 ||
      llvm::any_of(*blockSize, [](int64_t s) { return s <= 0; }))
    return op.emitOpError() << "'block_size' must hold two positive sizes "
                               "(query block, key block)";
  if (llvm::any_of(*blockSize, [](int64_t s) { return s > kMaxBlockSize; }))
    return op.emitOpError()
           << "'block_size' sizes must be at most " << kMaxBlockSize
           << ", got [" << (*blockSize)[0] << ", " << (*blockSize)[1] << "]";
  int64_t queryBlocks = ShapedType::kDynamic;
  if (!ShapedType::isDynamic(numQueries))
    queryBlocks = llvm::divideCeil(numQueries, (*blockSize)[0]);
  StringRef layout = "batch, query heads, query blocks";
  for (auto [name, count] : {std::pair{"kv_num_blocks", lists[0]},
                             std::pair{"full_kv_num_blocks", lists[2]}})
    if (failed(verifyOperandShape(op, name, count.getType(),
                                  {batch, heads, queryBlocks}, layout)))
      return failure();
  for (auto [name, indices] : {std::pair{"kv_indices", lists[1]},
                               std::pair{"full_kv_indices", lists[3]}})
    if (failed(verifyOperandShape(
            op, name, indices.getType(),
            {batch, heads, queryBlocks, ShapedType::kDynamic},
            "batch, query heads, query blocks, list length")))
      return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyKnownAttributes(*this)))
    return failure();
  FailureOr<HeadLayout> layout =
      verifyHeadLayout(*this, getQuery(), getKey(), getValue(),
                       /*selfAttention=*/false);
  if (failed(layout))
    return failure();
  if (failed(verifyOutput(*this, *layout, getOutput().getType())))
    return failure();
  if (failed(verifyScale(*this, "scale", optionalFloat(getScaleAttr()))))
    return failure();

  int64_t batch = layout->query.getDimSize(kBatch);
  int64_t numQueries = layout->query.getDimSize(kSeq);
  int64_t numKeys = layout->key.getDimSize(kSeq);
  Normalization normalization = getNormalization();

  if (getLse()) {
    if (normalization != Normalization::softmax)
      return emitOpError() << "the log-sum-exp result needs normalization "
                              "softmax, got "
                           << stringifyNormalization(normalization);
    if (failed(verifyResultType(*this, "lse", getLse().getType(),
                                {batch, layout->queryHeads, numQueries},
                                Float32Type::get(getContext()),
                                "batch, query heads, queries")))
      return failure();
  }

  if (getSigmoidBiasAttr() && normalization != Normalization::sigmoid)
    return emitOpError() << "'sigmoid_bias' is only used by normalization "
                            "sigmoid";
  if (!getSigmoidBiasAttr() && normalization == Normalization::sigmoid)
    return emitOpError() << "normalization sigmoid needs a 'sigmoid_bias' "
                            "(for example -log(Nk))";
  if (normalization == Normalization::l1 && getL1Map().empty())
    return emitOpError() << "normalization l1 needs an 'l1_map' region giving "
                            "the non-negative map";
  if (normalization != Normalization::l1 && !getL1Map().empty())
    return emitOpError() << "an 'l1_map' region needs normalization l1, got "
                         << stringifyNormalization(normalization);

  bool hasSegmentIds = getQuerySegmentIds() || getKeySegmentIds();
  if (hasSegmentIds) {
    if (!getQuerySegmentIds() || !getKeySegmentIds())
      return emitOpError() << "segment_ids needs both query and key segment "
                              "ids";
    if (failed(verifyOperandShape(*this, "query segment ids",
                                  getQuerySegmentIds().getType(),
                                  {batch, numQueries}, "batch, queries")) ||
        failed(verifyOperandShape(*this, "key segment ids",
                                  getKeySegmentIds().getType(),
                                  {batch, numKeys}, "batch, keys")))
      return failure();
    if (!getMaskAttr() || !usesDocumentMask(getMaskAttr()))
      return emitOpError() << "segment_ids are given but no #attn.document "
                              "mask reads them";
  }

  if (failed(verifyBlockMask(*this, batch, layout->queryHeads, numQueries)))
    return failure();

  if (MaskAttrInterface mask = getMaskAttr()) {
    MaskOpInfo info;
    info.numQueryHeads = layout->queryHeads;
    if (!ShapedType::isDynamic(numQueries))
      info.numQueries = numQueries;
    if (!ShapedType::isDynamic(numKeys))
      info.numKeys = numKeys;
    info.hasSegmentIds = hasSegmentIds;
    if (failed(mask.verifyForOp(info, [&] { return emitOpError(); })))
      return failure();
  }
  return success();
}

LogicalResult AttentionOp::verifyRegions() {
  MLIRContext *ctx = getContext();
  Type f32 = Float32Type::get(ctx);
  Type index = IndexType::get(ctx);
  Type i1 = IntegerType::get(ctx, 1);
  SmallVector<Type> captures(getCaptures().getTypes());
  std::string captureNote =
      captures.empty() ? ""
                       : " then the " + std::to_string(captures.size()) +
                             " captured tensors";

  SmallVector<Type> scoreArgs = {f32, index, index, index, index};
  scoreArgs.append(captures);
  if (failed(verifyRegion(*this, getScoreMod(), "score_mod", scoreArgs, f32,
                          "(s: f32, b, h, i, j: index" + captureNote + ")")))
    return failure();

  SmallVector<Type> maskArgs = {index, index, index, index};
  maskArgs.append(captures);
  if (failed(verifyRegion(*this, getMaskMod(), "mask_mod", maskArgs, i1,
                          "(b, h, i, j: index" + captureNote + ")")))
    return failure();

  SmallVector<Type> mapArgs = {f32};
  mapArgs.append(captures);
  return verifyRegion(*this, getL1Map(), "l1_map", mapArgs, f32,
                      "(s: f32" + captureNote + ")");
}

//===----------------------------------------------------------------------===//
// LinearAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult LinearAttentionOp::verify() {
  if (failed(verifyKnownAttributes(*this)))
    return failure();
  FailureOr<HeadLayout> layout =
      verifyHeadLayout(*this, getQuery(), getKey(), getValue(),
                       /*selfAttention=*/true);
  if (failed(layout))
    return failure();
  if (failed(verifyOutput(*this, *layout, getOutput().getType())))
    return failure();
  if (failed(verifyScale(*this, "scale", optionalFloat(getScaleAttr()))))
    return failure();

  LinearNormalization normalization = getNormalization();
  LinearTerm term{getFeatureMap(),
                  !getFeatureMapRegion().empty(),
                  getFeatureWeights(),
                  getGate(),
                  getGateValues(),
                  normalization,
                  optionalFloat(getNormEpsAttr()),
                  getCausal()};
  FailureOr<int64_t> featureDim = verifyLinearTerm(*this, *layout, term);
  if (failed(featureDim))
    return failure();

  int64_t batch = layout->query.getDimSize(kBatch);
  int64_t seq = layout->query.getDimSize(kSeq);
  if (getUpdate() == UpdateRule::delta) {
    if (!getCausal())
      return emitOpError() << "the delta rule is a recurrence and needs a "
                              "causal spec";
    if (!getBeta())
      return emitOpError() << "the delta rule needs beta(...) values of shape "
                           << shapeString({batch, layout->queryHeads, seq});
    if (getGate() == GateKind::per_key)
      return emitOpError() << "the delta rule supports gates none, per_head "
                              "and per_token, got per_key";
    if (normalization == LinearNormalization::denominator)
      return emitOpError() << "the delta rule supports normalization none and "
                              "rms_norm, got denominator";
    if (failed(verifyOperandShape(*this, "beta", getBeta().getType(),
                                  {batch, layout->queryHeads, seq},
                                  "batch, query heads, sequence")))
      return failure();
  } else if (getBeta()) {
    return emitOpError() << "beta(...) is only used by the delta rule "
                            "(update = #attn.update<delta>)";
  }

  // The state carries z, the running sum of features, as one more column
  // under the denominator normalization.
  int64_t stateColumns =
      layout->valueDim + (normalization == LinearNormalization::denominator);
  SmallVector<int64_t> stateShape = {batch, layout->queryHeads, *featureDim,
                                     stateColumns};
  StringRef stateLayout = "batch, query heads, feature dim, value dim (+1 "
                          "for z under denominator)";
  if (getInitialState() &&
      failed(verifyOperandShape(*this, "initial_state",
                                getInitialState().getType(), stateShape,
                                stateLayout)))
    return failure();
  if (getFinalState() &&
      failed(verifyResultType(*this, "final_state", getFinalState().getType(),
                              stateShape, Float32Type::get(getContext()),
                              stateLayout)))
    return failure();
  return success();
}

LogicalResult LinearAttentionOp::verifyRegions() {
  return verifyFeatureMapRegion(*this, getFeatureMapRegion());
}

//===----------------------------------------------------------------------===//
// HybridOp
//===----------------------------------------------------------------------===//

LogicalResult HybridOp::verify() {
  if (failed(verifyKnownAttributes(*this)))
    return failure();
  FailureOr<HeadLayout> layout =
      verifyHeadLayout(*this, getQuery(), getKey(), getValue(),
                       /*selfAttention=*/true);
  if (failed(layout))
    return failure();
  if (failed(verifyOutput(*this, *layout, getOutput().getType())))
    return failure();
  if (failed(verifyScale(*this, "scale", optionalFloat(getScaleAttr()))) ||
      failed(verifyScale(*this, "linear_scale",
                         optionalFloat(getLinearScaleAttr()))))
    return failure();

  if (std::optional<ArrayRef<float>> weights = getWeights()) {
    if (weights->size() != 2)
      return emitOpError() << "'weights' must hold 2 values (softmax term, "
                              "linear term), got "
                           << weights->size();
    if (!llvm::all_of(*weights, [](float w) { return std::isfinite(w); }))
      return emitOpError() << "'weights' must be finite";
  }

  std::optional<LinearNormalization> normalization = getNormalization();
  if (getCombine() == HybridCombine::shared_denominator && normalization)
    return emitOpError() << "combine shared_denominator normalizes both terms "
                            "by one denominator; 'normalization' must be unset";

  LinearTerm term{getFeatureMap(),
                  !getFeatureMapRegion().empty(),
                  getFeatureWeights(),
                  getGate(),
                  getGateValues(),
                  normalization,
                  optionalFloat(getNormEpsAttr()),
                  /*causal=*/true};
  return verifyLinearTerm(*this, *layout, term);
}

LogicalResult HybridOp::verifyRegions() {
  return verifyFeatureMapRegion(*this, getFeatureMapRegion());
}
