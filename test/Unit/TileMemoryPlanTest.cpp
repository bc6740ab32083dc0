//===- TileMemoryPlanTest.cpp - first-fit placement of tile memory
//---------===//
//
// placeMemoryRegions: regions in use together never share bytes, a region
// takes the lowest offset free of them, and memory is reused once a
// region's last use has passed.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/TileMemoryPlan.h"
#include "llvm/ADT/SmallVector.h"
#include "gtest/gtest.h"

using namespace mlir::attn;

namespace {

bool overlapInTime(const MemoryRegion &x, const MemoryRegion &y) {
  return x.start <= y.end && y.start <= x.end;
}
bool overlapInMemory(const MemoryRegion &x, const MemoryRegion &y) {
  return x.offset < y.offset + y.bytes && y.offset < x.offset + x.bytes;
}

TEST(TileMemoryPlanTest, RegionsInUseTogetherDoNotShareMemory) {
  llvm::SmallVector<MemoryRegion> regions = {
      {0, 10, 64}, {1, 3, 32}, {2, 8, 16},  {4, 6, 48},
      {7, 12, 32}, {9, 9, 16}, {11, 14, 64}};
  int64_t total = placeMemoryRegions(regions);
  for (size_t i = 0; i < regions.size(); ++i) {
    EXPECT_LE(regions[i].offset + regions[i].bytes, total);
    for (size_t j = 0; j < i; ++j)
      if (overlapInTime(regions[i], regions[j]))
        EXPECT_FALSE(overlapInMemory(regions[i], regions[j]))
            << "regions " << j << " and " << i;
  }
}

TEST(TileMemoryPlanTest, MemoryIsReusedAfterTheLastUse) {
  // The second region starts after the first's last use: same offset. The
  // third is in use with the second: placed after it.
  llvm::SmallVector<MemoryRegion> regions = {
      {0, 2, 128}, {3, 5, 128}, {4, 6, 16}};
  EXPECT_EQ(placeMemoryRegions(regions), 144);
  EXPECT_EQ(regions[0].offset, 0);
  EXPECT_EQ(regions[1].offset, 0);
  EXPECT_EQ(regions[2].offset, 128);
}

TEST(TileMemoryPlanTest, TakesTheLowestFreeGap) {
  // At 5, the region [64, 96) is free again (its owner ended at 4): the
  // last region fits in that gap instead of after everything.
  llvm::SmallVector<MemoryRegion> regions = {
      {0, 10, 64}, {1, 4, 32}, {2, 10, 32}, {5, 10, 32}};
  EXPECT_EQ(placeMemoryRegions(regions), 128);
  EXPECT_EQ(regions[1].offset, 64);
  EXPECT_EQ(regions[2].offset, 96);
  EXPECT_EQ(regions[3].offset, 64);
}

TEST(TileMemoryPlanTest, PlacesByStartWhateverTheOrderGiven) {
  // The same regions as above, the last first: placed as if by start.
  llvm::SmallVector<MemoryRegion> regions = {
      {5, 10, 32}, {0, 10, 64}, {1, 4, 32}, {2, 10, 32}};
  EXPECT_EQ(placeMemoryRegions(regions), 128);
  EXPECT_EQ(regions[1].offset, 0);
  EXPECT_EQ(regions[2].offset, 64);
  EXPECT_EQ(regions[3].offset, 96);
  EXPECT_EQ(regions[0].offset, 64);
}

} // namespace
