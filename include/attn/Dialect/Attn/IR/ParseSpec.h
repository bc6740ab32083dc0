//===- ParseSpec.h - Parse spec text without crashing -----------*- C++ -*-===//
//
/// \file
/// The one way attn's tools and C API parse spec text. Upstream MLIR 22's
/// parser crashes on some ill-formed text instead of reporting it (a dense
/// array of `index`, `array<index: 1>`, reaches a cast to FloatType), and
/// the C API runs inside the user's Python process, so such text is found
/// and reported as an error first.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_PARSESPEC_H
#define ATTN_DIALECT_ATTN_IR_PARSESPEC_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace mlir::attn {

/// Reports, through `context`'s diagnostics at its location in the main
/// buffer of `sourceMgr`, the first construct the upstream parser would
/// crash on; succeeds when there is none.
LogicalResult checkParserSafety(llvm::SourceMgr &sourceMgr,
                                MLIRContext *context);

/// Parses and verifies the main buffer of `sourceMgr` as a module, after
/// `checkParserSafety`; null (with diagnostics emitted) on any error.
OwningOpRef<ModuleOp> parseSpec(llvm::SourceMgr &sourceMgr,
                                MLIRContext *context);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_PARSESPEC_H
