//===- DecomposeTileSoftmax.h - softmax tile ops as maps --------*- C++ -*-===//
//
/// \file
/// attn_tile.online_softmax, attn_tile.finalize and attn_tile.log_sum_exp
/// rewritten as attn_tile.reduce and attn_tile.map (DecomposeTileSoftmax.cpp):
/// the one definition of their arithmetic, which every strategy lowers
/// through its own reduce and map patterns.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_DECOMPOSETILESOFTMAX_H
#define ATTN_CONVERSION_DECOMPOSETILESOFTMAX_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

/// Adds OnlineSoftmaxDecomposition, FinalizeDecomposition and
/// LogSumExpDecomposition.
void populateDecomposeTileSoftmaxPatterns(RewritePatternSet &patterns);

/// Applies those patterns to everything under `root`.
LogicalResult decomposeTileSoftmax(Operation *root);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_DECOMPOSETILESOFTMAX_H
