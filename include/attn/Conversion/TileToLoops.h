//===- TileToLoops.h - the CPU strategy of the tile level -------*- C++ -*-===//
//
/// \file
/// The CPU strategy: attn_tile ops become scf loops over memref buffers of
/// their tiles (see the attn-tile-to-loops pass).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_TILETOLOOPS_H
#define ATTN_CONVERSION_TILETOLOOPS_H

#include "mlir/Transforms/DialectConversion.h"
#include <functional>

namespace mlir::attn {

/// Converts every attn_tile tile type to a memref of its static shape and
/// element type (the layout is dropped: one CPU thread holds every element).
class TileBufferTypeConverter : public TypeConverter {
public:
  TileBufferTypeConverter();
};

/// Where the loop lowerings put their buffers and who runs their loops.
/// The CPU strategy: one buffer per op, allocated on the heap, every
/// iteration in the one thread. The SIMT strategy (attn-tile-to-simt): the
/// buffers its memory plan gives, and the independent iterations of each
/// op shared by the threads of the block, which meet at a barrier after
/// each op.
struct TileLoopOptions {
  /// The buffer, of memref type `type`, of the tile result of `op`; null
  /// for the heap.
  std::function<Value(OpBuilder &b, Operation *op, MemRefType type)> allocate;
  /// The block's threads; 0 for one thread.
  int64_t threads = 0;
};

/// Adds the `<Op>Lowering` patterns of the CPU strategy, one per attn_tile
/// op; the SIMT strategy adds the same patterns with its own `options`.
void populateTileToLoopsPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns,
                                 const TileLoopOptions &options = {});

/// Copies each tile an `scf.for` under `root` carries right before its
/// yield (an identity attn_tile.map). The copy's buffer is the one the loop
/// carries, written after every read of the iteration, so no op of the
/// next iteration overwrites a buffer still to be read.
void copyCarriedTiles(Operation *root);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILETOLOOPS_H
