//===- LowerToTiles.cpp - attn spec ops to their tiled algorithms ---------===//
//
/// \file
/// The spec ops' kernels, each its tile program (AttentionTileProgram.cpp,
/// LinearTileProgram.cpp, HybridTileProgram.cpp), placed for its target:
///  - the CPU: the program over every sequence and head (and query block),
///    no layouts; attn-tile-to-loops lowers it;
///  - a GPU kernel with tensor cores: one block's part of the program with
///    the mma.sync strategy's layouts (the attention kernel is built by
///    buildAttentionTileKernel; the linear one here, with its
///    chunk-parallel form on few, long sequences);
///  - any other GPU kernel: one block's part with the SIMT strategy's
///    choices (buildSimtKernel); attn-tile-to-simt lowers it.
//
//===----------------------------------------------------------------------===//

#include "AttentionTileProgram.h"
#include "HybridTileProgram.h"
#include "LinearTileProgram.h"
#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Conversion/MmaFragments.h"
#include "attn/Conversion/TileToMmaSync.h"
#include "attn/Conversion/TileToSimt.h"
#include "attn/Conversion/TiledKernels.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <functional>
#include <tuple>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTOTILESPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Tile sizes of the kernels.
struct TileSizes {
  int64_t blockQueries, blockKeys;
};

/// The tiles of `op`'s kernel: the options', or its block mask's blocks.
static TileSizes getAttentionTileSizes(AttentionOp op,
                                       const TiledOptions &options) {
  if (std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize())
    return {(*blockSize)[0], (*blockSize)[1]};
  return {options.blockQueries, options.blockKeys};
}

//===----------------------------------------------------------------------===//
// attn.linear_attention as a tile program (attn_tile)
//===----------------------------------------------------------------------===//

/// What block `z` of a chunk-parallel program's segment axis computes (the
/// GPU's grid z, the CPU's loop over blocks; see GridSegments): the
/// `transforms` transform blocks of the delta form come first, then the
/// boundary blocks (the delta form's chain blocks: `parts` per value
/// split) up to `before`, then the output blocks, `splits` value splits
/// a segment.
struct SegmentBlock {
  /// i1: a boundary or chain block.
  Value boundaryBlock;
  /// Its value split, chain part (delta) and segment (0 for a chain
  /// block, which runs them all).
  Value split, part, index;

  SegmentBlock(Emitter &e, Value z, Value transforms, Value before,
               int64_t splits, int64_t parts, bool delta) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    boundaryBlock = e.cmpi(arith::CmpIPredicate::ult, z, before);
    if (delta)
      boundaryBlock = arith::AndIOp::create(
          b, loc, e.cmpi(arith::CmpIPredicate::uge, z, transforms),
          boundaryBlock);
    // A boundary block's slice is its split and boundary, an output
    // block's its split and segment.
    if (!delta) {
      Value slice =
          arith::SelectOp::create(b, loc, boundaryBlock, z, e.subi(z, before));
      split = arith::RemUIOp::create(b, loc, slice, e.idx(splits));
      index = e.divui(slice, splits);
      return;
    }
    // A chain block's slice is its split and part.
    Value chain = e.subi(z, transforms), output = e.subi(z, before);
    split = arith::SelectOp::create(
        b, loc, boundaryBlock, e.divui(chain, parts),
        arith::RemUIOp::create(b, loc, output, e.idx(splits)));
    part = arith::RemUIOp::create(b, loc, chain, e.idx(parts));
    index = arith::SelectOp::create(b, loc, boundaryBlock, e.idx(0),
                                    e.divui(output, splits));
  }
};

/// The chunk-parallel form of the linear tile program on the CPU, for head
/// h of sequence bi: the blocks a GPU would run side by side (ChunkSegments)
/// run one after the other in the GPU's order (the delta rule's transform
/// blocks, then the boundary or chain blocks, then the output blocks), so
/// everything is there before it is read. A sequence of 2c or more chunks
/// takes min(c, 4) segments, so that CI checks the form the GPU runs on long
/// sequences on short ones.
static void emitCPUSegments(Emitter &e, LinearAttentionOp op,
                            const Kernel &kernel, Value bi, Value h) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  HeadShape shape = getHeadShape(op);
  int64_t features = getLinearSpec(op).featureDim;
  Value n = e.dim(kernel.get(KernelArgRole::Query), 2);
  Value numChunks =
      arith::CeilDivUIOp::create(b, loc, n, e.idx(op.getChunkSize()));
  Value count = arith::MaxUIOp::create(
      b, loc, e.idx(1),
      arith::MinUIOp::create(b, loc, e.divui(numChunks, 2), e.idx(4)));
  Value numBoundaries = e.subi(count, e.idx(1));
  Value boundaries = memref::AllocOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic, features, shape.valueDim},
                      b.getF32Type()),
      ValueRange{numBoundaries});
  auto nothing = [](Value) {};
  // Before the output blocks: the boundary blocks, or the delta rule's
  // transform blocks (one per group of chunks) and its chain block, when
  // there is more than one segment.
  bool delta = op.getUpdate() == UpdateRule::delta;
  Value transforms, chains = numBoundaries;
  ChunkSegments::DeltaTransforms transformSpec;
  if (delta) {
    // W [chunks C, F] and U [chunks C, Dv] in the values' type, as the GPU
    // stores them.
    Value rows =
        arith::MulIOp::create(b, loc, numChunks, e.idx(op.getChunkSize()));
    Type element = cast<MemRefType>(kernel.get(KernelArgRole::Value).getType())
                       .getElementType();
    auto rowsOf = [&](int64_t width) -> Value {
      return memref::AllocOp::create(
          b, loc, MemRefType::get({ShapedType::kDynamic, width}, element),
          ValueRange{rows});
    };
    transformSpec.keyTransforms = rowsOf(features);
    transformSpec.valueTransforms = rowsOf(shape.valueDim);
    // Groups of 2 chunks: short sequences have several.
    transformSpec.groupChunks = 2;
    transformSpec.publishTransforms = transformSpec.awaitTransforms = nothing;
    Value split = e.cmpi(arith::CmpIPredicate::ugt, count, e.idx(1));
    Value groups = arith::CeilDivUIOp::create(b, loc, numChunks,
                                              e.idx(transformSpec.groupChunks));
    transforms = arith::SelectOp::create(b, loc, split, groups, e.idx(0));
    chains = arith::SelectOp::create(b, loc, split, e.idx(1), e.idx(0));
  }
  Value before = delta ? e.addi(transforms, chains) : chains;
  emitFor(
      b, loc, e.idx(0), e.addi(count, before), {},
      [&](Value block, ValueRange) -> SmallVector<Value> {
        // One value split, one chain part.
        SegmentBlock kind(e, block, transforms, before, /*splits=*/1,
                          /*parts=*/1, delta);
        ChunkSegments segments{kind.index,  count,   kind.boundaryBlock,
                               boundaries,  nothing, nothing,
                               std::nullopt};
        if (delta) {
          segments.delta = transformSpec;
          segments.delta->transformBlock =
              e.cmpi(arith::CmpIPredicate::ult, block, transforms);
          segments.delta->group = block;
        }
        emitLinearTileProgram(e, op, kernel, bi, h, e.idx(0), shape.valueDim,
                              TileLayouts{}, &segments);
        return {};
      },
      "segment_blocks");
  memref::DeallocOp::create(b, loc, boundaries);
  if (delta) {
    memref::DeallocOp::create(b, loc, transformSpec.keyTransforms);
    memref::DeallocOp::create(b, loc, transformSpec.valueTransforms);
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool mlir::attn::needsWorkspace(Operation *specOp) {
  return isa<LinearAttentionOp, HybridOp>(specOp);
}
int64_t mlir::attn::chooseChunkSegments(int64_t blocks, int64_t numQueries,
                                        int64_t chunk, int64_t targetBlocks) {
  constexpr int64_t kEnoughBlocks = 256, kMinChunksPerSegment = 8;
  if (blocks <= 0 || blocks >= kEnoughBlocks || chunk <= 0)
    return 1;
  int64_t wanted = (targetBlocks + blocks - 1) / blocks;
  int64_t numChunks = numQueries / chunk + (numQueries % chunk != 0);
  return std::max<int64_t>(1,
                           std::min(wanted, numChunks / kMinChunksPerSegment));
}

int64_t mlir::attn::getSegmentedWorkspaceWords(int64_t segmentWords,
                                               int64_t valueSplits,
                                               int64_t segments,
                                               const DeltaWorkspace &delta) {
  if (segments <= 1)
    return 0;
  if (delta.groupChunks <= 0)
    return (segments - 1) * (segmentWords + valueSplits);
  int64_t words =
      (segments - 1) * (segmentWords + valueSplits * delta.chainsPerSplit);
  // The transform flags, then the transforms from a 16-byte boundary.
  return llvm::alignTo(words + delta.groups(), 4) +
         delta.chunks * delta.transformWords;
}

std::pair<int64_t, int64_t>
mlir::attn::getSegmentedWorkspaceFlags(int64_t segmentWords,
                                       int64_t valueSplits, int64_t segments,
                                       const DeltaWorkspace &delta) {
  if (segments <= 1)
    return {0, 0};
  int64_t boundaries = segments - 1;
  int64_t first = boundaries * segmentWords;
  if (delta.groupChunks <= 0)
    return {first, first + boundaries * valueSplits};
  return {first, first + boundaries * valueSplits * delta.chainsPerSplit +
                     delta.groups()};
}

namespace {
/// The blocks of a chunk-parallel tensor-core kernel (ChunkSegments): the
/// grid is heads x sequences x (value splits x (2 segments - 1)). The
/// first value splits x (segments - 1) slices along z are boundary blocks,
/// the rest output blocks. The workspace [B, H, words] holds per (sequence,
/// head) the boundaries, then a flag per (value split, boundary) that the
/// boundary's block raises (the runtime zeroes them before the launch).
/// An output block waits only for boundary blocks, which wait for nothing
/// and come first in the grid's order, in which the GPU starts blocks (as
/// CUB's single-pass scan also relies on). With one segment every block is
/// an output block and the workspace is not touched.
///
/// The delta rule's form (ChunkSegments::DeltaTransforms) lays z out as
/// ceil(chunks / groupChunks) transform blocks, value splits x parts chain
/// blocks and value splits x segments output blocks (with one segment, the
/// output blocks only), and the workspace as the boundaries, a flag per
/// (chain block, boundary), a flag per transform block and, from the next
/// multiple of 4 words, the transforms W and U of each chunk
/// (getSegmentedWorkspaceWords). Chain
/// blocks wait only for transform blocks, output blocks for both; each
/// kind comes after those it waits for.
struct GridSegments {
  Emitter &e;
  Value workspace;
  Value count, flags;
  /// This block's work: head, sequence, value split, segment and kind.
  Value h, bi, split, index, boundaryBlock;
  /// The delta rule's form (`delta`, groups of `groupChunks` chunks): the
  /// transform blocks come first along z, then `parts` chain blocks per
  /// value split (`part`: which), then the output blocks; none of the
  /// first two with one segment. `transformFlags` and `transformsStart` are
  /// word offsets.
  bool delta = false;
  int64_t parts = 1;
  Value transformBlock, group, part, transformFlags, transformsStart, numChunks;

  GridSegments(Emitter &e, Value workspace, int64_t splits,
               int64_t segmentWords, int64_t groupChunks = 0, int64_t chunk = 0,
               Value numQueries = {}, int64_t chainsPerSplit = 1)
      : e(e), workspace(workspace), delta(groupChunks > 0),
        parts(chainsPerSplit) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
    Value z = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
    Value sizeZ = gpu::GridDimOp::create(b, loc, gpu::Dimension::z);
    Value before = e.idx(0), transforms = e.idx(0), groups;
    if (delta) {
      // sizeZ = splits with one segment, else
      // groups + splits parts + splits count.
      numChunks = arith::CeilDivUIOp::create(b, loc, numQueries, e.idx(chunk));
      groups =
          arith::CeilDivUIOp::create(b, loc, numChunks, e.idx(groupChunks));
      Value split = e.cmpi(arith::CmpIPredicate::ne, sizeZ, e.idx(splits));
      transforms = arith::SelectOp::create(b, loc, split, groups, e.idx(0));
      before = e.addi(transforms,
                      arith::SelectOp::create(b, loc, split,
                                              e.idx(splits * parts), e.idx(0)));
      count = e.divui(e.subi(sizeZ, before), splits);
      transformBlock = e.cmpi(arith::CmpIPredicate::ult, z, transforms);
      group = z;
    } else {
      // sizeZ = splits (2 count - 1).
      count = e.divui(e.addi(e.divui(sizeZ, splits), e.idx(1)), 2);
      before =
          arith::MulIOp::create(b, loc, e.subi(count, e.idx(1)), e.idx(splits));
    }
    Value boundaries = e.subi(count, e.idx(1));
    flags = arith::MulIOp::create(b, loc, boundaries, e.idx(segmentWords));
    if (delta) {
      transformFlags =
          e.addi(flags, arith::MulIOp::create(b, loc, boundaries,
                                              e.idx(splits * parts)));
      // Rounded up to 4 words: each transform's rows start 16-byte
      // aligned.
      Value end = e.addi(transformFlags, groups);
      transformsStart = arith::MulIOp::create(
          b, loc, arith::CeilDivUIOp::create(b, loc, end, e.idx(4)), e.idx(4));
    }
    SegmentBlock kind(e, z, transforms, before, splits, parts, delta);
    boundaryBlock = kind.boundaryBlock;
    split = kind.split;
    part = kind.part;
    index = kind.index;
  }

  /// Runs `body` on thread 0 of the block only.
  void onFirstThread(function_ref<void()> body) {
    OpBuilder &b = e.b;
    Value thread = gpu::ThreadIdOp::create(b, e.loc, gpu::Dimension::x);
    auto ifOp =
        scf::IfOp::create(b, e.loc, TypeRange{},
                          e.cmpi(arith::CmpIPredicate::eq, thread, e.idx(0)),
                          /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    body();
  }
  /// Atomically adds `value` to word `word` of this block's (sequence,
  /// head); returns the word before.
  Value atomicAdd(Value word, double value) {
    return memref::AtomicRMWOp::create(e.b, e.loc, arith::AtomicRMWKind::addf,
                                       e.f.c(value), workspace,
                                       ValueRange{bi, h, word});
  }
  /// The flag of boundary `segment` of this block's split (and, for the
  /// delta rule, of chain part `chainPart`).
  Value flag(Value segment, Value chainPart = {}) {
    Value chain = split;
    if (delta)
      chain = e.addi(arith::MulIOp::create(e.b, e.loc, split, e.idx(parts)),
                     chainPart);
    return e.addi(flags, e.addi(arith::MulIOp::create(e.b, e.loc, chain,
                                                      e.subi(count, e.idx(1))),
                                segment));
  }
  /// The boundaries of this block's (sequence, head), [count - 1, F, Dv].
  Value boundaries(int64_t features, int64_t valueDim) {
    return view(e.idx(0), e.subi(count, e.idx(1)), features, valueDim);
  }
  /// The delta rule's stored transforms of `element`s (16-bit): W
  /// [chunks C, F], then U [chunks C, Dv].
  std::pair<Value, Value> transformTiles(int64_t chunk, int64_t features,
                                         int64_t valueDim, Type element) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    Value rows = arith::MulIOp::create(b, loc, numChunks, e.idx(chunk));
    Value keys = getWorkspaceView(b, loc, workspace, bi, h, transformsStart,
                                  rows, {features}, element);
    Value valuesStart =
        e.addi(transformsStart,
               arith::MulIOp::create(b, loc, rows, e.idx(features / 2)));
    Value values = getWorkspaceView(b, loc, workspace, bi, h, valuesStart, rows,
                                    {valueDim}, element);
    return {keys, values};
  }
  /// [rows, d1, d2] f32 from word `start` of this block's (sequence, head).
  Value view(Value start, Value rows, int64_t d1, int64_t d2) {
    return getWorkspaceView(e.b, e.loc, workspace, bi, h, start, rows,
                            {d1, d2});
  }
  /// A fence that orders this thread's memory operations, and those it has
  /// observed, for the whole GPU.
  void fence() {
    LLVM::FenceOp::create(e.b, e.loc, LLVM::AtomicOrdering::acq_rel, "device");
  }
  /// After every thread has stored its part of boundary `segment`: the
  /// block meets, then thread 0 fences (cumulatively: the other threads'
  /// stores came before the barrier) and raises the flag, as cooperative
  /// groups' grid barrier does.
  void publish(Value segment) { raise(flag(segment, part)); }
  void publishTransforms(Value group) { raise(e.addi(transformFlags, group)); }
  void raise(Value word) {
    fence();
    gpu::BarrierOp::create(e.b, e.loc);
    onFirstThread([&] {
      fence();
      atomicAdd(word, 1.0);
    });
  }
  /// Before any thread reads boundary `segment`: thread 0 waits for its
  /// flag (an atomic read, which no cache keeps stale) and fences, then the
  /// block meets.
  void await(Value segment) {
    if (!delta)
      return awaitRaised(flag(segment));
    for (int64_t p = 0; p < parts; ++p)
      awaitRaised(flag(segment, e.idx(p)));
  }
  void awaitTransforms(Value group) {
    awaitRaised(e.addi(transformFlags, group));
  }
  void awaitRaised(Value word) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    onFirstThread([&] {
      auto loop = scf::WhileOp::create(b, loc, TypeRange{}, ValueRange{});
      {
        OpBuilder::InsertionGuard guard(b);
        b.createBlock(&loop.getBefore());
        Value raised = atomicAdd(word, 0.0);
        scf::ConditionOp::create(
            b, loc,
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, raised,
                                  e.f.c(0.0)),
            ValueRange{});
        b.createBlock(&loop.getAfter());
        scf::YieldOp::create(b, loc);
      }
      fence();
    });
    gpu::BarrierOp::create(b, loc);
  }
};
} // namespace

/// The CPU kernel of `specOp`: its tile program over every sequence and
/// head (attn-tile-to-loops lowers it), the program the GPU's tensor-core
/// kernels run.
static void buildCPUTileProgram(OpBuilder &b, Operation *specOp,
                                const Kernel &kernel,
                                const TiledOptions &options) {
  Emitter e(b, specOp->getLoc());
  Value query = kernel.get(KernelArgRole::Query);
  llvm::TypeSwitch<Operation *>(specOp)
      .Case([&](AttentionOp op) {
        TileSizes tiles = getAttentionTileSizes(op, options);
        KeyBlockPlan keys =
            getKeyBlockPlan(op, kernel, e.dim(query, 2),
                            e.dim(kernel.get(KernelArgRole::Key), 2));
        emitAttentionTileProgram(e, op, kernel, keys, tiles.blockQueries,
                                 tiles.blockKeys);
      })
      .Case([&](LinearAttentionOp op) {
        HeadShape shape = getHeadShape(op);
        e.loop(e.idx(0), e.dim(query, 0), [&](Value bi) {
          e.loop(shape.heads, [&](Value h) {
            if (canSplitIntoSegments(op))
              emitCPUSegments(e, op, kernel, bi, h);
            else
              emitLinearTileProgram(e, op, kernel, bi, h, e.idx(0),
                                    shape.valueDim, TileLayouts{});
          });
        });
      })
      .Case([&](HybridOp op) {
        emitHybridTileProgram(e, op, kernel, options.blockKeys);
      });
}

/// Dynamic shared memory a SIMT kernel may take: what a block can have on
/// every chip attn targets (sm_86 and sm_89 allow 99 KB).
static constexpr int64_t kSimtSharedBytes = 96 * 1024;

/// The tile sizes the SIMT attention kernel tries, largest first: query
/// rows, keys.
static constexpr std::pair<int64_t, int64_t> kSimtAttentionTiles[] = {
    {32, 32}, {16, 32}, {16, 16}, {8, 16}, {8, 8}, {4, 8},
    {4, 4},   {2, 4},   {2, 2},   {1, 2},  {1, 1}};

/// The GPU kernel of `specOp` on the SIMT strategy (attn-tile-to-simt): its
/// tile program with f32 operands and no fetch ahead
/// (TileLayouts::simtStrategy), `options.gpuThreads` threads a block.
///  - attn.attention: a block per query block (x: query blocks, y: heads,
///    z: sequences), its tiles in shared memory, as large as fit in
///    kSimtSharedBytes (kSimtAttentionTiles, at most `options.blockKeys`
///    keys; or, under a block mask, its keys and query rows that divide
///    its query blocks).
///  - attn.linear_attention and attn.hybrid: a block per (head, sequence)
///    carries the chunk loop, its tiles in shared memory, the largest in
///    the workspace slice of its (sequence, head) where they do not fit.
static LogicalResult buildSimtKernel(OpBuilder &b, Operation *specOp,
                                     const Kernel &kernel,
                                     const TiledOptions &options,
                                     GPULaunch *launch) {
  Location loc = specOp->getLoc();
  FunctionOpInterface func = kernel.func;
  auto function = dyn_cast<gpu::GPUFuncOp>(func.getOperation());
  if (!function)
    return specOp->emitError() << "a GPU kernel must be a gpu.func";
  // A linear or hybrid kernel has one block per (sequence, head) and
  // tiles of C x F and F x Dv elements: it takes 256 threads, as many as
  // 255 registers each leave a block (the chunked loops it replaced took
  // up to 256 too).
  int64_t threads = isa<AttentionOp>(specOp)
                        ? options.gpuThreads
                        : std::max<int64_t>(options.gpuThreads, 256);
  function->setAttr(kSimtKernelAttrName, b.getUnitAttr());
  // Every register: left to itself ptxas caps some of these kernels at 64
  // and spills.
  setKernelBlockSize(function, threads, /*everyRegister=*/true);
  TileLayouts layouts = TileLayouts::simtStrategy();
  GPULaunch geometry;
  geometry.threads = threads;

  if (auto op = dyn_cast<AttentionOp>(specOp)) {
    // The tiles to try: a block mask fixes the keys, and its query blocks
    // must hold whole numbers of the kernel's.
    SmallVector<std::pair<int64_t, int64_t>> candidates;
    if (std::optional<ArrayRef<int64_t>> blocks = op.getBlockSize()) {
      for (int64_t rows : {32, 16, 8, 4, 2, 1})
        if ((*blocks)[0] % rows == 0)
          candidates.push_back({rows, (*blocks)[1]});
    } else {
      for (auto [rows, keys] : kSimtAttentionTiles)
        if (keys <= options.blockKeys)
          candidates.push_back({rows, keys});
    }
    HeadShape shape = getHeadShape(op);
    int64_t needed = 0;
    // Builds the program with the given tiles before b's insertion point,
    // measures it, and takes it back where it does not fit.
    Operation *end = &*b.getInsertionPoint();
    for (auto [rows, keys] : candidates) {
      Operation *before = end->getPrevNode();
      Emitter e(b, loc);
      Value query = kernel.get(KernelArgRole::Query);
      KeyBlockPlan plan =
          getKeyBlockPlan(op, kernel, e.dim(query, 2),
                          e.dim(kernel.get(KernelArgRole::Key), 2));
      emitAttentionQueryBlock(
          e, op, kernel, plan, rows, keys, layouts,
          gpu::BlockIdOp::create(b, loc, gpu::Dimension::z),
          gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
          gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
      needed = getSimtScratchBytes(function).shared;
      if (needed <= kSimtSharedBytes) {
        geometry.order = GridOrder::QueryBlocksHeadsBatch;
        geometry.blockQueries = rows;
        geometry.sharedBytes = needed;
        if (launch)
          *launch = geometry;
        return success();
      }
      while (end->getPrevNode() != before)
        end->getPrevNode()->erase();
    }
    return op.emitError() << "head dims Dk = " << shape.keyDim
                          << " and Dv = " << shape.valueDim
                          << " are too wide for the SIMT attention kernel: "
                             "its smallest tiles need "
                          << needed << " bytes of shared memory, more than "
                          << kSimtSharedBytes;
  }

  Emitter e(b, loc);
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  if (auto op = dyn_cast<LinearAttentionOp>(specOp))
    emitLinearTileProgram(e, op, kernel, bi, h, e.idx(0),
                          getHeadShape(op).valueDim, layouts);
  else
    emitHybridTileProgram(e, cast<HybridOp>(specOp), kernel, options.blockKeys,
                          bi, h, layouts);
  geometry.order = GridOrder::HeadsBatch;
  // Where the tiles do not all fit in shared memory, those over 16 KB go to
  // the workspace, or more where the rest still do not fit. Measured on the
  // H200 (bench/NOTES.md), keeping every tile that fits in shared memory
  // instead ran the linear examples up to 1.6x slower.
  for (int64_t sharedTileBytes :
       {INT64_MAX, int64_t(16384), int64_t(4096), int64_t(1024), int64_t(0)}) {
    SimtScratchBytes bytes = getSimtScratchBytes(function, sharedTileBytes);
    if (bytes.shared > kSimtSharedBytes)
      continue;
    geometry.sharedBytes = bytes.shared;
    if (bytes.workspace) {
      int64_t workspace = kernel.signature->find(KernelArgRole::Workspace);
      if (workspace < 0)
        return specOp->emitError()
               << "the GPU kernel of this op needs a workspace argument";
      function->setAttr(kSimtWorkspaceAttrName, b.getI64IntegerAttr(workspace));
      function->setAttr(kSimtSharedTileBytesAttrName,
                        b.getI64IntegerAttr(sharedTileBytes));
      geometry.workspaceWords = bytes.workspace / 4;
    }
    break;
  }
  if (launch)
    *launch = geometry;
  return success();
}

LogicalResult mlir::attn::buildTiledKernel(OpBuilder &b, Operation *specOp,
                                           const Kernel &kernel,
                                           const TiledOptions &options,
                                           GPULaunch *launch) {
  if (options.blockQueries <= 0 || options.blockKeys <= 0 ||
      options.gpuThreads <= 0 || options.gpuThreads > 1024)
    return specOp->emitError()
           << "tile sizes must be positive and GPU threads within 1..1024";
  if (auto linear = dyn_cast<LinearAttentionOp>(specOp);
      linear && options.target == KernelTarget::GPU && options.tensorCores &&
      canRunLinearOnTensorCores(linear, kernel, options.chip)) {
    // The tile program on the mma.sync strategy: one block per (value
    // columns, head, sequence).
    Emitter e(b, specOp->getLoc());
    int64_t columns = getTensorCoreValueColumns(linear, options.chip);
    HeadShape shape = getHeadShape(linear);
    int64_t splits = shape.valueDim / columns;
    TileLayouts layouts =
        TileLayouts::mmaSync(b.getContext(), kTensorCoreChunkWarps);
    int64_t segmentWords = 0, groupChunks = 0, chainsPerSplit = 1;
    if (canSplitIntoSegments(linear)) {
      int64_t features = getLinearSpec(linear).featureDim;
      segmentWords = features * shape.valueDim;
      bool delta = linear.getUpdate() == UpdateRule::delta;
      groupChunks = delta ? kDeltaTransformGroupChunks : 0;
      // The chain blocks are the delta form's critical path: two per
      // split of 64 columns run 32 each (half the products a chunk).
      chainsPerSplit = delta && columns == 64 ? 2 : 1;
      GridSegments grid(e, kernel.get(KernelArgRole::Workspace), splits,
                        segmentWords, groupChunks, linear.getChunkSize(),
                        e.dim(kernel.get(KernelArgRole::Query), 2),
                        chainsPerSplit);
      ChunkSegments segments{grid.index,
                             grid.count,
                             grid.boundaryBlock,
                             grid.boundaries(features, shape.valueDim),
                             [&](Value s) { grid.publish(s); },
                             [&](Value s) { grid.await(s); },
                             std::nullopt};
      if (delta) {
        ChunkSegments::DeltaTransforms transforms;
        transforms.transformBlock = grid.transformBlock;
        transforms.group = grid.group;
        transforms.groupChunks = groupChunks;
        std::tie(transforms.keyTransforms, transforms.valueTransforms) =
            grid.transformTiles(
                linear.getChunkSize(), features, shape.valueDim,
                cast<MemRefType>(kernel.get(KernelArgRole::Value).getType())
                    .getElementType());
        transforms.publishTransforms = [&](Value g) {
          grid.publishTransforms(g);
        };
        transforms.awaitTransforms = [&](Value g) { grid.awaitTransforms(g); };
        transforms.chainsPerSplit = chainsPerSplit;
        transforms.chainPart = grid.part;
        segments.delta = transforms;
      }
      Value v0 = arith::MulIOp::create(b, e.loc, grid.split, e.idx(columns));
      emitLinearTileProgram(e, linear, kernel, grid.bi, grid.h, v0, columns,
                            layouts, &segments);
    } else {
      Value h = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::x);
      Value bi = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::y);
      Value split = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::z);
      Value v0 = arith::MulIOp::create(b, e.loc, split, e.idx(columns));
      emitLinearTileProgram(e, linear, kernel, bi, h, v0, columns, layouts);
    }
    FunctionOpInterface func = kernel.func;
    if (auto function = dyn_cast<gpu::GPUFuncOp>(func.getOperation()))
      setKernelBlockSize(function, 32 * kTensorCoreChunkWarps,
                         /*everyRegister=*/false);
    if (launch) {
      *launch = {GridOrder::HeadsBatch, 32 * kTensorCoreChunkWarps,
                 /*workspaceWords=*/0,
                 /*blockQueries=*/0,    getTileSharedBytes(kernel.func),
                 /*alignedRows=*/true};
      launch->valueSplits = splits;
      launch->segmentWords = segmentWords;
      launch->transformGroupChunks = groupChunks;
      launch->chainsPerSplit = chainsPerSplit;
      // W and U per chunk, 16-bit.
      if (groupChunks > 0)
        launch->transformWords =
            linear.getChunkSize() *
            (getLinearSpec(linear).featureDim + shape.valueDim) / 2;
      launch->chunk = linear.getChunkSize();
    }
    return success();
  }
  if (options.target == KernelTarget::CPU) {
    buildCPUTileProgram(b, specOp, kernel, options);
    return success();
  }
  return buildSimtKernel(b, specOp, kernel, options, launch);
}

namespace {

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct AttnLowerToTilesPass
    : public attn::impl::AttnLowerToTilesPassBase<AttnLowerToTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockQueries <= 0 || blockKeys <= 0 || blockQueries > kMaxBlockSize ||
        blockKeys > kMaxBlockSize) {
      emitError(module.getLoc())
          << "block-queries and block-keys must lie in [1, " << kMaxBlockSize
          << "]";
      return signalPassFailure();
    }
    TiledOptions options;
    options.blockQueries = blockQueries;
    options.blockKeys = blockKeys;
    FailureOr<Type> storage = parseFloatStorage(module, floatStorage);
    if (failed(storage) ||
        failed(lowerSpecOps(
            module, "tiled", StorageTypes{*storage, {}}, checkIndices,
            [&](OpBuilder &builder, Operation *op, const Kernel &kernel) {
              return buildTiledKernel(builder, op, kernel, options);
            })))
      signalPassFailure();
  }
};

} // namespace
