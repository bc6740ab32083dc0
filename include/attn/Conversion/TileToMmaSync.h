//===- TileToMmaSync.h - the mma.sync strategy of the tile level -*- C++
//-*-===//
//
/// \file
/// The mma.sync strategy (sm_80 and later): attn_tile ops with register and
/// shared-memory layouts become mma.sync, ldmatrix, shuffles and shared
/// memory accesses (see the attn-tile-to-mma-sync pass).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_TILETOMMASYNC_H
#define ATTN_CONVERSION_TILETOMMASYNC_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {

/// Register-layout tiles become a vector of the elements one thread holds;
/// shared tiles a view of workgroup memory with padded rows.
class MmaSyncTypeConverter : public TypeConverter {
public:
  MmaSyncTypeConverter();
};

/// The bytes of dynamic shared memory the tile ops of `function` use: one
/// region per op whose result is an #attn_tile.shared tile.
int64_t getTileSharedBytes(FunctionOpInterface function);

/// Adds the `<Op>Lowering` patterns of the mma.sync strategy.
void populateTileToMmaSyncPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILETOMMASYNC_H
