//===- IndexMath.h - arith helpers on index values --------------*- C++ -*-===//
//
/// \file
/// Small builders of arith ops on `index` values at one location, shared by
/// the masks' IR builders (MaskBuilders.cpp) and key ranges
/// (MaskKeyRanges.cpp). Private to the dialect library.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_IR_INDEXMATH_H
#define ATTN_LIB_DIALECT_ATTN_IR_INDEXMATH_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::attn {

struct IndexMath {
  OpBuilder &b;
  Location loc;

  Value c(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, c(y));
  }
  Value divui(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, c(y));
  }
  Value remui(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, c(y));
  }
  Value floordiv(Value x, int64_t y) {
    return arith::FloorDivSIOp::create(b, loc, x, c(y));
  }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  Value cmp(arith::CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, pred, x, y);
  }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value trueValue() {
    return arith::ConstantIntOp::create(b, loc, /*value=*/1, /*width=*/1);
  }
  /// How far right of the top-left diagonal an aligned diagonal sits:
  /// Nk - Nq for bottom_right, 0 for top_left.
  Value diagonalShift(Value numQueries, Value numKeys,
                      DiagonalAlignment align) {
    return align == DiagonalAlignment::bottom_right ? sub(numKeys, numQueries)
                                                    : c(0);
  }
};

} // namespace mlir::attn

#endif // ATTN_LIB_DIALECT_ATTN_IR_INDEXMATH_H
