//===- MaskTypes.h - Value types of the mask interface ----------*- C++ -*-===//
//
/// \file
/// Plain structs passed to `MaskAttrInterface` methods: the run-time sizes a
/// mask is evaluated against, a tile to classify, and what an op tells a
/// mask about itself when verifying.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_MASKTYPES_H
#define ATTN_DIALECT_ATTN_IR_MASKTYPES_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <optional>

namespace mlir::attn {

/// The largest magnitude of a named mask's token count or offset, and the
/// longest sequence a GPU kernel takes. GPU kernels index with 32-bit
/// arithmetic; with both bounded by 2^30, every position a mask computes
/// (a query index plus the diagonal shift Nk - Nq plus an offset or window)
/// stays within int32, so masks never wrap on any backend.
constexpr int64_t kMaxMaskExtent = int64_t(1) << 30;

/// What a tile of the score matrix holds once a mask is applied.
enum class BlockKind { Empty, Partial, Full };

/// The sizes a mask is evaluated against.
struct MaskContext {
  int64_t numQueries = 0;
  int64_t numKeys = 0;
  /// Whether query `i` and key `j` of batch `b` share a document; needed by
  /// `#attn.document` only, which treats a missing callback as an error.
  llvm::function_ref<bool(int64_t batch, int64_t query, int64_t key)>
      sameSegment = nullptr;
};

/// The half-open tile [queryBegin, queryEnd) x [keyBegin, keyEnd) of head
/// `head`. Coordinates past the sequence ends are allowed and ignored by no
/// mask: callers clip tiles to the sequence first.
struct MaskBlock {
  int64_t head = 0;
  int64_t queryBegin = 0, queryEnd = 0;
  int64_t keyBegin = 0, keyEnd = 0;
};

/// What an op states about itself, for `MaskAttrInterface::verifyForOp`.
struct MaskOpInfo {
  int64_t numQueryHeads = 0;
  /// Static sequence lengths; nullopt when dynamic.
  std::optional<int64_t> numQueries, numKeys;
  bool hasSegmentIds = false;
};

/// The IR values a mask is built from, for
/// `MaskAttrInterface::buildIsVisible`. Indices and lengths are `index`
/// values; the segment ids are rank-2 memrefs [batch, seq], present when the
/// op has them.
struct MaskValues {
  Value batch, head, query, key;
  Value numQueries, numKeys;
  Value querySegments, keySegments;
};

/// The keys a block of queries may see under a mask, as `index` values:
/// disjoint half-open intervals holding every visible key, and one interval
/// of keys every query of the block sees. An interval with lo >= hi is
/// empty; intervals are not clipped to [0, Nk).
struct KeyRanges {
  llvm::SmallVector<std::pair<Value, Value>, 2> visible;
  std::pair<Value, Value> full;
};

/// The IR values key ranges are built from: the query block
/// [queryBegin, queryEnd), the head, and the sequence lengths.
struct KeyRangeQuery {
  Value queryBegin, queryEnd, head;
  Value numQueries, numKeys;
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_MASKTYPES_H
