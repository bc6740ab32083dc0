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

namespace mlir::attn {

/// Converts every attn_tile tile type to a memref of its static shape and
/// element type (the layout is dropped: one CPU thread holds every element).
class TileBufferTypeConverter : public TypeConverter {
public:
  TileBufferTypeConverter();
};

/// Adds the `<Op>Lowering` patterns of the CPU strategy, one per attn_tile
/// op.
void populateTileToLoopsPatterns(const TypeConverter &converter,
                                 RewritePatternSet &patterns);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILETOLOOPS_H
