//===- MaskBuilders.cpp - IR for the named masks
//---------------------------===//
//
/// \file
/// `buildIsVisible` of every named mask: the same predicate as `isVisible`
/// (AttnAttrs.cpp), built as arith ops on `index` values so that every
/// kernel (reference loops, tiled CPU code, GPU kernels) evaluates a mask the
/// same way. Queries and keys are non-negative, so unsigned division is
/// exact; comparisons against shifted diagonals are signed.
//
//===----------------------------------------------------------------------===//

#include "IndexMath.h"
#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::attn;

/// `i + shift + offset`, the diagonal a causal mask or window is centred on.
static Value alignedQuery(IndexMath &m, const MaskValues &v,
                          DiagonalAlignment align, int64_t offset) {
  Value row = m.add(v.query, m.diagonalShift(v.numQueries, v.numKeys, align));
  return offset == 0 ? row : m.add(row, m.c(offset));
}

static Value buildList(OpBuilder &builder, Location loc, const MaskValues &v,
                       ArrayRef<Attribute> masks, bool conjunction) {
  IndexMath m{builder, loc};
  Value result;
  for (Attribute mask : masks) {
    Value bit = cast<MaskAttrInterface>(mask).buildIsVisible(builder, loc, v);
    result = !result       ? bit
             : conjunction ? m.andi(result, bit)
                           : m.ori(result, bit);
  }
  return result;
}

Value CausalAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                 const MaskValues &v) const {
  IndexMath m{builder, loc};
  return m.cmp(arith::CmpIPredicate::sle, v.key,
               alignedQuery(m, v, getAlign(), getOffset()));
}

Value SlidingWindowAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                        const MaskValues &v) const {
  IndexMath m{builder, loc};
  Value center = alignedQuery(m, v, getAlign(), /*offset=*/0);
  return m.andi(
      m.cmp(arith::CmpIPredicate::sge, v.key, m.sub(center, m.c(getLeft()))),
      m.cmp(arith::CmpIPredicate::sle, v.key, m.add(center, m.c(getRight()))));
}

Value SinksAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                const MaskValues &v) const {
  IndexMath m{builder, loc};
  return m.cmp(arith::CmpIPredicate::slt, v.key, m.c(getCount()));
}

Value BlockDiagonalAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                        const MaskValues &v) const {
  IndexMath m{builder, loc};
  return m.cmp(arith::CmpIPredicate::eq, m.divui(v.query, getSize()),
               m.divui(v.key, getSize()));
}

Value DocumentAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                   const MaskValues &v) const {
  assert(v.querySegments && v.keySegments && "#attn.document needs segments");
  Value querySegment = memref::LoadOp::create(builder, loc, v.querySegments,
                                              ValueRange{v.batch, v.query});
  Value keySegment = memref::LoadOp::create(builder, loc, v.keySegments,
                                            ValueRange{v.batch, v.key});
  return arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                               querySegment, keySegment);
}

Value PrefixLMAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                   const MaskValues &v) const {
  IndexMath m{builder, loc};
  return m.ori(
      m.cmp(arith::CmpIPredicate::slt, v.key, m.c(getPrefix())),
      m.cmp(arith::CmpIPredicate::sle, v.key,
            alignedQuery(m, v, DiagonalAlignment::bottom_right, /*offset=*/0)));
}

Value StridedShardAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                       const MaskValues &v) const {
  IndexMath m{builder, loc};
  return m.cmp(arith::CmpIPredicate::eq,
               m.remui(m.divui(v.key, getBlock()), getStride()),
               m.remui(v.head, getStride()));
}

Value PerHeadAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                  const MaskValues &v) const {
  // visible = OR over patterns p of (head uses p) AND pattern_p(b, h, i, j).
  IndexMath m{builder, loc};
  Value result;
  for (auto [index, pattern] : llvm::enumerate(getPatterns())) {
    Value usesPattern;
    for (auto [head, assigned] : llvm::enumerate(getHeads())) {
      if (assigned != static_cast<int64_t>(index))
        continue;
      Value isHead = m.cmp(arith::CmpIPredicate::eq, v.head, m.c(head));
      usesPattern = usesPattern ? m.ori(usesPattern, isHead) : isHead;
    }
    if (!usesPattern)
      continue;
    Value bit = m.andi(
        usesPattern,
        cast<MaskAttrInterface>(pattern).buildIsVisible(builder, loc, v));
    result = result ? m.ori(result, bit) : bit;
  }
  return result;
}

Value NeighborhoodAttr::buildIsVisible(OpBuilder &builder, Location loc,
                                       const MaskValues &v) const {
  IndexMath m{builder, loc};
  ArrayRef<int64_t> grid = getGrid();
  Value query = v.query, key = v.key;
  Value result = m.trueValue();
  // Row-major: peel the last axis first, as isVisible does.
  for (int axis = grid.size() - 1; axis >= 0; --axis) {
    int64_t extent = grid[axis], kernel = getKernel()[axis];
    int64_t dilation = getDilationOf(axis);
    Value x = m.remui(query, extent), y = m.remui(key, extent);
    query = m.divui(query, extent);
    key = m.divui(key, extent);
    Value group = m.remui(x, dilation);
    Value sameGroup =
        m.cmp(arith::CmpIPredicate::eq, group, m.remui(y, dilation));
    Value u = m.divui(x, dilation), w = m.divui(y, dilation);
    Value inWindow;
    if (isCausalAxis(axis)) {
      // w in [u - kernel + 1, u]; w >= 0 always holds.
      inWindow =
          m.andi(m.cmp(arith::CmpIPredicate::sge, w, m.sub(u, m.c(kernel - 1))),
                 m.cmp(arith::CmpIPredicate::sle, w, u));
    } else {
      // start = clamp(u - kernel/2, 0, groupLength - kernel) with
      // groupLength = ceil((extent - group) / dilation) >= kernel.
      Value groupLength =
          m.divui(m.sub(m.c(extent + dilation - 1), group), dilation);
      Value start = arith::MaxSIOp::create(builder, loc,
                                           m.sub(u, m.c(kernel / 2)), m.c(0));
      start = arith::MinSIOp::create(builder, loc, start,
                                     m.sub(groupLength, m.c(kernel)));
      inWindow = m.andi(
          m.cmp(arith::CmpIPredicate::sge, w, start),
          m.cmp(arith::CmpIPredicate::slt, w, m.add(start, m.c(kernel))));
    }
    result = m.andi(result, m.andi(sameGroup, inWindow));
  }
  return result;
}

Value AndAttr::buildIsVisible(OpBuilder &builder, Location loc,
                              const MaskValues &v) const {
  return buildList(builder, loc, v, getMasks(), /*conjunction=*/true);
}

Value OrAttr::buildIsVisible(OpBuilder &builder, Location loc,
                             const MaskValues &v) const {
  return buildList(builder, loc, v, getMasks(), /*conjunction=*/false);
}
