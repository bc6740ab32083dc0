//===- LinearTileProgram.h - linear attention as a tile program -*- C++ -*-===//
//
/// \file
/// attn.linear_attention's chunked tile program (LinearTileProgram.cpp), as
/// attn-lower-to-tiles emits it for the CPU and for the tensor-core kernel.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOTILES_LINEARTILEPROGRAM_H
#define ATTN_LIB_CONVERSION_ATTNTOTILES_LINEARTILEPROGRAM_H

#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Tile/IR/TileOps.h"

namespace mlir::attn {

/// Where a tile program's tiles live. For the CPU strategy nothing is
/// placed (null layouts: one thread holds everything); for the mma.sync
/// strategy, tiles read from memory and chunk vectors go to shared memory
/// and matmul results stay in #attn_tile.mma registers.
struct TileLayouts {
  Attribute loaded, vectors, accumulator;

  static TileLayouts mmaSync(MLIRContext *context, int64_t warps) {
    auto shared = tile::SharedLayoutAttr::get(context);
    return {shared, shared,
            tile::MmaLayoutAttr::get(context, ArrayRef<int64_t>{warps, 1})};
  }
  Attribute rows() const {
    return accumulator ? tile::SliceLayoutAttr::get(accumulator.getContext(),
                                                    /*dim=*/1, accumulator)
                       : Attribute();
  }
  Attribute columns() const {
    return accumulator ? tile::SliceLayoutAttr::get(accumulator.getContext(),
                                                    /*dim=*/0, accumulator)
                       : Attribute();
  }
};

/// Whether the chunked tile program covers `op` yet: an elementwise feature
/// map (identity, relu, elu_plus_one or a region), causal or not, for both
/// update rules and every gate kind and normalization the verifier allows,
/// with optional initial and final states. taylor2 and hedgehog keep the
/// chunked loops of emitChunkedLoops.
bool hasLinearTileProgram(LinearAttentionOp op);

/// Emits the linear tile program of `op` for head h of sequence bi and the
/// value columns [v0, v0 + width), its tiles placed by `layouts`.
void emitLinearTileProgram(Emitter &e, LinearAttentionOp op,
                           const Kernel &kernel, Value bi, Value h, Value v0,
                           int64_t width, const TileLayouts &layouts);

/// Warps of the tensor-core linear kernel: 16 chunk rows and F / 4 state
/// rows each.
inline constexpr int64_t kTensorCoreChunkWarps = 4;

/// The value columns one block of the tensor-core linear kernel handles
/// (the grid's z axis runs over the Dv / width splits).
int64_t getTensorCoreValueColumns(LinearAttentionOp op, StringRef chip);

/// Whether the linear tile program of `op` runs on the mma.sync strategy
/// (the tensor-core kernel) for `kernel`'s storage types.
bool canRunLinearOnTensorCores(LinearAttentionOp op, const Kernel &kernel,
                               StringRef chip);

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOTILES_LINEARTILEPROGRAM_H
