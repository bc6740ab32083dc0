//===- HybridTileProgram.h - attn.hybrid as a tile program -----*- C++ -*-===//
//
/// \file
/// attn.hybrid as a tile program (HybridTileProgram.cpp), as
/// attn-lower-to-tiles emits it for the CPU.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOTILES_HYBRIDTILEPROGRAM_H
#define ATTN_LIB_CONVERSION_ATTNTOTILES_HYBRIDTILEPROGRAM_H

#include "LinearTileProgram.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir::attn {

/// Emits the hybrid tile program of `op` over every sequence and head:
/// the linear term's chunk loop, and for each chunk's queries the flash
/// loop over their window's key tiles of `blockKeys` keys.
void emitHybridTileProgram(Emitter &e, HybridOp op, const Kernel &kernel,
                           int64_t blockKeys);

/// The same program for head h of sequence bi only, its tiles placed by
/// `layouts` (the CPU's, or the SIMT strategy's).
void emitHybridTileProgram(Emitter &e, HybridOp op, const Kernel &kernel,
                           int64_t blockKeys, Value bi, Value h,
                           const TileLayouts &layouts);

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOTILES_HYBRIDTILEPROGRAM_H
