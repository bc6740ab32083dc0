//===- SimplifyMasks.cpp - Put named masks in simplest form ---------------===//
//
/// \file
/// Rewrites the mask attribute of every attn.attention op with
/// `simplifyMask`, which preserves the mask's value at every point.
//
//===----------------------------------------------------------------------===//

#include "attn/Analysis/MaskAlgebra.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSIMPLIFYMASKSPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct AttnSimplifyMasksPass
    : public attn::impl::AttnSimplifyMasksPassBase<AttnSimplifyMasksPass> {
  void runOnOperation() override {
    getOperation()->walk([](AttentionOp op) {
      if (MaskAttrInterface mask = op.getMaskAttr())
        op.setMaskAttr(simplifyMask(mask));
    });
  }
};
} // namespace
