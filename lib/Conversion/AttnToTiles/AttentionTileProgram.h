//===- AttentionTileProgram.h - attention as a tile program ----*- C++ -*-===//
//
/// \file
/// attn.attention's flash algorithm as a tile program
/// (AttentionTileProgram.cpp), as attn-lower-to-tiles emits it for the CPU.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOTILES_ATTENTIONTILEPROGRAM_H
#define ATTN_LIB_CONVERSION_ATTNTOTILES_ATTENTIONTILEPROGRAM_H

#include "TileBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir::attn {

/// One key tile's step of the online softmax: from the running row maximum,
/// row sum and accumulator `state` of a query block and the tile's
/// `scores` [Bq, Bk] and `values` [Bk, Dv], attn_tile.online_softmax (of
/// `scale` times the scores), the accumulator rescaled by its correction,
/// then P V added. Returns the new state.
SmallVector<Value> emitOnlineSoftmaxStep(TileBuilder &t, Value scores,
                                         Value values, ValueRange state,
                                         double scale = 1.0);

/// Emits the flash tile program of `op` for query block `qb` (rows
/// [qb Bq, qb Bq + Bq) of `blockQueries` rows) of head h of sequence bi,
/// its tiles placed by `layouts`: on the CPU (no layouts) the matmul
/// operands are f32, on the mma.sync strategy the storage type.
void emitAttentionQueryBlock(Emitter &e, AttentionOp op, const Kernel &kernel,
                             const KeyBlockPlan &keys, int64_t blockQueries,
                             int64_t blockKeys, const TileLayouts &layouts,
                             Value bi, Value h, Value qb);

/// Emits the flash tile program of `op` over every sequence, head and
/// query block of `blockQueries` rows, visiting the key tiles of
/// `blockKeys` keys that `keys` plans (emitKeyTiles).
void emitAttentionTileProgram(Emitter &e, AttentionOp op, const Kernel &kernel,
                              const KeyBlockPlan &keys, int64_t blockQueries,
                              int64_t blockKeys);

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOTILES_ATTENTIONTILEPROGRAM_H
