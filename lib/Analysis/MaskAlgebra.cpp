//===- MaskAlgebra.cpp - Simplifying and classifying named masks ----------===//
//
/// \file
/// Simplification works bottom-up:
///  1. simplify the operands of and/or/per_head;
///  2. expand prefix_lm<P> into or<[causal, sinks<P>]>;
///  3. flatten nested combinators of the same kind and drop duplicates;
///  4. merge what one combinator can state in one mask:
///     - and: causal masks of one alignment keep the smallest offset,
///       windows of one alignment intersect, and a window and-ed with a
///       causal mask of offset c >= 0 of its alignment absorbs it with
///       right = min(right, c);
///     - or: causal masks of one alignment keep the largest offset, and
///       sinks keep the largest count;
///  5. order the merged operands canonically: per alignment (bottom_right,
///     then top_left) the causal mask and the window, then sinks, then the
///     other operands in their first-seen order;
///  6. unwrap a combinator left with one operand.
//
//===----------------------------------------------------------------------===//

#include "attn/Analysis/MaskAlgebra.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
enum class Combinator { And, Or };
} // namespace

/// Appends the operands of `mask` to `out`, splicing in the operands of
/// nested combinators of the same kind.
static void flattenInto(Combinator kind, Attribute mask,
                        llvm::SetVector<Attribute> &out) {
  if (kind == Combinator::And) {
    if (auto nested = dyn_cast<AndAttr>(mask)) {
      for (Attribute operand : nested.getMasks())
        flattenInto(kind, operand, out);
      return;
    }
  } else if (auto nested = dyn_cast<OrAttr>(mask)) {
    for (Attribute operand : nested.getMasks())
      flattenInto(kind, operand, out);
    return;
  }
  out.insert(mask);
}

/// Merges the causal masks, windows and sinks of one combinator.
static SmallVector<Attribute> mergeOperands(Combinator kind,
                                            ArrayRef<Attribute> operands) {
  bool isAnd = kind == Combinator::And;
  // One merged causal mask and window per alignment, and one sink mask.
  std::optional<CausalAttr> causal[2];
  std::optional<SlidingWindowAttr> window[2];
  std::optional<SinksAttr> sinks;
  SmallVector<Attribute> rest;
  for (Attribute operand : operands) {
    if (auto c = dyn_cast<CausalAttr>(operand)) {
      auto &slot = causal[static_cast<unsigned>(c.getAlign())];
      if (!slot || (isAnd ? c.getOffset() < slot->getOffset()
                          : c.getOffset() > slot->getOffset()))
        slot = c;
      continue;
    }
    if (auto w = dyn_cast<SlidingWindowAttr>(operand); w && isAnd) {
      auto &slot = window[static_cast<unsigned>(w.getAlign())];
      slot = !slot
                 ? w
                 : SlidingWindowAttr::get(
                       w.getContext(), std::min(w.getLeft(), slot->getLeft()),
                       std::min(w.getRight(), slot->getRight()), w.getAlign());
      continue;
    }
    if (auto s = dyn_cast<SinksAttr>(operand); s && !isAnd) {
      if (!sinks || s.getCount() > sinks->getCount())
        sinks = s;
      continue;
    }
    rest.push_back(operand);
  }

  SmallVector<Attribute> merged;
  for (unsigned align = 0; align < 2; ++align) {
    std::optional<CausalAttr> &c = causal[align];
    std::optional<SlidingWindowAttr> &w = window[align];
    if (isAnd && c && w && c->getOffset() >= 0) {
      // j <= i' + c and i' - L <= j <= i' + R is the window with
      // right = min(R, c).
      w = SlidingWindowAttr::get(w->getContext(), w->getLeft(),
                                 std::min(w->getRight(), c->getOffset()),
                                 w->getAlign());
      c.reset();
    }
    if (c)
      merged.push_back(*c);
    if (w)
      merged.push_back(*w);
  }
  if (sinks)
    merged.push_back(*sinks);
  merged.append(rest);
  return merged;
}

static Attribute simplifyCombinator(Combinator kind, ArrayRef<Attribute> masks,
                                    MLIRContext *context) {
  llvm::SetVector<Attribute> flat;
  for (Attribute mask : masks)
    flattenInto(kind, simplifyMask(cast<MaskAttrInterface>(mask)), flat);
  SmallVector<Attribute> merged = mergeOperands(kind, flat.getArrayRef());
  if (merged.size() == 1)
    return merged.front();
  if (kind == Combinator::And)
    return AndAttr::get(context, merged);
  return OrAttr::get(context, merged);
}

MaskAttrInterface mlir::attn::simplifyMask(MaskAttrInterface mask) {
  MLIRContext *context = mask.getContext();
  if (auto prefix = dyn_cast<PrefixLMAttr>(mask)) {
    Attribute parts[] = {SinksAttr::get(context, prefix.getPrefix()),
                         CausalAttr::get(context, /*offset=*/0,
                                         DiagonalAlignment::bottom_right)};
    return cast<MaskAttrInterface>(
        simplifyCombinator(Combinator::Or, parts, context));
  }
  if (auto conjunction = dyn_cast<AndAttr>(mask))
    return cast<MaskAttrInterface>(
        simplifyCombinator(Combinator::And, conjunction.getMasks(), context));
  if (auto disjunction = dyn_cast<OrAttr>(mask))
    return cast<MaskAttrInterface>(
        simplifyCombinator(Combinator::Or, disjunction.getMasks(), context));
  if (auto perHead = dyn_cast<PerHeadAttr>(mask)) {
    SmallVector<Attribute> patterns;
    for (Attribute pattern : perHead.getPatterns())
      patterns.push_back(simplifyMask(cast<MaskAttrInterface>(pattern)));
    // Only the patterns some head uses matter.
    llvm::SetVector<int64_t> used(perHead.getHeads().begin(),
                                  perHead.getHeads().end());
    if (used.size() == 1)
      return cast<MaskAttrInterface>(patterns[used.front()]);
    return cast<MaskAttrInterface>(
        PerHeadAttr::get(context, patterns, perHead.getHeads()));
  }
  return mask;
}

int64_t TileMap::count(BlockKind kind) const {
  int64_t total = 0;
  for (const auto &row : kinds)
    total += llvm::count(row, kind);
  return total;
}

TileMap mlir::attn::classifyTiles(MaskAttrInterface mask,
                                  const MaskContext &context, int64_t head,
                                  int64_t blockQueries, int64_t blockKeys) {
  assert(blockQueries > 0 && blockKeys > 0 && "tiles must be non-empty");
  TileMap map;
  map.blockQueries = blockQueries;
  map.blockKeys = blockKeys;
  for (int64_t q = 0; q < context.numQueries; q += blockQueries) {
    auto &row = map.kinds.emplace_back();
    for (int64_t k = 0; k < context.numKeys; k += blockKeys) {
      MaskBlock block{head, q, std::min(q + blockQueries, context.numQueries),
                      k, std::min(k + blockKeys, context.numKeys)};
      row.push_back(mask.classifyBlock(context, block));
    }
  }
  return map;
}
