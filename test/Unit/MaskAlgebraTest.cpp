//===- MaskAlgebraTest.cpp - Simplification and tile classification -------===//
//
/// \file
/// Checks that `simplifyMask` gives the expected form and never changes a
/// mask's value, and that tile classification is sound for every named mask
/// and exact for bands.
//
//===----------------------------------------------------------------------===//

#include "attn/Analysis/MaskAlgebra.h"
#include "MaskTestUtils.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Masks covering every named mask and combinator; the document mask reads
/// the segments below.
const char *const kMasks[] = {
    "#attn.causal",
    "#attn.causal<offset = 2, align = top_left>",
    "#attn.sliding_window<left = 5, right = 2>",
    "#attn.sinks<count = 3>",
    "#attn.block_diagonal<size = 4>",
    "#attn.document",
    "#attn.prefix_lm<prefix = 6>",
    "#attn.strided_shard<stride = 3, block = 2>",
    "#attn.per_head<[#attn.causal, #attn.sliding_window<left = 3>], heads = "
    "[0, 1, 1]>",
    "#attn.neighborhood<grid = [4, 6], kernel = [3, 3], dilation = [1, 2]>",
    "#attn.and<[#attn.causal, #attn.or<[#attn.sinks<count = 2>, "
    "#attn.sliding_window<left = 4>]>]>",
    "#attn.and<[#attn.causal, #attn.sliding_window<left = 4, right = 3>, "
    "#attn.causal<offset = 1>]>",
    "#attn.and<[#attn.causal<offset = -2>, #attn.sliding_window<left = 6>]>",
    "#attn.or<[#attn.causal<offset = 1>, #attn.or<[#attn.causal, "
    "#attn.sinks<count = 1>, #attn.sinks<count = 3>]>]>",
    "#attn.and<[#attn.prefix_lm<prefix = 4>, #attn.and<[#attn.block_diagonal<"
    "size = 8>, #attn.block_diagonal<size = 8>]>]>",
    "#attn.per_head<[#attn.prefix_lm<prefix = 2>, #attn.causal], heads = [0, "
    "0, 0]>",
};

bool sameSegment(int64_t batch, int64_t query, int64_t key) {
  return (query + batch) / 5 == (key + batch) / 5;
}

/// Sequence shapes covering self attention and both kinds of cross
/// attention, sized so that the neighborhood grid (24 tokens) fits.
const std::pair<int64_t, int64_t> kShapes[] = {{24, 24}, {9, 24}, {24, 30}};

TEST_F(MaskTest, SimplifyExpandsPrefixLM) {
  EXPECT_EQ(print(simplifyMask(parse("#attn.prefix_lm<prefix = 16>"))),
            "#attn.or<[#attn.causal, #attn.sinks<count = 16>]>");
}

TEST_F(MaskTest, SimplifyFlattensAndDeduplicates) {
  EXPECT_EQ(
      print(simplifyMask(parse(
          "#attn.and<[#attn.block_diagonal<size = 8>, "
          "#attn.and<[#attn.document, #attn.block_diagonal<size = 8>]>]>"))),
      "#attn.and<[#attn.block_diagonal<size = 8>, #attn.document]>");
  EXPECT_EQ(print(simplifyMask(parse("#attn.or<[#attn.document]>"))),
            "#attn.document");
}

TEST_F(MaskTest, SimplifyMergesCausalIntoWindow) {
  EXPECT_EQ(print(simplifyMask(
                parse("#attn.and<[#attn.causal, #attn.sliding_window<left = 4, "
                      "right = 3>]>"))),
            "#attn.sliding_window<left = 4>");
  // A causal mask left of the diagonal is not a window: both stay.
  EXPECT_EQ(print(simplifyMask(parse("#attn.and<[#attn.causal<offset = -1>, "
                                     "#attn.sliding_window<left = 4>]>"))),
            "#attn.and<[#attn.causal<offset = -1>, "
            "#attn.sliding_window<left = 4>]>");
  // Different alignments do not merge; merged operands come in canonical
  // order: bottom-right causal and window, top-left ones, sinks, the rest.
  EXPECT_EQ(
      print(simplifyMask(parse("#attn.and<[#attn.causal<align = top_left>, "
                               "#attn.sliding_window<left = 4>]>"))),
      "#attn.and<[#attn.sliding_window<left = 4>, "
      "#attn.causal<align = top_left>]>");
}

TEST_F(MaskTest, SimplifyMergesCausalAndSinks) {
  EXPECT_EQ(print(simplifyMask(
                parse("#attn.and<[#attn.causal<offset = 2>, #attn.causal]>"))),
            "#attn.causal");
  EXPECT_EQ(print(simplifyMask(
                parse("#attn.or<[#attn.causal<offset = 2>, #attn.causal, "
                      "#attn.sinks<count = 4>, #attn.sinks<count = 1>]>"))),
            "#attn.or<[#attn.causal<offset = 2>, #attn.sinks<count = 4>]>");
}

TEST_F(MaskTest, SimplifyCollapsesUniformPerHead) {
  EXPECT_EQ(print(simplifyMask(
                parse("#attn.per_head<[#attn.causal, #attn.sinks<count = 1>], "
                      "heads = [1, 1]>"))),
            "#attn.sinks<count = 1>");
}

/// simplifyMask must not change the mask anywhere.
TEST_F(MaskTest, SimplifyPreservesEveryPoint) {
  for (const char *text : kMasks) {
    MaskAttrInterface mask = parse(text);
    MaskAttrInterface simple = simplifyMask(mask);
    for (auto [numQueries, numKeys] : kShapes) {
      MaskContext context{numQueries, numKeys, sameSegment};
      for (int64_t batch = 0; batch < 2; ++batch)
        for (int64_t head = 0; head < 3; ++head)
          for (int64_t i = 0; i < numQueries; ++i)
            for (int64_t j = 0; j < numKeys; ++j)
              ASSERT_EQ(mask.isVisible(context, batch, head, i, j),
                        simple.isVisible(context, batch, head, i, j))
                  << text << " -> " << print(simple) << " at b=" << batch
                  << " h=" << head << " i=" << i << " j=" << j;
    }
  }
}

/// The kind a tile really has, by brute force.
BlockKind bruteForceKind(MaskAttrInterface mask, const MaskContext &context,
                         const MaskBlock &block) {
  int64_t visible = 0, total = 0;
  for (int64_t i = block.queryBegin; i < block.queryEnd; ++i)
    for (int64_t j = block.keyBegin; j < block.keyEnd; ++j, ++total)
      for (int64_t batch = 0; batch < 2; ++batch)
        visible += mask.isVisible(context, batch, block.head, i, j);
  if (visible == 0)
    return BlockKind::Empty;
  return visible == 2 * total ? BlockKind::Full : BlockKind::Partial;
}

/// Empty and full answers must hold for every entry of the tile.
TEST_F(MaskTest, ClassificationIsSound) {
  for (const char *text : kMasks) {
    MaskAttrInterface mask = parse(text);
    for (auto [numQueries, numKeys] : kShapes) {
      MaskContext context{numQueries, numKeys, sameSegment};
      for (int64_t tile : {1, 3, 4, 8})
        for (int64_t head = 0; head < 3; ++head) {
          TileMap map = classifyTiles(mask, context, head, tile, tile);
          for (auto [qb, row] : llvm::enumerate(map.kinds))
            for (auto [kb, kind] : llvm::enumerate(row)) {
              if (kind == BlockKind::Partial)
                continue;
              int64_t q = qb * tile, k = kb * tile;
              MaskBlock block{head, q, std::min(q + tile, numQueries), k,
                              std::min(k + tile, numKeys)};
              ASSERT_EQ(kind, bruteForceKind(mask, context, block))
                  << text << " tile (" << qb << ", " << kb << ") of size "
                  << tile << " head " << head;
            }
        }
    }
  }
}

/// Bands (causal and windows) are classified exactly: no partial tile that
/// is really empty or full.
TEST_F(MaskTest, BandClassificationIsExact) {
  for (const char *text :
       {"#attn.causal", "#attn.sliding_window<left = 37>",
        "#attn.sliding_window<left = 20, right = 9, align = top_left>",
        "#attn.and<[#attn.causal, #attn.sliding_window<left = 64>]>"}) {
    MaskAttrInterface mask = parse(text);
    MaskContext context{200, 230};
    TileMap map = classifyTiles(mask, context, /*head=*/0, 16, 16);
    for (auto [qb, row] : llvm::enumerate(map.kinds))
      for (auto [kb, kind] : llvm::enumerate(row)) {
        int64_t q = qb * 16, k = kb * 16;
        MaskBlock block{0, q, std::min<int64_t>(q + 16, 200), k,
                        std::min<int64_t>(k + 16, 230)};
        ASSERT_EQ(kind, bruteForceKind(mask, context, block))
            << text << " tile (" << qb << ", " << kb << ")";
      }
  }
}

TEST_F(MaskTest, WindowBandCounts) {
  // 64 queries and keys in tiles of 16, window of 16 to the left: per query
  // block, the diagonal tile and the one before it are partial, the rest
  // empty.
  MaskAttrInterface mask = parse("#attn.sliding_window<left = 16>");
  TileMap map = classifyTiles(mask, MaskContext{64, 64}, 0, 16, 16);
  EXPECT_EQ(map.count(BlockKind::Partial), 7);
  EXPECT_EQ(map.count(BlockKind::Full), 0);
  EXPECT_EQ(map.count(BlockKind::Empty), 9);
  // A wider window makes the tiles between the edges full.
  TileMap wide = classifyTiles(parse("#attn.sliding_window<left = 40>"),
                               MaskContext{64, 64}, 0, 16, 16);
  EXPECT_EQ(wide.kinds[3][2], BlockKind::Full);
  EXPECT_EQ(wide.kinds[3][0], BlockKind::Partial);
  EXPECT_EQ(wide.kinds[3][3], BlockKind::Partial);
}

TEST_F(MaskTest, CausalTilesOfCrossAttention) {
  // Nq = 32, Nk = 64, bottom-right aligned: query block 0 sees key blocks
  // 0 and 1 fully, block 2 partially, block 3 not at all.
  TileMap map =
      classifyTiles(parse("#attn.causal"), MaskContext{32, 64}, 0, 16, 16);
  EXPECT_EQ(map.kinds[0][0], BlockKind::Full);
  EXPECT_EQ(map.kinds[0][1], BlockKind::Full);
  EXPECT_EQ(map.kinds[0][2], BlockKind::Partial);
  EXPECT_EQ(map.kinds[0][3], BlockKind::Empty);
}

} // namespace
