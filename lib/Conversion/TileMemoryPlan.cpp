//===- TileMemoryPlan.cpp - placing tiles in scratch memory ---------------===//
//
/// \file
/// Program order and first-fit placement (see TileMemoryPlan.h).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/TileMemoryPlan.h"
#include "llvm/ADT/STLExtras.h"
#include <numeric>

using namespace mlir;
using namespace mlir::attn;

ProgramOrder::ProgramOrder(Operation *root) {
  int64_t next = 0;
  root->walk<WalkOrder::PreOrder>([&](Operation *op) { first[op] = next++; });
  root->walk<WalkOrder::PostOrder>([&](Operation *op) {
    int64_t end = first[op];
    for (Region &region : op->getRegions())
      for (Operation &inner : region.getOps())
        end = std::max(end, last[&inner]);
    last[op] = end;
  });
}

int64_t ProgramOrder::endOfRead(Block *home, Operation *user) const {
  Operation *holder = home ? home->findAncestorOpInBlock(*user) : nullptr;
  return last.lookup(holder ? holder : user);
}

int64_t mlir::attn::placeMemoryRegions(MutableArrayRef<MemoryRegion> regions) {
  SmallVector<size_t> order(regions.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](size_t x, size_t y) {
    return std::make_pair(regions[x].start, x) <
           std::make_pair(regions[y].start, y);
  });
  int64_t total = 0;
  for (auto [placed, i] : llvm::enumerate(order)) {
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (size_t j : ArrayRef(order).take_front(placed))
      if (regions[j].end >= regions[i].start)
        taken.push_back(
            {regions[j].offset, regions[j].offset + regions[j].bytes});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [begin, end] : taken) {
      if (offset + regions[i].bytes <= begin)
        break;
      offset = std::max(offset, end);
    }
    regions[i].offset = offset;
    total = std::max(total, offset + regions[i].bytes);
  }
  return total;
}
