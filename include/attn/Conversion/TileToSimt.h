//===- TileToSimt.h - the SIMT strategy of the tile level -------*- C++ -*-===//
//
/// \file
/// The SIMT strategy: the tile programs of GPU kernels without tensor cores
/// (f32 inputs, head dims the tensor-core kernels do not take, feature maps
/// they do not run, hybrids), every op shared by the threads of a block,
/// every tile in scratch memory (see the attn-tile-to-simt pass).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_TILETOSIMT_H
#define ATTN_CONVERSION_TILETOSIMT_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>

namespace mlir::attn {

/// The unit attribute that hands the tile program of a gpu.func to the
/// SIMT strategy.
inline constexpr llvm::StringLiteral kSimtKernelAttrName = "attn_tile.simt";
/// On such a function, the index of its workspace argument [B, H, words]
/// (x: heads, y: sequences on the grid) when some of its tiles live in the
/// workspace slice of their (sequence, head): those larger than
/// `attn_tile.simt_shared_tile_bytes`. Without it every tile lives in the
/// block's dynamic shared memory.
inline constexpr llvm::StringLiteral kSimtWorkspaceAttrName =
    "attn_tile.simt_workspace";
inline constexpr llvm::StringLiteral kSimtSharedTileBytesAttrName =
    "attn_tile.simt_shared_tile_bytes";

/// The scratch the SIMT strategy's tiles of a function take: dynamic shared
/// memory per block, and workspace bytes (4 a word) per (sequence, head).
struct SimtScratchBytes {
  int64_t shared = 0, workspace = 0;
};

/// The scratch of the tiles of `function` when the tiles of more than
/// `sharedTileBytes` bytes live in the workspace (none with the default),
/// measured on a copy of the function prepared as the pass prepares it.
SimtScratchBytes getSimtScratchBytes(FunctionOpInterface function,
                                     int64_t sharedTileBytes = INT64_MAX);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILETOSIMT_H
