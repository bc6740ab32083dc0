//===- MaskKeyRanges.cpp - Key ranges of query blocks
//----------------------===//
//
/// \file
/// `buildKeyRanges` of the named masks whose visible keys form intervals per
/// query block: causal masks, windows, sinks, block diagonals, prefix-LM,
/// and their and/or/per-head combinations. For the query block
/// [q0, q1) and a diagonal shifted by d:
///
///   causal           visible [0, q1 + d)          full [0, q0 + d + 1)
///   sliding window   visible [q0+s-L, q1-1+s+R+1) full [q1-1+s-L, q0+s+R+1)
///   sinks            visible [0, S)               full [0, S)
///
/// `and` intersects operand ranges pairwise, `or` adds each operand's
/// intervals minus the ones before it (so intervals stay disjoint), and
/// `per_head` selects its patterns' ranges by head. Lists longer than
/// kMaxIntervals collapse to their hull, which stays sound: tiled kernels
/// test the mask on every tile outside the full interval.
//
//===----------------------------------------------------------------------===//

#include "IndexMath.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::attn;

namespace {
constexpr size_t kMaxIntervals = 4;
using Interval = std::pair<Value, Value>;

/// IndexMath plus operations on intervals.
struct RangeMath : IndexMath {
  Value div(Value x, int64_t y) { return floordiv(x, y); }
  Value eq(Value x, Value y) { return cmp(arith::CmpIPredicate::eq, x, y); }
  Value shift(const KeyRangeQuery &q, DiagonalAlignment align) {
    return diagonalShift(q.numQueries, q.numKeys, align);
  }
  Interval empty() { return {c(0), c(0)}; }
  Interval intersect(Interval x, Interval y) {
    return {max(x.first, y.first), min(x.second, y.second)};
  }
  /// The larger of two intervals (by length).
  Value length(Interval x) { return max(sub(x.second, x.first), c(0)); }
  Interval larger(Interval x, Interval y) {
    Value takeX = cmp(arith::CmpIPredicate::sge, length(x), length(y));
    return {select(takeX, x.first, y.first), select(takeX, x.second, y.second)};
  }
  /// One interval holding all of `intervals`.
  Interval hull(ArrayRef<Interval> intervals) {
    Interval result = intervals.front();
    for (Interval x : intervals.drop_front())
      result = {min(result.first, x.first), max(result.second, x.second)};
    return result;
  }
  void capped(KeyRanges &ranges) {
    if (ranges.visible.size() > kMaxIntervals) {
      Interval h = hull(ranges.visible);
      ranges.visible.assign({h});
    }
  }
};
} // namespace

KeyRanges mlir::attn::buildConservativeKeyRanges(OpBuilder &builder,
                                                 Location loc,
                                                 const KeyRangeQuery &query) {
  RangeMath m{{builder, loc}};
  KeyRanges ranges;
  ranges.visible.push_back({m.c(0), query.numKeys});
  ranges.full = m.empty();
  return ranges;
}

KeyRanges CausalAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                     const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  Value d = m.add(m.shift(q, getAlign()), m.c(getOffset()));
  KeyRanges ranges;
  ranges.visible.push_back({m.c(0), m.add(q.queryEnd, d)});
  ranges.full = {m.c(0), m.add(m.add(q.queryBegin, d), m.c(1))};
  return ranges;
}

KeyRanges SlidingWindowAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                            const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  Value s = m.shift(q, getAlign());
  Value first = m.add(q.queryBegin, s);
  Value last = m.sub(m.add(q.queryEnd, s), m.c(1));
  Value left = m.c(getLeft()), rightEnd = m.c(getRight() + 1);
  KeyRanges ranges;
  ranges.visible.push_back({m.sub(first, left), m.add(last, rightEnd)});
  ranges.full = {m.sub(last, left), m.add(first, rightEnd)};
  return ranges;
}

KeyRanges SinksAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                    const KeyRangeQuery &) const {
  RangeMath m{{builder, loc}};
  KeyRanges ranges;
  ranges.visible.push_back({m.c(0), m.c(getCount())});
  ranges.full = {m.c(0), m.c(getCount())};
  return ranges;
}

KeyRanges BlockDiagonalAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                            const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  int64_t size = getSize();
  Value firstBlock = m.div(q.queryBegin, size);
  Value lastBlock = m.div(m.sub(q.queryEnd, m.c(1)), size);
  Value start = m.mul(firstBlock, size);
  KeyRanges ranges;
  ranges.visible.push_back({start, m.mul(m.add(lastBlock, m.c(1)), size)});
  // Every query sees the whole block only when the queries share one block.
  Value oneBlock = m.eq(firstBlock, lastBlock);
  ranges.full = {start, m.select(oneBlock, m.add(start, m.c(size)), start)};
  return ranges;
}

KeyRanges PrefixLMAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                       const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  Value s = m.shift(q, DiagonalAlignment::bottom_right);
  Value prefix = m.c(getPrefix());
  KeyRanges ranges;
  ranges.visible.push_back({m.c(0), m.max(prefix, m.add(q.queryEnd, s))});
  ranges.full = {m.c(0), m.max(prefix, m.add(m.add(q.queryBegin, s), m.c(1)))};
  return ranges;
}

KeyRanges PerHeadAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                      const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  // Select the ranges of the head's pattern. Patterns must agree on the
  // number of intervals to be selected element-wise; otherwise the hull.
  SmallVector<KeyRanges> perPattern;
  for (Attribute pattern : getPatterns())
    perPattern.push_back(
        cast<MaskAttrInterface>(pattern).buildKeyRanges(builder, loc, q));
  size_t count = perPattern.front().visible.size();
  bool uniform = llvm::all_of(perPattern, [&](const KeyRanges &r) {
    return r.visible.size() == count;
  });
  if (!uniform)
    for (KeyRanges &r : perPattern)
      r.visible.assign({m.hull(r.visible)});

  KeyRanges result = perPattern.front();
  for (auto [head, index] : llvm::enumerate(getHeads())) {
    if (index == 0)
      continue;
    const KeyRanges &r = perPattern[index];
    Value isHead = m.eq(q.head, m.c(head));
    for (auto [mine, theirs] : llvm::zip(result.visible, r.visible))
      mine = {m.select(isHead, theirs.first, mine.first),
              m.select(isHead, theirs.second, mine.second)};
    result.full = {m.select(isHead, r.full.first, result.full.first),
                   m.select(isHead, r.full.second, result.full.second)};
  }
  return result;
}

/// Folds the ranges of `masks` left to right with `combine(result, next)`,
/// capping the interval count after each step.
static KeyRanges
foldRanges(OpBuilder &builder, Location loc, const KeyRangeQuery &q,
           ArrayRef<Attribute> masks,
           function_ref<void(KeyRanges &, const KeyRanges &)> combine) {
  RangeMath m{{builder, loc}};
  KeyRanges result =
      cast<MaskAttrInterface>(masks.front()).buildKeyRanges(builder, loc, q);
  for (Attribute mask : masks.drop_front()) {
    combine(result,
            cast<MaskAttrInterface>(mask).buildKeyRanges(builder, loc, q));
    m.capped(result);
  }
  return result;
}

KeyRanges AndAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                  const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  return foldRanges(builder, loc, q, getMasks(),
                    [&](KeyRanges &result, const KeyRanges &r) {
                      SmallVector<Interval, 2> visible;
                      for (Interval x : result.visible)
                        for (Interval y : r.visible)
                          visible.push_back(m.intersect(x, y));
                      result.visible.assign(visible.begin(), visible.end());
                      result.full = m.intersect(result.full, r.full);
                    });
}

KeyRanges OrAttr::buildKeyRanges(OpBuilder &builder, Location loc,
                                 const KeyRangeQuery &q) const {
  RangeMath m{{builder, loc}};
  return foldRanges(
      builder, loc, q, getMasks(), [&](KeyRanges &result, const KeyRanges &r) {
        // Add r's intervals minus every interval already present.
        SmallVector<Interval, 2> added(r.visible.begin(), r.visible.end());
        for (Interval present : result.visible) {
          // An empty interval must stay empty: [lo, max(lo, hi)).
          present.second = m.max(present.first, present.second);
          SmallVector<Interval, 2> remaining;
          for (Interval x : added) {
            remaining.push_back({x.first, m.min(x.second, present.first)});
            remaining.push_back({m.max(x.first, present.second), x.second});
          }
          added = std::move(remaining);
        }
        result.visible.append(added.begin(), added.end());
        result.full = m.larger(result.full, r.full);
      });
}
