//===- LinearTileProgram.h - linear attention as a tile program -*- C++ -*-===//
//
/// \file
/// attn.linear_attention's chunked tile program (LinearTileProgram.cpp), as
/// attn-lower-to-tiles emits it for the CPU and for the tensor-core kernel.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOTILES_LINEARTILEPROGRAM_H
#define ATTN_LIB_CONVERSION_ATTNTOTILES_LINEARTILEPROGRAM_H

#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include <functional>
#include <optional>

namespace mlir::attn {

/// Where a tile program's tiles live. For the CPU strategy nothing is
/// placed (null layouts: one thread holds everything); for the mma.sync
/// strategy, tiles read from memory and chunk vectors go to shared memory
/// and matmul results stay in #attn_tile.mma registers.
struct TileLayouts {
  Attribute loaded, vectors, accumulator;
  /// The SIMT strategy (attn-tile-to-simt): no layouts, and two choices of
  /// its own. With no tensor cores to feed, matmul operands stay f32 (its
  /// tiles may live in the f32 workspace). With no asynchronous copies,
  /// loops load each tile in the iteration that reads it instead of
  /// carrying the next one, which would cost it a copy and its memory.
  bool simt = false;

  static TileLayouts simtStrategy() {
    TileLayouts layouts;
    layouts.simt = true;
    return layouts;
  }

  static TileLayouts mmaSync(MLIRContext *context, int64_t warps) {
    auto shared = tile::SharedLayoutAttr::get(context);
    return {shared, shared,
            tile::MmaLayoutAttr::get(context, ArrayRef<int64_t>{warps, 1})};
  }
  Attribute rows() const {
    return accumulator ? tile::SliceLayoutAttr::get(accumulator.getContext(),
                                                    /*dim=*/1, accumulator)
                       : Attribute();
  }
  Attribute columns() const {
    return accumulator ? tile::SliceLayoutAttr::get(accumulator.getContext(),
                                                    /*dim=*/0, accumulator)
                       : Attribute();
  }
};

/// What the chunked tile program computes: attn.linear_attention, or the
/// linear term of attn.hybrid (docs/semantics.md, 7.2).
struct LinearTerm {
  LinearSpec linear;
  HeadShape shape;
  UpdateRule update = UpdateRule::additive;
  bool causal = true;
  LinearNormalization normalization = LinearNormalization::none;
  double normEps = 1e-6;
  int64_t chunk = 64;
  double scale = 1;
  /// Query i reads the keys j <= i - lag (causal only): the linear term of
  /// a shared-denominator hybrid, which leaves the window to the softmax.
  int64_t lag = 0;
  /// Whether the state z of the denominators is carried: under
  /// `denominator`, and for a shared denominator.
  bool denominatorState = false;

  static LinearTerm of(LinearAttentionOp op);
  static LinearTerm of(HybridOp op);
};

/// Receives the output rows [q0, q0 + C) of one chunk of a linear term:
/// `rows` [C, W] (normalized as the term says) and, for a term with a
/// denominator state but no `denominator` normalization, the
/// denominators z [C] (else null). Replaces the store of the rows.
using LinearChunkOutput =
    std::function<void(Value q0, Value rows, Value denominators)>;

/// Chunks per transform block of the delta rule's chunk-parallel form
/// (ChunkSegments) on the GPU.
inline constexpr int64_t kDeltaTransformGroupChunks = 8;

/// The chunk-parallel form of a causal program with additive updates
/// (canSplitIntoSegments): the chunks of each sequence are cut into `count`
/// segments of equal length (the last shorter), and two kinds of block
/// share the work:
///  - a boundary block (`boundaryBlock`; none for the last segment)
///    carries segment `index`'s local state L (from zero over its chunks,
///    attn_tile.state_update) and, with a gate, its decay D (from ones,
///    attn_tile.decay_state); it then takes the state S where the segment
///    starts (the op's initial state, or boundary index - 1 once
///    `await(index - 1)` returns), stores the state where it ends,
///    D o S + L, at `boundaries[index, 0, v0]`, and calls `publish(index)`;
///  - an output block starts segment `index` from that same S and runs the
///    chunk loop over the segment's chunks; the last segment's block
///    writes the final state.
/// The boundaries thus form a chain, one combine each, while the chunk
/// loops of every segment run in parallel.
///
/// The delta rule's state after a segment is a product of its chunks'
/// transforms with the state before, not a decay plus a local state, so
/// its boundaries come from a chain of another kind (`delta` set), with
/// three kinds of block:
///  - a transform block (`delta->transformBlock`) solves the UT inverses
///    of the chunks [group G, (group + 1) G) (G = `delta->groupChunks`,
///    `delta->group`), the part of a chunk that needs no state, stores
///    each chunk's W and U (`delta->keyTransforms`, `valueTransforms`) and
///    calls `delta->publishTransforms(group)`;
///  - the chain block of each value split (`boundaryBlock`) runs the state
///    through the chunks of every segment but the last with the stored
///    transforms (`delta->awaitTransforms(group)` before a group's first
///    chunk): the values U - W S and the state update a chunk, no solve
///    and no output; it stores the state where each segment ends at
///    `boundaries[segment, 0, v0]` and calls `publish(segment)`;
///  - output blocks as above, their delta values from the stored
///    transforms.
/// A transform block waits for nothing, a chain block only for transform
/// blocks, an output block for both.
struct ChunkSegments {
  Value index, count;
  /// i1: whether this block computes boundaries (else it writes outputs).
  Value boundaryBlock;
  /// [count - 1, F, Dv] f32: the state where each segment but the last
  /// ends.
  Value boundaries;
  /// Emitted at the builder's insertion point.
  std::function<void(Value segment)> publish, await;

  struct DeltaTransforms {
    Value transformBlock, group;
    int64_t groupChunks = kDeltaTransformGroupChunks;
    /// What the transform blocks store of each chunk (chunk c's at rows
    /// [c C, c C + C)), in the values' type: W = T diag(exp(p)) phi(K)
    /// ([chunks C, F]) and U = T V ([chunks C, Dv]), with T the chunk's UT
    /// transform (I + diag(beta) ((phi(K) phi(K)^T) o D o M_<))^-1
    /// diag(beta). The chunk's values are then U - W S from the state S
    /// where it starts.
    Value keyTransforms, valueTransforms;
    /// The chain blocks of one value split: each runs width /
    /// chainsPerSplit of its columns, `chainPart` the part of this block
    /// (a chain block's publish raises its part's flag; an output block's
    /// await waits for every part's).
    int64_t chainsPerSplit = 1;
    Value chainPart;
    std::function<void(Value group)> publishTransforms, awaitTransforms;
  };
  /// The delta rule's form; empty for additive updates.
  std::optional<DeltaTransforms> delta;
};

/// Whether the program of `op` has a chunk-parallel form (ChunkSegments):
/// causal, no `denominator` normalization.
bool canSplitIntoSegments(LinearAttentionOp op);

/// Emits the linear tile program of `op` for head h of sequence bi and the
/// value columns [v0, v0 + width), its tiles placed by `layouts`; with
/// `segments`, one segment of each sequence (ChunkSegments).
void emitLinearTileProgram(Emitter &e, LinearAttentionOp op,
                           const Kernel &kernel, Value bi, Value h, Value v0,
                           int64_t width, const TileLayouts &layouts,
                           const ChunkSegments *segments = nullptr);

/// Emits the chunked tile program of `term` for head h of sequence bi
/// (all value columns, no segments; the CPU's or the SIMT strategy's
/// `layouts`), handing each chunk's rows to `output`. Under a lag L > 0
/// the chunk loop runs over the key chunks [k0, k0 + C) and their queries
/// [k0 + L, k0 + L + C); the queries before L (which read no key of the
/// term) get no call.
void emitLinearTermProgram(Emitter &e, const LinearTerm &term,
                           const Kernel &kernel, Value bi, Value h,
                           const LinearChunkOutput &output,
                           const TileLayouts &layouts);

/// Warps of the tensor-core linear kernel: 16 chunk rows and F / 4 state
/// rows each.
inline constexpr int64_t kTensorCoreChunkWarps = 4;

/// The value columns one block of the tensor-core linear kernel handles
/// (the grid's z axis runs over the Dv / width splits).
int64_t getTensorCoreValueColumns(LinearAttentionOp op, StringRef chip);

/// Whether the linear tile program of `op` runs on the mma.sync strategy
/// (the tensor-core kernel) for `kernel`'s storage types.
bool canRunLinearOnTensorCores(LinearAttentionOp op, const Kernel &kernel,
                               StringRef chip);

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOTILES_LINEARTILEPROGRAM_H
