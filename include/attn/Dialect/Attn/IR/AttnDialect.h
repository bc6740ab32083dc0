//===- AttnDialect.h - attn dialect, enums and attributes -------*- C++ -*-===//
//
/// \file
/// Declares the attn dialect, its enums, the mask attribute interface and
/// the named mask attributes, all generated from dialects/Attn/*.td.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNDIALECT_H
#define ATTN_DIALECT_ATTN_IR_ATTNDIALECT_H

#include "attn/Dialect/Attn/IR/MaskTypes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "attn/Dialect/Attn/IR/AttnDialect.h.inc"

namespace mlir::attn {
/// Key ranges that hold for any mask: [0, Nk) maybe visible, none surely.
KeyRanges buildConservativeKeyRanges(OpBuilder &builder, Location loc,
                                     const KeyRangeQuery &query);
} // namespace mlir::attn

#include "attn/Dialect/Attn/IR/AttnEnums.h.inc"
#include "attn/Dialect/Attn/IR/AttnInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.h.inc"

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_H
