//===- MaskSemanticsTest.cpp - Point semantics of named masks -------------===//
//
/// \file
/// Checks `isVisible` of each named mask against the formulas of
/// docs/semantics.md on hand-worked cases.
//
//===----------------------------------------------------------------------===//

#include "MaskTestUtils.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The keys that query `query` of head `head` sees under `mask`.
std::vector<int64_t> visibleKeys(MaskAttrInterface mask,
                                 const MaskContext &context, int64_t query,
                                 int64_t head = 0) {
  std::vector<int64_t> keys;
  for (int64_t key = 0; key < context.numKeys; ++key)
    if (mask.isVisible(context, /*batch=*/0, head, query, key))
      keys.push_back(key);
  return keys;
}

using Keys = std::vector<int64_t>;

TEST_F(MaskTest, CausalAlignsBottomRightByDefault) {
  MaskAttrInterface causal = parse("#attn.causal");
  MaskContext cross{/*numQueries=*/2, /*numKeys=*/5};
  EXPECT_EQ(visibleKeys(causal, cross, 0), (Keys{0, 1, 2, 3}));
  EXPECT_EQ(visibleKeys(causal, cross, 1), (Keys{0, 1, 2, 3, 4}));

  MaskAttrInterface topLeft = parse("#attn.causal<align = top_left>");
  EXPECT_EQ(visibleKeys(topLeft, cross, 0), (Keys{0}));

  MaskAttrInterface shifted = parse("#attn.causal<offset = -1>");
  MaskContext self{4, 4};
  EXPECT_EQ(visibleKeys(shifted, self, 0), (Keys{}));
  EXPECT_EQ(visibleKeys(shifted, self, 2), (Keys{0, 1}));
}

TEST_F(MaskTest, SlidingWindowIsABand) {
  MaskContext self{8, 8};
  EXPECT_EQ(visibleKeys(parse("#attn.sliding_window<left = 2>"), self, 5),
            (Keys{3, 4, 5}));
  EXPECT_EQ(
      visibleKeys(parse("#attn.sliding_window<left = 1, right = 2>"), self, 6),
      (Keys{5, 6, 7}));
}

TEST_F(MaskTest, SinksAndPrefix) {
  MaskContext self{6, 6};
  EXPECT_EQ(visibleKeys(parse("#attn.sinks<count = 2>"), self, 4),
            (Keys{0, 1}));
  MaskAttrInterface prefix = parse("#attn.prefix_lm<prefix = 3>");
  EXPECT_EQ(visibleKeys(prefix, self, 0), (Keys{0, 1, 2}));
  EXPECT_EQ(visibleKeys(prefix, self, 4), (Keys{0, 1, 2, 3, 4}));
}

TEST_F(MaskTest, BlockDiagonal) {
  MaskContext self{8, 8};
  MaskAttrInterface blocks = parse("#attn.block_diagonal<size = 3>");
  EXPECT_EQ(visibleKeys(blocks, self, 4), (Keys{3, 4, 5}));
  EXPECT_EQ(visibleKeys(blocks, self, 7), (Keys{6, 7}));
}

TEST_F(MaskTest, StridedShardsCoverTheContext) {
  MaskAttrInterface shards =
      parse("#attn.strided_shard<stride = 3, block = 2>");
  MaskContext self{1, 12};
  EXPECT_EQ(visibleKeys(shards, self, 0, /*head=*/0), (Keys{0, 1, 6, 7}));
  EXPECT_EQ(visibleKeys(shards, self, 0, /*head=*/4), (Keys{2, 3, 8, 9}));
  for (int64_t key = 0; key < 12; ++key) {
    int covered = 0;
    for (int64_t head = 0; head < 3; ++head)
      covered += shards.isVisible(self, 0, head, 0, key);
    EXPECT_EQ(covered, 1) << "key " << key;
  }
}

TEST_F(MaskTest, PerHeadPicksThePattern) {
  MaskAttrInterface perHead = parse(
      "#attn.per_head<[#attn.causal, #attn.sinks<count = 1>], heads = [1, 0]>");
  MaskContext self{4, 4};
  EXPECT_EQ(visibleKeys(perHead, self, 3, /*head=*/0), (Keys{0}));
  EXPECT_EQ(visibleKeys(perHead, self, 3, /*head=*/1), (Keys{0, 1, 2, 3}));
}

TEST_F(MaskTest, DocumentReadsSegments) {
  int32_t segments[] = {0, 0, 1, 1, 1, 2};
  auto same = [&](int64_t, int64_t i, int64_t j) {
    return segments[i] == segments[j];
  };
  MaskContext self{6, 6, same};
  MaskAttrInterface documents =
      parse("#attn.and<[#attn.causal, #attn.document]>");
  EXPECT_EQ(visibleKeys(documents, self, 4), (Keys{2, 3, 4}));
  EXPECT_EQ(visibleKeys(documents, self, 5), (Keys{5}));
}

TEST_F(MaskTest, NeighborhoodClampsAtTheBorders) {
  MaskAttrInterface na = parse("#attn.neighborhood<grid = [7], kernel = [3]>");
  MaskContext line{7, 7};
  EXPECT_EQ(visibleKeys(na, line, 0), (Keys{0, 1, 2}));
  EXPECT_EQ(visibleKeys(na, line, 3), (Keys{2, 3, 4}));
  EXPECT_EQ(visibleKeys(na, line, 6), (Keys{4, 5, 6}));
}

TEST_F(MaskTest, NeighborhoodDilationAndCausality) {
  MaskContext line{8, 8};
  MaskAttrInterface dilated =
      parse("#attn.neighborhood<grid = [8], kernel = [3], dilation = [2]>");
  EXPECT_EQ(visibleKeys(dilated, line, 0), (Keys{0, 2, 4}));
  EXPECT_EQ(visibleKeys(dilated, line, 5), (Keys{3, 5, 7}));
  MaskAttrInterface causal =
      parse("#attn.neighborhood<grid = [8], kernel = [3], causal_axes = [0]>");
  EXPECT_EQ(visibleKeys(causal, line, 4), (Keys{2, 3, 4}));
  EXPECT_EQ(visibleKeys(causal, line, 1), (Keys{0, 1}));
}

TEST_F(MaskTest, NeighborhoodOn2DGrid) {
  // A 4x5 grid; query (1, 1) = token 6 with a 3x3 kernel sees rows 0..2 and
  // columns 0..2.
  MaskAttrInterface na =
      parse("#attn.neighborhood<grid = [4, 5], kernel = [3, 3]>");
  MaskContext grid{20, 20};
  EXPECT_EQ(visibleKeys(na, grid, 6), (Keys{0, 1, 2, 5, 6, 7, 10, 11, 12}));
  // Query (3, 4) = token 19 sits in the corner: rows 1..3, columns 2..4.
  EXPECT_EQ(visibleKeys(na, grid, 19), (Keys{7, 8, 9, 12, 13, 14, 17, 18, 19}));
}

} // namespace
