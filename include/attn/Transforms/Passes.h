//===- Passes.h - attn passes -----------------------------------*- C++ -*-===//
//
/// \file
/// Declares attn's passes (generated from dialects/Attn/AttnPasses.td) and
/// their registration.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TRANSFORMS_PASSES_H
#define ATTN_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"

} // namespace mlir::attn

#endif // ATTN_TRANSFORMS_PASSES_H
