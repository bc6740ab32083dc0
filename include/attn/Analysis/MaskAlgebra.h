//===- MaskAlgebra.h - Simplifying and classifying named masks --*- C++ -*-===//
//
/// \file
/// The algebra of named masks: rewriting a mask to an equal, simpler one
/// (flattening and/or, merging causal masks and windows), and classifying
/// every tile of a score matrix as empty, full or partial. The tiled
/// algorithms use the classification to skip empty tiles and to drop the
/// mask test on full ones.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ANALYSIS_MASKALGEBRA_H
#define ATTN_ANALYSIS_MASKALGEBRA_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::attn {

/// Returns a mask equal to `mask` at every (b, h, i, j) for every sequence
/// length, in simplest form: nested and/or flattened and deduplicated,
/// one-element combinators unwrapped, prefix_lm expanded to
/// or<[causal, sinks]>, causal masks and windows of one alignment merged,
/// and per_head with a single distinct pattern replaced by that pattern.
MaskAttrInterface simplifyMask(MaskAttrInterface mask);

/// Classification of the tiles of one head's score matrix.
struct TileMap {
  int64_t blockQueries = 0, blockKeys = 0;
  /// kinds[qb][kb] for query block qb and key block kb.
  llvm::SmallVector<llvm::SmallVector<BlockKind>> kinds;

  /// Counts the tiles of `kind`.
  int64_t count(BlockKind kind) const;
};

/// Classifies every tile of head `head`'s `numQueries x numKeys` score
/// matrix, cut into `blockQueries x blockKeys` tiles; the last row and
/// column of tiles are clipped to the matrix.
TileMap classifyTiles(MaskAttrInterface mask, const MaskContext &context,
                      int64_t head, int64_t blockQueries, int64_t blockKeys);

} // namespace mlir::attn

#endif // ATTN_ANALYSIS_MASKALGEBRA_H
