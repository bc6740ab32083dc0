//===- SharedMemoryPlan.h - mma.sync shared memory -------------*- C++ -*-===//
//
/// \file
/// Where the mma.sync strategy keeps its shared tiles: their padded memory
/// type and size, the scratch tiles some lowerings use, and the placement
/// of every shared tile of a function in its dynamic shared memory
/// (regions reused by liveness, carried loads in rings of two).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_TILETOMMASYNC_SHAREDMEMORYPLAN_H
#define ATTN_LIB_CONVERSION_TILETOMMASYNC_SHAREDMEMORYPLAN_H

#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::attn::mma_sync {

/// The attribute holding the byte offset of a shared tile's region.
inline constexpr llvm::StringLiteral kSharedOffset = "attn_tile.shared_offset";
/// The attribute holding the byte offset of the scratch tiles an op's
/// lowering uses inside the op (getScratchTiles).
inline constexpr llvm::StringLiteral kScratchOffset =
    "attn_tile.scratch_offset";
/// Unit attribute on the loads of a tile an scf.for carries (see
/// findCarriedLoads): their region is a ring of two.
inline constexpr llvm::StringLiteral kRing = "attn_tile.ring";
/// Padding of a shared tile's rows, in bytes.
inline constexpr int64_t kRowPadBytes = 16;

/// Whether `type` is an #attn_tile.shared tile.
bool isShared(tile::TileType type);

/// The memref a shared tile is viewed as: workgroup memory, rows padded by
/// kRowPadBytes.
MemRefType sharedMemRefType(tile::TileType type);

/// The bytes of a shared tile's region (16-byte aligned).
int64_t sharedBytes(tile::TileType type);

/// Whether the store `op` of an accumulator goes through shared memory: its
/// rows are written there, then each warp copies its part out in 16-byte
/// chunks (coalesced, a quarter of the stores). As with the 16-byte loads, the
/// destination's rows must be 16-byte aligned: the runtime checks the output of
/// kernels that declare aligned rows (GPULaunch::alignedRows).
bool isStagedStore(tile::StoreOp op);

/// The shared tiles the lowering of `op` uses inside it, beside its shared
/// results: decayed_scores stages its rescaled queries and keys, a staged
/// store (isStagedStore) its rows.
SmallVector<tile::TileType> getScratchTiles(Operation *op);

/// Gives each op of `function` with a shared result its region (and
/// scratch) offset, and marks the loads of carried tiles as ring loads;
/// fails, with an error on the loop, for a carried shared tile that is not
/// loaded before the loop and again in its body.
LogicalResult assignSharedOffsets(FunctionOpInterface function);

} // namespace mlir::attn::mma_sync

#endif // ATTN_LIB_CONVERSION_TILETOMMASYNC_SHAREDMEMORYPLAN_H
