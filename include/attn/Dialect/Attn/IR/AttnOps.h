//===- AttnOps.h - attn spec-level ops --------------------------*- C++ -*-===//
//
/// \file
/// Declares attn.attention, attn.linear_attention, attn.hybrid and
/// attn.yield, generated from dialects/Attn/AttnOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_H
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.h.inc"

namespace mlir::attn {

/// Bounds the verifier (and the lowering passes, for their tile options)
/// enforce, so that no size a lowering derives from a spec overflows or
/// asks for an impossible buffer: head dims, the feature dim F of a linear
/// term (taylor2's 1 + D + D^2, hedgehog's 2M), and block sizes of block
/// masks and tiles. Each is far beyond what models use.
constexpr int64_t kMaxHeadDim = 65536;
constexpr int64_t kMaxFeatureDim = int64_t(1) << 20;
constexpr int64_t kMaxBlockSize = 16384;

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_H
