//===- TensorCoreAttention.cpp - attn.attention on tensor cores -----------===//
//
/// \file
/// The GPU kernel of an attn.attention whose query, key and value are
/// stored as bf16 or f16: a FlashAttention-2 style forward loop on the
/// m16n8k16 tensor-core MMA (mma.sync), which sm_80 introduced and sm_90a
/// runs unchanged.
///
/// One block of 4 warps handles 64 query rows of one (sequence, head); warp
/// w owns rows 16w .. 16w + 15. Per block:
///  1. cp.async stages the Q tile in shared memory; Q's MMA fragments are
///     read with ldmatrix (once, or per key tile when Dk > 64 to save
///     registers).
///  2. The key tiles the masks leave are visited as on every target
///     (emitKeyTiles), 64 keys at a time. Per tile, cp.async stages K and V
///     in shared memory in two groups, so V is still landing while
///     S = Q K^T runs on K.
///  3. Every element of a warp's S fragment (16 rows x 64 keys, 32 f32 per
///     thread) is scaled, given to the score_mod region and, in a masked
///     tile, to the mask (named mask and mask_mod region) with its own row
///     and key indices: the user's regions run on register fragments.
///  4. Online softmax: a row's maximum and sum are reduced over the four
///     threads that hold it (shuffles within a quad). Other normalizations
///     take their weights directly.
///  5. The weights P, rounded to the storage type, are already laid out as
///     the A operand of the next MMA (the accumulator layout of two 8-key
///     n-tiles is the A layout of one 16-key k-step), so O += P V needs no
///     shared memory for P; V's fragments come from ldmatrix.trans.
///  6. O / l (0 for a row that saw no key) and the log-sum-exp are written
///     for the rows below Nq.
/// Shared memory rows are XOR-swizzled in 16-byte chunks (chunk c of row r
/// lives at c ^ (r mod 8) when c lies in a full group of 8 chunks), so the
/// eight rows one ldmatrix reads hit distinct banks. Keys past Nk are
/// zero-filled by cp.async and masked to -inf, so nothing past the end is read
/// or counted; rows past Nq compute with clamped indices and are not written.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/GPUKernels.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Conversion/MmaFragments.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include <array>
#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Query rows per block, warps per block, rows per warp.
constexpr int64_t kBlockRows = 64;
constexpr int64_t kWarps = 4;
constexpr int64_t kWarpRows = 16;
/// Keys per tile: 64, or 32 when Dv > 128, where O's fragments (Dv / 2 f32
/// per thread) leave too few registers for 64 keys of scores.
constexpr int64_t kTileKeys = 64, kNarrowTileKeys = 32;
constexpr int64_t kThreads = 32 * kWarps;
/// Elements of a 16-byte chunk (16-bit elements).
constexpr int64_t kChunk = 8;
/// Key heads up to which Q's fragments stay in registers for the whole loop.
constexpr int64_t kMaxRegisterQueryDim = 64;
/// Registers a thread may use (the most sm_80 and sm_90 allow).
constexpr int32_t kMaxRegisters = 255;

using Fragment = MmaFragment;

/// Emits the kernel of one attn.attention op; see the file comment.
class TensorCoreAttention {
public:
  TensorCoreAttention(OpBuilder &b, AttentionOp op, const Kernel &kernel)
      : b(b), loc(op.getLoc()), e(b, loc), f(e.f), op(op), kernel(kernel),
        shape(getHeadShape(op)), tileKeys(keysPerTile(shape)) {
    element = cast<MemRefType>(kernel.get(KernelArgRole::Query).getType())
                  .getElementType();
  }

  static int64_t keysPerTile(const HeadShape &shape) {
    return getTensorCoreKeysPerTile(shape.valueDim);
  }
  /// Bytes of dynamic shared memory the kernel uses: the Q, K and V tiles.
  static int64_t sharedBytes(const HeadShape &shape) {
    return 2 * (kBlockRows * shape.keyDim +
                keysPerTile(shape) * (shape.keyDim + shape.valueDim));
  }

  void build();

private:
  OpBuilder &b;
  Location loc;
  Emitter e;
  FloatMath &f;
  AttentionOp op;
  const Kernel &kernel;
  HeadShape shape;
  int64_t tileKeys;
  Type element;

  Value thread, lane, warp, group, quadLane;
  Value bi, h, kh, vh, q0, numQueries, numKeys;
  Value sharedQ, sharedK, sharedV;
  /// The key and value rows of this block's head, [Nk, D] with unit
  /// innermost stride: the sources of every tile's copies.
  Value keyRows, valueRows;
  /// Per lane: the row of a Q/V ldmatrix address (lane mod 16), its chunk
  /// offset (lane / 16), and a K ldmatrix address's row and chunk offsets.
  Value laneRow16, laneHalf, keyRowOffset, keyChunkOffset;
  /// The two rows (g and g + 8 of the warp's 16) a thread's fragments hold.
  std::array<Value, 2> rows, clampedRows;

  Value idx(int64_t v) { return e.idx(v); }
  Value andi(Value x, int64_t m) {
    return arith::AndIOp::create(b, loc, x, idx(m));
  }
  Value shr(Value x, int64_t s) {
    return arith::ShRUIOp::create(b, loc, x, idx(s));
  }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, idx(y));
  }
  Value minu(Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y); }
  Type tokenType() { return nvgpu::DeviceAsyncTokenType::get(b.getContext()); }

  Value sharedTile(int64_t byteOffset, int64_t rows, int64_t dim);
  Value rowsOf(Value tensor, Value head);
  Value swizzle(Value row, Value chunk, int64_t dim);
  Value stageTile(Value rowsView, Value firstRow, Value numRows, Value tile,
                  int64_t dim);
  Fragment loadMatrices(Value tile, Value row, Value chunk, int64_t dim,
                        bool transpose);
  Value pack(Value x, Value y);
  Fragment mma(ArrayRef<Value> a, Value b0, Value b1, ArrayRef<Value> c);
  Value quadReduce(Value x, bool max);
  Fragment queryFragment(int64_t step);
  Values keyTile(Value k0, Value k1, bool masked, ValueRange state,
                 ArrayRef<Fragment> queryFragments);
  void writeRows(ValueRange state);
};

} // namespace

/// A [rows, dim] tile of the storage type at `byteOffset` of the dynamic
/// shared memory.
Value TensorCoreAttention::sharedTile(int64_t byteOffset, int64_t rows,
                                      int64_t dim) {
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto type = MemRefType::get({rows, dim}, element, MemRefLayoutAttrInterface{},
                              workgroup);
  return getDynamicSharedView(b, loc, type, idx(byteOffset));
}

/// The [N, dim] rows of `head` of sequence bi of a [B, H, N, dim] tensor
/// (getUnitStrideRows).
Value TensorCoreAttention::rowsOf(Value tensor, Value head) {
  return getUnitStrideRows(b, loc, tensor, ValueRange{bi, head});
}

/// The column where chunk `chunk` of row `row` of a shared tile starts.
/// Chunks are permuted within each full group of 8 (c ^ (r mod 8) stays in
/// c's group); the chunks past the last full group keep their place, so a
/// row of 10, 12 or 14 chunks (head dims 80, 96, 112) never spills into the
/// next row, which would overlap another row's chunks.
Value TensorCoreAttention::swizzle(Value row, Value chunk, int64_t dim) {
  int64_t chunksPerRow = dim / kChunk;
  int64_t swizzled = chunksPerRow / 8 * 8;
  if (swizzled == 0)
    return mul(chunk, kChunk);
  Value permuted = arith::XOrIOp::create(b, loc, chunk, andi(row, 7));
  if (swizzled != chunksPerRow)
    permuted = arith::SelectOp::create(
        b, loc, e.cmpi(arith::CmpIPredicate::ult, chunk, idx(swizzled)),
        permuted, chunk);
  return mul(permuted, kChunk);
}

/// Starts copying as many rows as `tile` has from row `firstRow` of
/// `rowsView` with cp.async, rows at or past `numRows` zero-filled; returns
/// the group to wait on. Thread t copies chunks t, t + 128, ...; when the
/// tile's chunks do not split evenly (head dims 144, 176, 208, 240 with
/// 32-key tiles), the last round's copies are guarded, so only the threads
/// with a chunk left issue one. The group commits whatever this thread
/// issued, so the guarded copy needs no token of its own.
Value TensorCoreAttention::stageTile(Value rowsView, Value firstRow,
                                     Value numRows, Value tile, int64_t dim) {
  int64_t chunksPerRow = dim / kChunk;
  int64_t chunks =
      cast<MemRefType>(tile.getType()).getDimSize(0) * chunksPerRow;
  assert(chunks >= kThreads && "every thread copies at least one chunk");
  Values tokens;
  int64_t rounds = llvm::divideCeilSigned(chunks, kThreads);
  for (int64_t it = 0; it < rounds; ++it) {
    bool partial = (it + 1) * kThreads > chunks;
    std::optional<OpBuilder::InsertionGuard> guard;
    if (partial) {
      Value hasChunk = e.cmpi(arith::CmpIPredicate::ult, thread,
                              idx(chunks - it * kThreads));
      auto ifHasChunk =
          scf::IfOp::create(b, loc, hasChunk, /*withElseRegion=*/false);
      guard.emplace(b);
      b.setInsertionPointToStart(ifHasChunk.thenBlock());
    }
    Value chunkId = e.addi(thread, idx(it * kThreads));
    Value row = e.divui(chunkId, chunksPerRow);
    Value chunk = arith::RemUIOp::create(b, loc, chunkId, idx(chunksPerRow));
    Value sourceRow = e.addi(firstRow, row);
    Value inside = e.cmpi(arith::CmpIPredicate::ult, sourceRow, numRows);
    // A row past the end reads nothing (source size 0); its address is
    // the first row's, which exists whenever a tile is staged.
    Value readRow = arith::SelectOp::create(b, loc, inside, sourceRow, idx(0));
    Value readElements =
        arith::SelectOp::create(b, loc, inside, idx(kChunk), idx(0));
    Value token = nvgpu::DeviceAsyncCopyOp::create(
        b, loc, tokenType(), tile, ValueRange{row, swizzle(row, chunk, dim)},
        rowsView, ValueRange{readRow, mul(chunk, kChunk)},
        b.getIndexAttr(kChunk), readElements, b.getUnitAttr());
    if (!partial)
      tokens.push_back(token);
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType(), tokens);
}

/// ldmatrix.x4 of `tile`: this lane gives the address of row `row`, chunk
/// `chunk`; returns the four 8x8 matrices' operand registers.
Fragment TensorCoreAttention::loadMatrices(Value tile, Value row, Value chunk,
                                           int64_t dim, bool transpose) {
  std::array<Value, 4> pairs = attn::loadMatrices(
      b, loc, tile, row, swizzle(row, chunk, dim), transpose);
  Fragment out;
  for (int64_t i = 0; i < 4; ++i)
    out[i] = getMmaOperand(b, loc, pairs[i]);
  return out;
}

/// Two f32 rounded to the storage type, as one MMA operand register.
Value TensorCoreAttention::pack(Value x, Value y) {
  Value pair = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{x, y});
  return getMmaOperand(
      b, loc,
      arith::TruncFOp::create(b, loc, VectorType::get({2}, element), pair));
}

/// D = A B + C for one m16n8k16 tile.
Fragment TensorCoreAttention::mma(ArrayRef<Value> a, Value b0, Value b1,
                                  ArrayRef<Value> c) {
  return emitMma(b, loc, element, a, b0, b1, c);
}

/// The maximum (or sum) of `x` over the four threads of this thread's quad,
/// which hold the same two rows.
Value TensorCoreAttention::quadReduce(Value x, bool max) {
  for (int32_t offset : {1, 2}) {
    Value other = gpu::ShuffleOp::create(b, loc, x, offset, /*width=*/32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    x = max ? f.max(x, other) : f.add(x, other);
  }
  return x;
}

/// The A fragment of Q for k-step `step` (head dims 16 step .. + 15).
Fragment TensorCoreAttention::queryFragment(int64_t step) {
  Value row = e.addi(mul(warp, kWarpRows), laneRow16);
  return loadMatrices(sharedQ, row, e.addi(idx(2 * step), laneHalf),
                      shape.keyDim, /*transpose=*/false);
}

/// One key tile: keys [k0, k1) in sub-tiles of `tileKeys`. `state` holds the
/// two rows' maxima and sums, then O's fragments (Dv / 8 n-tiles of 4).
Values TensorCoreAttention::keyTile(Value k0, Value k1, bool masked,
                                    ValueRange state,
                                    ArrayRef<Fragment> queryFragments) {
  int64_t keyDim = shape.keyDim, valueDim = shape.valueDim;
  bool softmax = op.getNormalization() == Normalization::softmax;
  Value length = arith::MaxSIOp::create(b, loc, e.subi(k1, k0), idx(0));
  Value subTiles = arith::CeilDivUIOp::create(b, loc, length, idx(tileKeys));
  return emitFor(
      b, loc, idx(0), subTiles, state,
      [&](Value sub, ValueRange carried) {
        Value start = e.addi(k0, mul(sub, tileKeys));
        Value end =
            arith::MinSIOp::create(b, loc, e.addi(start, idx(tileKeys)), k1);
        // Every warp is done reading the previous tiles.
        gpu::BarrierOp::create(b, loc);
        Value keysLanded = stageTile(keyRows, start, numKeys, sharedK, keyDim);
        Value valuesLanded =
            stageTile(valueRows, start, numKeys, sharedV, valueDim);
        nvgpu::DeviceAsyncWaitOp::create(b, loc, keysLanded,
                                         b.getI32IntegerAttr(1));
        gpu::BarrierOp::create(b, loc);

        // S = Q K^T: n-tiles of 8 keys.
        SmallVector<Fragment> scores(tileKeys / 8);
        for (Fragment &tile : scores)
          tile.fill(f.c(0));
        for (int64_t step = 0; step < keyDim / 16; ++step) {
          Fragment a = queryFragments.empty() ? queryFragment(step)
                                              : queryFragments[step];
          for (int64_t pair = 0; pair < tileKeys / 16; ++pair) {
            Fragment k =
                loadMatrices(sharedK, e.addi(idx(16 * pair), keyRowOffset),
                             e.addi(idx(2 * step), keyChunkOffset), keyDim,
                             /*transpose=*/false);
            scores[2 * pair] = mma(a, k[0], k[1], scores[2 * pair]);
            scores[2 * pair + 1] = mma(a, k[2], k[3], scores[2 * pair + 1]);
          }
        }

        // Scores with the user's regions and masks, on the fragments.
        // Element c of n-tile n is row rows[c / 2], key
        // start + 8n + 2 (lane mod 4) + c mod 2.
        Value lastKey = e.subi(numKeys, idx(1));
        Value columnBase = e.addi(start, mul(quadLane, 2));
        for (int64_t n = 0; n < tileKeys / 8; ++n) {
          for (int64_t c = 0; c < 4; ++c) {
            Value j = e.addi(columnBase, idx(8 * n + c % 2));
            Value jc = minu(j, lastKey);
            Value ic = clampedRows[c / 2];
            Value s = emitScoreMod(e, op, kernel, scores[n][c], bi, h, ic, jc);
            Value keep = e.cmpi(arith::CmpIPredicate::slt, j, end);
            if (masked)
              keep = arith::AndIOp::create(
                  b, loc, keep,
                  emitAttentionKeep(e, op, kernel, bi, h, ic, jc, numQueries,
                                    numKeys, /*withNamedMask=*/true));
            if (softmax) {
              scores[n][c] = f.select(keep, s, e.negInf());
            } else {
              Value p = attentionWeight(e, op, s, Value(), kernel);
              scores[n][c] = f.select(keep, p, f.c(0));
            }
          }
        }

        // Online softmax per row: m' = max(m, max_j s), alpha = e^(m - m'),
        // p = e^(s - m'), with m' taken as 0 while the row saw no key so that
        // alpha and p are 0 rather than NaN.
        Values next(carried.begin(), carried.end());
        std::array<Value, 2> alpha;
        for (int64_t r = 0; r < 2; ++r) {
          Value rowSum;
          if (softmax) {
            Value tileMax = e.negInf();
            for (auto &tile : scores)
              tileMax = f.max(tileMax, f.max(tile[2 * r], tile[2 * r + 1]));
            tileMax = quadReduce(tileMax, /*max=*/true);
            Value oldMax = carried[r];
            Value newMax = f.max(oldMax, tileMax);
            Value reference =
                f.select(f.cmp(arith::CmpFPredicate::OEQ, newMax, e.negInf()),
                         f.c(0), newMax);
            Value log2e = f.c(M_LOG2E);
            auto exp = [&](Value x) {
              return math::Exp2Op::create(b, loc,
                                          f.mul(f.sub(x, reference), log2e));
            };
            alpha[r] = exp(oldMax);
            for (auto &tile : scores)
              for (int64_t c = 2 * r; c < 2 * r + 2; ++c)
                tile[c] = exp(tile[c]);
            next[r] = newMax;
          }
          rowSum = f.c(0);
          for (auto &tile : scores)
            rowSum = f.add(rowSum, f.add(tile[2 * r], tile[2 * r + 1]));
          Value oldSum = carried[2 + r];
          next[2 + r] = softmax ? f.add(f.mul(alpha[r], oldSum), rowSum)
                                : f.add(oldSum, rowSum);
          if (softmax)
            for (int64_t dn = 0; dn < valueDim / 8; ++dn)
              for (int64_t c = 2 * r; c < 2 * r + 2; ++c)
                next[4 + 4 * dn + c] = f.mul(alpha[r], next[4 + 4 * dn + c]);
        }

        // O += P V: P's fragments are the A operands, V's come transposed.
        nvgpu::DeviceAsyncWaitOp::create(b, loc, valuesLanded,
                                         b.getI32IntegerAttr(0));
        gpu::BarrierOp::create(b, loc);
        for (int64_t step = 0; step < tileKeys / 16; ++step) {
          const Fragment &lo = scores[2 * step], &hi = scores[2 * step + 1];
          std::array<Value, 4> a = {pack(lo[0], lo[1]), pack(lo[2], lo[3]),
                                    pack(hi[0], hi[1]), pack(hi[2], hi[3])};
          for (int64_t pair = 0; pair < valueDim / 16; ++pair) {
            Fragment v = loadMatrices(
                sharedV, e.addi(idx(16 * step), laneRow16),
                e.addi(idx(2 * pair), laneHalf), valueDim, /*transpose=*/true);
            for (int64_t half = 0; half < 2; ++half) {
              int64_t base = 4 + 4 * (2 * pair + half);
              ArrayRef<Value> acc(next.data() + base, 4);
              Fragment out = mma(a, v[2 * half], v[2 * half + 1], acc);
              std::copy(out.begin(), out.end(), next.begin() + base);
            }
          }
        }
        return next;
      },
      "key_subtiles");
}

/// Writes O / l (or O) and the log-sum-exp of the thread's rows below Nq.
void TensorCoreAttention::writeRows(ValueRange state) {
  Normalization normalization = op.getNormalization();
  bool dividesBySum = normalization == Normalization::softmax ||
                      normalization == Normalization::l1;
  Value output = kernel.get(KernelArgRole::Output);
  Value lse = kernel.get(KernelArgRole::LogSumExp);
  Value columnBase = mul(quadLane, 2);
  for (int64_t r = 0; r < 2; ++r) {
    Value sum = quadReduce(state[2 + r], /*max=*/false);
    Value inRange = e.cmpi(arith::CmpIPredicate::ult, rows[r], numQueries);
    emitIf(
        b, loc, inRange,
        [&] {
          for (int64_t dn = 0; dn < shape.valueDim / 8; ++dn)
            for (int64_t c = 2 * r; c < 2 * r + 2; ++c) {
              Value o = state[4 + 4 * dn + c];
              Value d = e.addi(columnBase, idx(8 * dn + c % 2));
              e.store(dividesBySum ? e.divOrZero(o, sum) : o, output,
                      {bi, h, rows[r], d});
            }
          if (lse) {
            Value first = e.cmpi(arith::CmpIPredicate::eq, quadLane, idx(0));
            emitIf(
                b, loc, first,
                [&] {
                  e.store(emitLogSumExp(e, state[r], sum), lse,
                          {bi, h, rows[r]});
                  return Values{};
                },
                [&] { return Values{}; });
          }
          return Values{};
        },
        [&] { return Values{}; });
  }
}

void TensorCoreAttention::build() {
  int64_t keyDim = shape.keyDim, valueDim = shape.valueDim;
  Value query = kernel.get(KernelArgRole::Query);
  numQueries = e.dim(query, 2);
  numKeys = e.dim(kernel.get(KernelArgRole::Key), 2);
  bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  lane = andi(thread, 31);
  warp = shr(thread, 5);
  group = shr(lane, 2);
  quadLane = andi(lane, 3);
  laneRow16 = andi(lane, 15);
  laneHalf = shr(lane, 4);
  keyRowOffset = e.addi(andi(lane, 7), mul(laneHalf, 8));
  keyChunkOffset = andi(shr(lane, 3), 1);
  kh = e.divui(h, shape.keyGroup);
  vh = e.divui(h, shape.valueGroup);
  q0 = mul(block, kBlockRows);
  Value lastQuery = e.subi(numQueries, idx(1));
  for (int64_t r = 0; r < 2; ++r) {
    rows[r] =
        e.addi(e.addi(q0, mul(warp, kWarpRows)), e.addi(group, idx(8 * r)));
    clampedRows[r] = minu(rows[r], lastQuery);
  }

  int64_t queryBytes = 2 * kBlockRows * keyDim;
  sharedQ = sharedTile(0, kBlockRows, keyDim);
  sharedK = sharedTile(queryBytes, tileKeys, keyDim);
  sharedV = sharedTile(queryBytes + 2 * tileKeys * keyDim, tileKeys, valueDim);

  keyRows = rowsOf(kernel.get(KernelArgRole::Key), kh);
  valueRows = rowsOf(kernel.get(KernelArgRole::Value), vh);

  // 1. Q, and its fragments when they fit in registers.
  Value queryLanded =
      stageTile(rowsOf(query, h), q0, numQueries, sharedQ, keyDim);
  nvgpu::DeviceAsyncWaitOp::create(b, loc, queryLanded, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
  SmallVector<Fragment> queryFragments;
  if (keyDim <= kMaxRegisterQueryDim)
    for (int64_t step = 0; step < keyDim / 16; ++step)
      queryFragments.push_back(queryFragment(step));

  // 2-5. The key tiles.
  bool softmax = op.getNormalization() == Normalization::softmax;
  Values init = {softmax ? e.negInf() : f.c(0), softmax ? e.negInf() : f.c(0),
                 f.c(0), f.c(0)};
  init.append(valueDim / 2, f.c(0));
  KeyBlockPlan plan = getKeyBlockPlan(op, kernel, numQueries, numKeys);
  int64_t blockKeys = tileKeys;
  Value listBlock = block;
  if (std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize()) {
    blockKeys = (*blockSize)[1];
    listBlock = e.divui(q0, (*blockSize)[0]);
  }
  Value q1 = minu(e.addi(q0, idx(kBlockRows)), numQueries);
  Values state =
      emitKeyTiles(e, plan, blockKeys, bi, h, q0, q1, listBlock, init,
                   [&](Value k0, Value k1, bool masked, ValueRange carried) {
                     return keyTile(k0, k1, masked, carried, queryFragments);
                   });

  // 6. The rows.
  writeRows(state);
}

bool mlir::attn::canUseTensorCores(AttentionOp op,
                                   const KernelSignature &signature) {
  auto elementType = [&](KernelArgRole role) {
    return signature.args[signature.find(role)].type.getElementType();
  };
  Type query = elementType(KernelArgRole::Query);
  if (!(query.isBF16() || query.isF16()) ||
      elementType(KernelArgRole::Key) != query ||
      elementType(KernelArgRole::Value) != query)
    return false;
  HeadShape shape = getHeadShape(op);
  for (int64_t dim : {shape.keyDim, shape.valueDim})
    if (dim <= 0 || dim % 16 != 0 || dim > 256)
      return false;
  // Every thread stages at least one chunk of a K or V tile (stageTile).
  int64_t keys = TensorCoreAttention::keysPerTile(shape);
  for (int64_t dim : {shape.keyDim, shape.valueDim})
    if (keys * (dim / kChunk) < kThreads)
      return false;
  // A block of 64 query rows must lie in one query block of a block mask.
  if (std::optional<ArrayRef<int64_t>> blockSize = op.getBlockSize())
    if ((*blockSize)[0] % kBlockRows != 0)
      return false;
  return true;
}

int64_t mlir::attn::getTensorCoreKeysPerTile(int64_t valueDim) {
  return valueDim > 128 ? kNarrowTileKeys : kTileKeys;
}

LogicalResult mlir::attn::requireTensorCores(AttentionOp op,
                                             const KernelSignature &signature) {
  if (canUseTensorCores(op, signature))
    return success();
  return op.emitError() << "this attention cannot run on tensor cores: it "
                           "needs bf16 or f16 query, key and value with "
                           "head dims that are multiples of 16, at most 256";
}

LogicalResult mlir::attn::buildTensorCoreAttention(OpBuilder &b, AttentionOp op,
                                                   const Kernel &kernel,
                                                   GPULaunch &launch) {
  if (failed(requireTensorCores(op, *kernel.signature)))
    return failure();
  FunctionOpInterface function = kernel.func;
  auto func = cast<gpu::GPUFuncOp>(function.getOperation());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({int32_t(kThreads), 1, 1}));
  // Let ptxas use every register a thread may have at 128 threads: left to
  // itself it caps some of these kernels at 128 registers and spills.
  func->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                b.getI32IntegerAttr(kMaxRegisters));
  TensorCoreAttention(b, op, kernel).build();
  HeadShape shape = getHeadShape(op);
  launch = {GridOrder::QueryBlocksHeadsBatch,
            kThreads,
            /*workspaceWords=*/0,
            kBlockRows,
            TensorCoreAttention::sharedBytes(shape),
            /*alignedRows=*/true};
  return success();
}
