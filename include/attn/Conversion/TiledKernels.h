//===- TiledKernels.h - The tiled algorithms, for any target ----*- C++ -*-===//
//
/// \file
/// The tiled algorithms of attn (flash loops, chunked linear attention,
/// hybrids), emitted into a kernel for the CPU or for the GPU. They differ
/// only in where the independent outer iterations run (loops on the CPU,
/// the grid on the GPU) and where scratch buffers live.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_TILEDKERNELS_H
#define ATTN_CONVERSION_TILEDKERNELS_H

#include "attn/Conversion/KernelBuilder.h"

namespace mlir::attn {

/// Where a tiled kernel runs.
enum class KernelTarget { CPU, GPU };

/// How the GPU grid maps onto the work; see KernelManifestLaunch in the
/// runtime, which launches by it.
enum class GridOrder {
  /// x: query blocks of `blockQueries` rows, y: heads, z: sequences.
  QueryBlocksHeadsBatch,
  /// x: heads, y: sequences, z: value-column splits (GPULaunch::valueSplits):
  /// a recurrent kernel carries its state along the whole sequence of one
  /// head; the block's threads share each chunk's independent work.
  HeadsBatch,
};

/// The launch geometry a GPU kernel was built for.
struct GPULaunch {
  GridOrder order = GridOrder::QueryBlocksHeadsBatch;
  int64_t threads = 1;
  /// f32 words of workspace per (sequence, head); 0 without a workspace.
  int64_t workspaceWords = 0;
  /// Query rows per block (QueryBlocksHeadsBatch): `threads` when each
  /// thread owns a row, fewer when a warp shares its rows (tensor cores).
  int64_t blockQueries = 0;
  /// Dynamic shared memory per block, in bytes.
  int64_t sharedBytes = 0;
  /// The kernel copies rows of query, key and value in 16-byte chunks
  /// (cp.async), so each row must start 16-byte aligned; the runtime checks
  /// it (ArgumentSpec::vectorized).
  bool alignedRows = false;
  /// HeadsBatch: blocks along z, each handling Dv / valueSplits value
  /// columns of every (head, sequence).
  int64_t valueSplits = 1;
  /// HeadsBatch kernels with a chunk-parallel form (ChunkSegments in
  /// lib/Conversion/AttnToTiles/LinearTileProgram.h): the f32 words of one
  /// segment boundary of one (sequence, head), all value columns; 0 for a
  /// kernel without one. The runtime picks the segments per sequence
  /// (chooseChunkSegments); for S segments the grid's z axis is then
  /// valueSplits (2 S - 1) (boundary blocks, then output blocks), and the
  /// workspace holds getSegmentedWorkspaceWords words per (sequence, head),
  /// whose flags (getSegmentedWorkspaceFlags) are zeroed before each
  /// launch.
  int64_t segmentWords = 0;
  /// Tokens per chunk (a kernel with a chunk-parallel form).
  int64_t chunk = 0;
  /// The delta rule's chunk-parallel form (ChunkSegments::DeltaTransforms):
  /// chunks per transform block; 0 for other kernels. With S > 1 segments
  /// the grid's z axis is then ceil(chunks / transformGroupChunks)
  /// transform blocks, valueSplits chain blocks and valueSplits S output
  /// blocks; with one segment, valueSplits output blocks.
  int64_t transformGroupChunks = 0;
  /// The delta rule's chain blocks per value split (each runs a part of
  /// its columns); the z axis then holds valueSplits chainsPerSplit of
  /// them.
  int64_t chainsPerSplit = 1;
  /// The f32 words of the transforms the delta rule's form stores per
  /// chunk (ChunkSegments::DeltaTransforms: W [C, F] and U [C, Dv] in the
  /// kernel's 16-bit type).
  int64_t transformWords = 0;
};

/// The segments a chunk-parallel kernel cuts each sequence of `numQueries`
/// tokens into, when one segment would make `blocks` blocks: 1 when that
/// is 256 blocks or more (two per SM of a 132-SM H100 or H200), else enough
/// for about `targetBlocks` blocks, each segment at least 8 chunks.
int64_t chooseChunkSegments(int64_t blocks, int64_t numQueries, int64_t chunk,
                            int64_t targetBlocks = 256);

/// The delta rule's part of a chunk-parallel kernel's workspace: chunks per
/// transform block (0: an additive kernel, no part), chunks per sequence,
/// tokens per chunk, chain blocks per value split and the f32 words of
/// one chunk's stored transforms.
struct DeltaWorkspace {
  int64_t groupChunks = 0, chunks = 0, chunk = 0, chainsPerSplit = 1,
          transformWords = 0;
  /// The transform blocks, one per group of chunks.
  int64_t groups() const {
    return groupChunks > 0 ? (chunks + groupChunks - 1) / groupChunks : 0;
  }
};

/// The f32 words per (sequence, head) of the workspace of a chunk-parallel
/// kernel run with `segments` segments: the segment boundaries, then one
/// flag per (value split, boundary) (per chain block and boundary for the
/// delta rule); for the delta rule then one flag per
/// transform block and, from the next multiple of 4 words, the transforms
/// of each chunk (W, then U). 0 for one segment.
int64_t getSegmentedWorkspaceWords(int64_t segmentWords, int64_t valueSplits,
                                   int64_t segments,
                                   const DeltaWorkspace &delta = {});

/// The words [first, second) of that workspace's slice of each (sequence,
/// head) that must be zero before the launch: its flags (the boundaries and
/// the transforms are written before they are read). Empty for one segment.
std::pair<int64_t, int64_t>
getSegmentedWorkspaceFlags(int64_t segmentWords, int64_t valueSplits,
                           int64_t segments, const DeltaWorkspace &delta = {});

struct TiledOptions {
  /// Queries and keys per tile (a block mask imposes its own block size).
  int64_t blockQueries = 64, blockKeys = 64;
  KernelTarget target = KernelTarget::CPU;
  /// GPU: threads of one block of a per-row kernel (attn.attention).
  int64_t gpuThreads = 128;
  /// GPU: run the tile programs that can on tensor cores.
  bool tensorCores = true;
  /// GPU: the chip the kernel is for (GPUOptions::chip).
  std::string chip = "sm_80";
};

/// Emits the tiled algorithm of `specOp` into `kernel` at the builder's
/// insertion point. For the GPU the kernel is a gpu.func, whose signature
/// ends with a workspace argument when `needsWorkspace(specOp)`; `launch`
/// receives the grid the kernel must be launched with and the workspace
/// words it uses per head (the caller gives the workspace argument that
/// size).
LogicalResult buildTiledKernel(OpBuilder &b, Operation *specOp,
                               const Kernel &kernel,
                               const TiledOptions &options,
                               GPULaunch *launch = nullptr);

/// Whether the GPU kernel of `specOp` needs a workspace (one block per head
/// keeps its state and chunk buffers there).
bool needsWorkspace(Operation *specOp);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILEDKERNELS_H
