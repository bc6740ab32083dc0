//===- TileMemoryPlan.h - placing tiles in scratch memory -------*- C++ -*-===//
//
/// \file
/// What the GPU strategies share to place tiles in a block's scratch
/// memory (the mma.sync strategy's shared tiles, every tile of the SIMT
/// strategy): the ops of a function in program order, and first-fit
/// placement of regions by their live ranges.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_TILEMEMORYPLAN_H
#define ATTN_CONVERSION_TILEMEMORYPLAN_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::attn {

/// The ops under a root numbered in pre-order (`first`), with the end of
/// each op (`last`): the largest number among the ops it holds.
struct ProgramOrder {
  explicit ProgramOrder(Operation *root);

  /// Where a value of block `home` read by `user` must live to: the end
  /// of the op of `home` that holds the reader (a value read in every
  /// iteration of a loop lives to the loop's end), or the reader's own end
  /// where `home` holds none.
  int64_t endOfRead(Block *home, Operation *user) const;

  llvm::DenseMap<Operation *, int64_t> first, last;
};

/// A region of memory in use from `start` to `end` (ProgramOrder numbers,
/// both included).
struct MemoryRegion {
  int64_t start, end, bytes, offset = 0;
};

/// Places `regions` first-fit, by start (ties in the order given): each
/// takes the lowest offset free of the regions placed before it that are
/// in use with it (so two regions share memory only where one's last use
/// comes before the other's first write). Sets their offsets; returns the
/// bytes in all.
int64_t placeMemoryRegions(MutableArrayRef<MemoryRegion> regions);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILEMEMORYPLAN_H
