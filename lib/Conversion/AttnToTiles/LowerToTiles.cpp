//===- LowerToTiles.cpp - attn spec ops to their tiled algorithms ---------===//
//
/// \file
/// The spec ops' tiled algorithms. attn.attention on the CPU is the flash
/// tile program of AttentionTileProgram.cpp; the SIMT GPU kernel (and the
/// softmax part of attn.hybrid) runs the flash loop below, one query row
/// per thread, over the same key-tile schedule:
///
/// attn.attention (flash-style online softmax), per (b, h, query block):
///  1. Ask the named mask for the key ranges of the block
///     (`buildKeyRanges`): intervals of keys some query may see, and the
///     interval every query sees. Without a mask everything is full; with a
///     `mask_mod` nothing is.
///  2. For every interval, loop over the key blocks it covers, restricted to
///     the interval, so blocks outside every interval are never visited and
///     no key is visited twice.
///  3. A block inside the full interval runs a tile body without any mask
///     code; any other block runs the masked tile body.
///  4. The tile body updates the running row maximum m, sum l and
///     accumulator: m' = max(m, max_j s_j), c = exp(m - m'),
///     l' = c l + sum_j exp(s_j - m'), acc' = c acc + sum_j exp(s_j - m') v_j.
///     Other normalizations accumulate their weights directly.
///  5. Divide by l (0 for an empty row) and write the log-sum-exp.
///
/// attn.linear_attention is the chunked tile program of
/// LinearTileProgram.cpp where it covers the spec (on the CPU, and on the
/// tensor-core kernel), and the chunked loops here elsewhere.
//
//===----------------------------------------------------------------------===//

#include "AttentionTileProgram.h"
#include "HybridTileProgram.h"
#include "LinearTileProgram.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Conversion/TileToMmaSync.h"
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
// attn.attention
//===----------------------------------------------------------------------===//

/// What the flash loop needs to know about one attention-like computation.
struct FlashSpec {
  HeadShape shape;
  /// Softmax keeps a running row maximum; other normalizations accumulate
  /// their weights directly.
  bool softmax;
  /// The key blocks each query block visits (a block mask's tiles have its
  /// sizes).
  KeyBlockPlan keys;
  Value value, numQueries, numKeys;
  /// s_ij for query i and key j of head h (kh = the key head).
  std::function<Value(Value bi, Value h, Value kh, Value i, Value j)> score;
  /// Whether key j is kept for query i (named mask and mask region).
  std::function<Value(Value bi, Value h, Value i, Value j)> keep;
  /// The weight of a kept score under a non-softmax normalization.
  std::function<Value(Value s)> weight;
  /// Consumes row r (query i) of a finished query block: its maximum, sum
  /// and the accumulator buffer holding the row at [r, :].
  std::function<void(Value bi, Value h, Value i, Value rowMax, Value rowSum,
                     Value acc, Value r)>
      finishRow;
};

/// The running statistics of the rows of one query block (m, l and the
/// accumulator [rows, Dv]) and one row of weights of a key block.
struct FlashBuffers {
  Value rowMax, rowSum, acc, weights;

  FlashBuffers(Emitter &e, int64_t rows, int64_t blockKeys, int64_t valueDim)
      : rowMax(e.buffer({rows})), rowSum(e.buffer({rows})),
        acc(e.buffer({rows, valueDim})), weights(e.buffer({blockKeys})) {}
  void free(Emitter &e) {
    for (Value buffer : {rowMax, rowSum, acc, weights})
      e.free(buffer);
  }
};

/// Emits steps 1-5 of the file comment for the query rows [q0, q1) of head
/// h of sequence bi with key blocks of `bk` keys; `listBlock` is the query
/// block whose lists a run-time block mask gives.
static void emitFlashQueryBlock(Emitter &e, const FlashSpec &spec, int64_t bk,
                                Value bi, Value h, Value q0, Value q1,
                                Value listBlock, const FlashBuffers &buffers) {
  OpBuilder &b = e.b;
  FloatMath &f = e.f;
  int64_t valueDim = spec.shape.valueDim;
  bool softmax = spec.softmax;
  Value rowMax = buffers.rowMax, rowSum = buffers.rowSum, acc = buffers.acc;
  Value weights = buffers.weights;
  Value zero = e.idx(0);
  Value kh = e.divui(h, spec.shape.keyGroup);
  Value vh = e.divui(h, spec.shape.valueGroup);
  Value rows = e.subi(q1, q0);

  e.loop(zero, rows, [&](Value r) {
    e.store(softmax ? e.negInf() : f.c(0), rowMax, {r});
    e.store(f.c(0), rowSum, {r});
    e.loop(valueDim, [&](Value d) { e.store(f.c(0), acc, {r, d}); });
  });

  // 4. One tile: rows [q0, q1) x keys [k0, k1).
  auto tile = [&](Value k0, Value k1, bool masked) {
    e.loop(zero, rows, [&](Value r) {
      Value i = e.addi(q0, r);
      // Scores (softmax) or weights of the row, and the tile maximum.
      Value tileMax =
          emitFor(b, e.loc, k0, k1, {e.negInf()}, [&](Value j, ValueRange mx) {
            Value s = spec.score(bi, h, kh, i, j);
            Value slot = e.subi(j, k0);
            if (!softmax) {
              Value p = spec.weight(s);
              if (masked)
                p = f.select(spec.keep(bi, h, i, j), p, f.c(0));
              e.store(p, weights, {slot});
              return Values{mx[0]};
            }
            if (masked)
              s = f.select(spec.keep(bi, h, i, j), s, e.negInf());
            e.store(s, weights, {slot});
            return Values{f.max(mx[0], s)};
          })[0];

      Value correction = f.c(1), newMax;
      if (softmax) {
        Value oldMax = e.load(rowMax, {r});
        newMax = f.max(oldMax, tileMax);
        Value wasEmpty = f.cmp(arith::CmpFPredicate::OEQ, oldMax, e.negInf());
        correction =
            f.select(wasEmpty, f.c(0),
                     f.exp(f.select(wasEmpty, f.c(0), f.sub(oldMax, newMax))));
        e.store(newMax, rowMax, {r});
      }
      Value tileSum = e.sum(k0, k1, [&](Value j) {
        Value slot = e.subi(j, k0);
        Value p = e.load(weights, {slot});
        if (softmax) {
          // exp(s - m'), 0 for a masked (-inf) score.
          Value isNegInf = f.cmp(arith::CmpFPredicate::OEQ, p, e.negInf());
          p = f.select(isNegInf, f.c(0),
                       f.exp(f.select(isNegInf, f.c(0), f.sub(p, newMax))));
          e.store(p, weights, {slot});
        }
        return p;
      });
      e.store(f.add(f.mul(correction, e.load(rowSum, {r})), tileSum), rowSum,
              {r});
      e.loop(valueDim, [&](Value d) {
        Value pv = e.sum(k0, k1, [&](Value j) {
          Value p = e.load(weights, {e.subi(j, k0)});
          Value v = e.load(spec.value, {bi, vh, j, d});
          return f.mul(p, v);
        });
        e.store(f.add(f.mul(correction, e.load(acc, {r, d})), pv), acc, {r, d});
      });
    });
  };

  // 1-3. Visit the key tiles the masks leave.
  emitKeyTiles(e, spec.keys, bk, bi, h, q0, q1, listBlock, {},
               [&](Value k0, Value k1, bool masked, ValueRange) {
                 tile(k0, k1, masked);
                 return Values{};
               });

  // 5. Hand every finished row to the caller.
  e.loop(zero, rows, [&](Value r) {
    spec.finishRow(bi, h, e.addi(q0, r), rowMax, rowSum, acc, r);
  });
}

/// Emits the SIMT GPU kernel's flash loop: one thread per query row (a
/// query block of one row), `threads` rows per thread block. (The CPU runs
/// the flash tile program, emitAttentionTileProgram.)
static void emitFlashRowsOnGPU(Emitter &e, const FlashSpec &spec,
                               TileSizes tiles, int64_t threads) {
  OpBuilder &b = e.b;
  int64_t bq = tiles.blockQueries, bk = tiles.blockKeys;
  FlashBuffers buffers(e, 1, bk, spec.shape.valueDim);
  Value bi = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::z);
  Value h = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::y);
  Value block = gpu::BlockIdOp::create(b, e.loc, gpu::Dimension::x);
  Value thread = gpu::ThreadIdOp::create(b, e.loc, gpu::Dimension::x);
  Value i =
      e.addi(arith::MulIOp::create(b, e.loc, block, e.idx(threads)), thread);
  Value inRange = e.cmpi(arith::CmpIPredicate::ult, i, spec.numQueries);
  emitIf(
      b, e.loc, inRange,
      [&] {
        emitFlashQueryBlock(e, spec, bk, bi, h, i, e.addi(i, e.idx(1)),
                            e.divui(i, bq), buffers);
        return Values{};
      },
      [&] { return Values{}; });
}

static void buildAttentionTiled(OpBuilder &b, AttentionOp op,
                                const Kernel &kernel,
                                const TiledOptions &options,
                                const BufferAllocator &allocate) {
  Emitter e(b, op.getLoc(), allocate);
  TileSizes tiles = getAttentionTileSizes(op, options);
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value output = kernel.get(KernelArgRole::Output);
  Value lse = kernel.get(KernelArgRole::LogSumExp);
  Normalization normalization = op.getNormalization();

  FlashSpec spec;
  spec.shape = getHeadShape(op);
  spec.softmax = normalization == Normalization::softmax;
  spec.value = kernel.get(KernelArgRole::Value);
  spec.numQueries = e.dim(query, 2);
  spec.numKeys = e.dim(key, 2);
  spec.keys = getKeyBlockPlan(op, kernel, spec.numQueries, spec.numKeys);
  spec.score = [&](Value bi, Value h, Value kh, Value i, Value j) {
    return emitAttentionScore(e, op, kernel, bi, h, kh, i, j);
  };
  spec.keep = [&](Value bi, Value h, Value i, Value j) {
    return emitAttentionKeep(e, op, kernel, bi, h, i, j, spec.numQueries,
                             spec.numKeys, /*withNamedMask=*/true);
  };
  spec.weight = [&](Value s) {
    return attentionWeight(e, op, s, Value(), kernel);
  };
  // 5. Normalize and write the row.
  bool dividesBySum = spec.softmax || normalization == Normalization::l1;
  spec.finishRow = [&](Value bi, Value h, Value i, Value rowMax, Value rowSum,
                       Value acc, Value r) {
    Value sum = e.load(rowSum, {r});
    e.loop(spec.shape.valueDim, [&](Value d) {
      Value o = e.load(acc, {r, d});
      e.store(dividesBySum ? e.divOrZero(o, sum) : o, output, {bi, h, i, d});
    });
    if (!lse)
      return;
    e.store(emitLogSumExp(e, e.load(rowMax, {r}), sum), lse, {bi, h, i});
  };
  emitFlashRowsOnGPU(e, spec, tiles, options.gpuThreads);
}

//===----------------------------------------------------------------------===//
// attn.linear_attention and the linear term of attn.hybrid: chunked form
//===----------------------------------------------------------------------===//

/// sum_f x[row, f] * state[f, column].
static Value dotRowsState(Emitter &e, Value x, Value row, Value state,
                          Value column, int64_t width) {
  return e.sum(width, [&](Value fi) {
    return e.f.mul(e.load(x, {row, fi}), e.load(state, {fi, column}));
  });
}

/// Runs `body(bi, h)` for the sequence bi and head h of this GPU block, one
/// block per pair (x: head, y: sequence).
static void forBlockHead(Emitter &e,
                         function_ref<void(Value bi, Value h)> body) {
  body(gpu::BlockIdOp::create(e.b, e.loc, gpu::Dimension::y),
       gpu::BlockIdOp::create(e.b, e.loc, gpu::Dimension::x));
}

/// The threads that run one head's chunked loop together. The loop is a
/// sequence of steps whose iterations are independent (rows of a chunk,
/// features of the state, columns of the UT transform); the threads of the
/// block share each step's iterations and meet at a barrier before the next
/// step reads what they wrote.
struct BlockSteps {
  int64_t threads;

  /// Runs `body(iv)` for every iv in [lb, ub): thread t takes iterations t,
  /// t + threads, ..., then the block waits at a barrier. The bounds must be
  /// the same on every thread.
  void forEach(Emitter &e, Value lb, Value ub, function_ref<void(Value)> body,
               StringRef stage = {}) const {
    Value thread = gpu::ThreadIdOp::create(e.b, e.loc, gpu::Dimension::x);
    auto loop =
        scf::ForOp::create(e.b, e.loc, e.addi(lb, thread), ub, e.idx(threads));
    if (!stage.empty())
      loop->setAttr("attn.stage", e.b.getStringAttr(stage));
    {
      OpBuilder::InsertionGuard guard(e.b);
      e.b.setInsertionPoint(loop.getBody()->getTerminator());
      body(loop.getInductionVar());
    }
    gpu::BarrierOp::create(e.b, e.loc);
  }
  void forEach(Emitter &e, int64_t ub, function_ref<void(Value)> body,
               StringRef stage = {}) const {
    forEach(e, e.idx(0), e.idx(ub), body, stage);
  }
};

/// Threads of a GPU block running the chunked loop of one head: enough for
/// one per chunk row or state feature, in whole warps, at most 256.
static int64_t chunkedLoopThreads(int64_t chunk, int64_t featureDim) {
  int64_t wanted = std::max(chunk, featureDim);
  return std::min<int64_t>(llvm::alignTo(wanted, 32), 256);
}

/// What the chunked loop needs to know about one linear term.
struct ChunkSpec {
  LinearSpec linear;
  HeadShape shape;
  /// Value columns of the state: Dv, plus one for z when a denominator is
  /// needed.
  int64_t columns;
  int64_t chunk;
  /// Query i reads keys j <= i - lag (0 for linear attention, the window for
  /// a shared-denominator hybrid).
  int64_t lag;
  bool causal, delta;
  Value query, key, value, gates, beta, featureWeights;
  Value initialState, finalState;
  Value length, queryScale;
  BlockSteps steps;
  /// Consumes the numerator [columns] of query i. Rows are finished in
  /// parallel, each by one thread, so it may only write row i's outputs.
  std::function<void(Value bi, Value h, Value i, Value numerator)> finishRow;
};

/// Emits the chunked algorithm, per (b, h) and chunk [t0, t1) of C queries
/// whose keys are [t0 - lag, t1 - lag):
///  1. features of the chunk's queries (scaled) and keys, values with a
///     trailing 1 when z is needed;
///  2. P, the prefix sums of the log gates over positions
///     [t0 - lag - 1, t1), so a decay from key j to query i is
///     exp(P[i] - P[j]) <= 1;
///  3. additive: per query, the inter-chunk part phi(q)^T D S and the
///     intra-chunk part sum_j (phi(q)^T D_ij phi(k_j)) [v_j, 1] over the
///     decay-masked causal matrix; then S <- D_C S + sum_j D_j phi(k_j) v_j^T;
///     delta: the WY/UT form, T = (I + tril(diag(beta) K K^T, -1))^-1,
///     W = T diag(beta) K, with the gates folded in as
///     gamma_i / gamma_m ratios;
///  4. non-causal: the state of all keys first, then every query reads it.
/// Chunk buffers and the state are shared by the block's threads
/// (`sharedBuffer`); a row's features, weights and numerator are private.
static void emitChunkedLoops(Emitter &e, const ChunkSpec &spec) {
  OpBuilder &b = e.b;
  FloatMath &f = e.f;
  const LinearSpec &lin = spec.linear;
  const BlockSteps &steps = spec.steps;
  int64_t C = spec.chunk, lag = spec.lag, F = lin.featureDim;
  int64_t columns = spec.columns, valueDim = spec.shape.valueDim;
  bool gated = lin.gate != GateKind::none;
  int64_t gateWidth = lin.gate == GateKind::per_key ? F : 1;

  Value state = e.sharedBuffer({F, columns});
  Value queryFeatures = e.sharedBuffer({C, F});
  Value keyFeatures = e.sharedBuffer({C, F});
  Value values = e.sharedBuffer({C, columns});
  Value prefix = e.sharedBuffer({C + lag + 1, gateWidth});
  SmallVector<Value> sharedBuffers = {state, queryFeatures, keyFeatures, values,
                                      prefix};
  Value inverse, wy, wyState, keyMix, keyGram, queryKey;
  if (spec.delta) {
    inverse = e.sharedBuffer({C, C});
    wy = e.sharedBuffer({C, F});
    wyState = e.sharedBuffer({C, columns});
    keyMix = e.sharedBuffer({C, F});
    keyGram = e.sharedBuffer({C, C});
    queryKey = e.sharedBuffer({C, C});
    sharedBuffers.append({inverse, wy, wyState, keyMix, keyGram, queryKey});
  }
  Value featureRow = e.buffer({F});
  Value scratch = e.buffer({std::max(lin.keyDim, F)});
  Value weightsRow = e.buffer({C});
  Value numerator = e.buffer({columns});
  SmallVector<Value> privateBuffers = {featureRow, scratch, weightsRow,
                                       numerator};
  Value zero = e.idx(0), one = f.c(1);
  Value numChunks = arith::CeilDivUIOp::create(b, e.loc, spec.length, e.idx(C));

  // Helpers on the chunk buffers.
  auto copyFeatures = [&](Value target, Value row) {
    e.loop(F, [&](Value fi) {
      e.store(e.load(featureRow, {fi}), target, {row, fi});
    });
  };
  auto loadGated = [&](Value u, Value fi) {
    return e.load(prefix, {u, gateWidth == 1 ? zero : fi});
  };
  /// exp(P[ua] - P[ub]) for feature fi; 1 without gates.
  auto decay = [&](Value ua, Value ub, Value fi) -> Value {
    if (!gated)
      return one;
    return f.exp(f.sub(loadGated(ua, fi), loadGated(ub, fi)));
  };
  /// Chunk ci covers the tokens [t0, t1) = [ci C, min(ci C + C, N)).
  auto chunkBounds = [&](Value ci) -> std::pair<Value, Value> {
    Value t0 = arith::MulIOp::create(b, e.loc, ci, e.idx(C));
    return {t0, arith::MinUIOp::create(b, e.loc, e.addi(t0, e.idx(C)),
                                       spec.length)};
  };
  auto dotRows = [&](Value x, Value rx, Value y, Value ry) {
    return e.sum(F, [&](Value fi) {
      return f.mul(e.load(x, {rx, fi}), e.load(y, {ry, fi}));
    });
  };

  forBlockHead(e, [&](Value bi, Value h) {
    Value kh = e.divui(h, spec.shape.keyGroup);
    Value vh = e.divui(h, spec.shape.valueGroup);
    steps.forEach(e, F, [&](Value fi) {
      e.loop(columns, [&](Value c) {
        e.store(spec.initialState ? e.load(spec.initialState, {bi, h, fi, c})
                                  : f.c(0),
                state, {fi, c});
      });
    });

    // 1. Features of the chunk: queries [t0, t0 + rows), keys
    // [k0, k0 + keys).
    auto loadQueries = [&](Value t0, Value rows) {
      steps.forEach(e, zero, rows, [&](Value r) {
        emitFeatures(e, lin, spec.query, bi, h, e.addi(t0, r), h,
                     /*side=*/0, spec.featureWeights, spec.queryScale,
                     featureRow, scratch);
        copyFeatures(queryFeatures, r);
      });
    };
    auto loadKeys = [&](Value k0, Value keys) {
      steps.forEach(e, zero, keys, [&](Value r) {
        Value j = e.addi(k0, r);
        emitFeatures(e, lin, spec.key, bi, kh, j, h, /*side=*/1,
                     spec.featureWeights, one, featureRow, scratch);
        copyFeatures(keyFeatures, r);
        e.loop(valueDim, [&](Value c) {
          e.store(e.load(spec.value, {bi, vh, j, c}), values, {r, c});
        });
        if (columns > valueDim)
          e.store(one, values, {r, e.idx(valueDim)});
      });
    };

    if (!spec.causal) {
      // 4. Non-causal: S += K^T V over all chunks, then Q S.
      e.loop(zero, numChunks, [&](Value ci) {
        Value t0, t1;
        std::tie(t0, t1) = chunkBounds(ci);
        Value rows = e.subi(t1, t0);
        loadKeys(t0, rows);
        steps.forEach(e, F, [&](Value fi) {
          e.loop(columns, [&](Value c) {
            Value kv = e.sum(zero, rows, [&](Value r) {
              return f.mul(e.load(keyFeatures, {r, fi}),
                           e.load(values, {r, c}));
            });
            e.store(f.add(e.load(state, {fi, c}), kv), state, {fi, c});
          });
        });
      });
      e.loop(zero, numChunks, [&](Value ci) {
        Value t0, t1;
        std::tie(t0, t1) = chunkBounds(ci);
        Value rows = e.subi(t1, t0);
        loadQueries(t0, rows);
        steps.forEach(e, zero, rows, [&](Value r) {
          e.loop(columns, [&](Value c) {
            e.store(dotRowsState(e, queryFeatures, r, state, c, F), numerator,
                    {c});
          });
          spec.finishRow(bi, h, e.addi(t0, r), numerator);
        });
      });
    } else {
      e.loop(zero, numChunks, [&](Value ci) {
        Value t0, t1;
        std::tie(t0, t1) = chunkBounds(ci);
        Value rows = e.subi(t1, t0);
        Value lagValue = e.idx(lag);
        Value k0 = arith::MaxSIOp::create(b, e.loc, e.subi(t0, lagValue), zero);
        Value k1 = arith::MaxSIOp::create(b, e.loc, e.subi(t1, lagValue), zero);
        Value keys = e.subi(k1, k0);
        // Prefix position u of sequence position x is x - base.
        Value base = e.subi(t0, e.idx(lag + 1));
        loadQueries(t0, rows);
        loadKeys(k0, keys);

        // 2. Log-gate prefix sums over [base, t1), one feature each.
        if (gated) {
          Value span = e.addi(rows, e.idx(lag + 1));
          steps.forEach(e, gateWidth, [&](Value fi) {
            e.store(f.c(0), prefix, {zero, fi});
            e.loop(e.idx(1), span, [&](Value u) {
              Value x = e.addi(base, u);
              Value valid = e.cmpi(arith::CmpIPredicate::sge, x, zero);
              Value at = arith::MaxSIOp::create(b, e.loc, x, zero);
              Value g = logGate(e, lin.gate, spec.gates, bi, h, at, fi);
              Value previous = e.load(prefix, {e.subi(u, e.idx(1)), fi});
              e.store(f.add(previous, f.select(valid, g, f.c(0))), prefix,
                      {u, fi});
            });
          });
        }
        Value chunkStart = lagValue;             // u of t0 - 1
        Value chunkEnd = e.addi(rows, lagValue); // u of t1 - 1
        auto keyPosition = [&](Value s) {        // u of key row s
          return e.subi(e.addi(k0, s), base);
        };

        if (!spec.delta) {
          // 3a. Outputs, one row per thread: inter-chunk part from S,
          // intra-chunk part from the decay-masked causal matrix.
          steps.forEach(
              e, zero, rows,
              [&](Value r) {
                Value i = e.addi(t0, r);
                Value ui = e.addi(r, e.idx(lag + 1));
                // Keys k0 + s <= i - lag.
                Value visible = arith::MinSIOp::create(
                    b, e.loc,
                    arith::MaxSIOp::create(
                        b, e.loc,
                        e.subi(e.addi(e.subi(i, lagValue), e.idx(1)), k0),
                        zero),
                    keys);
                e.loop(zero, visible, [&](Value s) {
                  Value uj = keyPosition(s);
                  e.store(e.sum(F,
                                [&](Value fi) {
                                  return f.mul(
                                      f.mul(e.load(queryFeatures, {r, fi}),
                                            e.load(keyFeatures, {s, fi})),
                                      decay(ui, uj, fi));
                                }),
                          weightsRow, {s});
                });
                // phi(q_i) D(t0-1 -> i), once for every column.
                e.loop(F, [&](Value fi) {
                  e.store(f.mul(e.load(queryFeatures, {r, fi}),
                                decay(ui, chunkStart, fi)),
                          featureRow, {fi});
                });
                e.loop(columns, [&](Value c) {
                  Value inter = emitFor(
                      b, e.loc, zero, e.idx(F), {f.c(0)},
                      [&](Value fi, ValueRange acc) {
                        Value term = f.mul(e.load(featureRow, {fi}),
                                           e.load(state, {fi, c}));
                        return Values{f.add(acc[0], term)};
                      },
                      "inter_chunk")[0];
                  Value intra = emitFor(
                      b, e.loc, zero, visible, {f.c(0)},
                      [&](Value s, ValueRange acc) {
                        return Values{
                            f.add(acc[0], f.mul(e.load(weightsRow, {s}),
                                                e.load(values, {s, c})))};
                      },
                      "intra_chunk")[0];
                  e.store(f.add(inter, intra), numerator, {c});
                });
                spec.finishRow(bi, h, i, numerator);
              },
              "chunk_outputs");
          // State update, one feature per thread:
          // S <- D_C S + sum_s D_s phi(k_s) [v_s, 1]^T.
          steps.forEach(
              e, F,
              [&](Value fi) {
                Value carried = decay(chunkEnd, chunkStart, fi);
                // D_s phi(k_s)[fi], once for every column.
                e.loop(zero, keys, [&](Value s) {
                  e.store(f.mul(decay(chunkEnd, keyPosition(s), fi),
                                e.load(keyFeatures, {s, fi})),
                          weightsRow, {s});
                });
                e.loop(columns, [&](Value c) {
                  Value added = e.sum(zero, keys, [&](Value s) {
                    return f.mul(e.load(weightsRow, {s}),
                                 e.load(values, {s, c}));
                  });
                  e.store(f.add(f.mul(carried, e.load(state, {fi, c})), added),
                          state, {fi, c});
                });
              },
              "state_update");
          return;
        }

        // 3b. Delta rule, WY/UT form (lag 0, so key row s is query row s).
        auto gammaLog = [&](Value r) { // log gamma of row r (0 ungated)
          return gated ? loadGated(e.addi(r, e.idx(1)), zero) : f.c(0);
        };
        auto betaOf = [&](Value r) {
          return e.load(spec.beta, {bi, h, e.addi(t0, r)});
        };
        // The chunk's K K^T and Q K^T (lower triangles), computed once.
        steps.forEach(e, zero, rows, [&](Value r) {
          e.loop(zero, e.addi(r, e.idx(1)), [&](Value p) {
            e.store(dotRows(keyFeatures, r, keyFeatures, p), keyGram, {r, p});
            e.store(dotRows(queryFeatures, r, keyFeatures, p), queryKey,
                    {r, p});
          });
        });
        // T = (I + L)^-1 by forward substitution, L[r][p] = beta_r k_r.k_p;
        // column m of T depends on column m alone, one column per thread.
        steps.forEach(
            e, zero, rows,
            [&](Value m) {
              e.store(one, inverse, {m, m});
              e.loop(e.addi(m, e.idx(1)), rows, [&](Value r) {
                Value sum = e.sum(m, r, [&](Value p) {
                  Value l = f.mul(betaOf(r), e.load(keyGram, {r, p}));
                  return f.mul(l, e.load(inverse, {p, m}));
                });
                e.store(f.sub(f.c(0), sum), inverse, {r, m});
              });
            },
            "ut_transform");
        // W = T diag(beta) K, and W S_0, one row per thread.
        steps.forEach(e, zero, rows, [&](Value r) {
          e.loop(F, [&](Value fi) {
            Value w = e.sum(zero, e.addi(r, e.idx(1)), [&](Value m) {
              return f.mul(f.mul(e.load(inverse, {r, m}), betaOf(m)),
                           e.load(keyFeatures, {m, fi}));
            });
            e.store(w, wy, {r, fi});
          });
          e.loop(columns, [&](Value c) {
            e.store(
                e.sum(
                    F,
                    [&](Value fi) {
                      return f.mul(e.load(wy, {r, fi}), e.load(state, {fi, c}));
                    }),
                wyState, {r, c});
          });
        });
        // Outputs: gamma_r (q S_0 - sum_{j<=r} A_rj (W S_0)_j)
        //        + sum_{m<=r} (A T)_rm beta_m (gamma_r / gamma_m) v_m.
        steps.forEach(e, zero, rows, [&](Value r) {
          Value upto = e.addi(r, e.idx(1));
          // weightsRow[m] = (A T)[r][m] beta_m gamma_r / gamma_m.
          e.loop(zero, upto, [&](Value m) {
            Value at = e.sum(m, upto, [&](Value j) {
              Value a = e.load(queryKey, {r, j});
              return f.mul(a, e.load(inverse, {j, m}));
            });
            Value ratio = f.exp(f.sub(gammaLog(r), gammaLog(m)));
            e.store(f.mul(f.mul(at, betaOf(m)), ratio), weightsRow, {m});
          });
          Value gamma = f.exp(gammaLog(r));
          e.loop(columns, [&](Value c) {
            Value fromState = e.sum(F, [&](Value fi) {
              return f.mul(e.load(queryFeatures, {r, fi}),
                           e.load(state, {fi, c}));
            });
            Value corrected = e.sum(zero, upto, [&](Value j) {
              Value a = e.load(queryKey, {r, j});
              return f.mul(a, e.load(wyState, {j, c}));
            });
            Value fresh = e.sum(zero, upto, [&](Value m) {
              return f.mul(e.load(weightsRow, {m}), e.load(values, {m, c}));
            });
            e.store(f.add(f.mul(gamma, f.sub(fromState, corrected)), fresh),
                    numerator, {c});
          });
          spec.finishRow(bi, h, e.addi(t0, r), numerator);
        });
        // State: gamma_C (S_0 - K^T W S_0)
        //      + sum_m (T^T K)_m beta_m (gamma_C / gamma_m) v_m^T.
        Value last = e.subi(rows, e.idx(1));
        steps.forEach(e, zero, rows, [&](Value m) {
          e.loop(F, [&](Value fi) {
            Value mix = e.sum(m, rows, [&](Value j) {
              return f.mul(e.load(inverse, {j, m}),
                           e.load(keyFeatures, {j, fi}));
            });
            Value ratio = f.exp(f.sub(gammaLog(last), gammaLog(m)));
            e.store(f.mul(f.mul(mix, betaOf(m)), ratio), keyMix, {m, fi});
          });
        });
        Value gammaLast = f.exp(gammaLog(last));
        steps.forEach(e, F, [&](Value fi) {
          e.loop(columns, [&](Value c) {
            Value removed = e.sum(zero, rows, [&](Value j) {
              return f.mul(e.load(keyFeatures, {j, fi}),
                           e.load(wyState, {j, c}));
            });
            Value added = e.sum(zero, rows, [&](Value m) {
              return f.mul(e.load(keyMix, {m, fi}), e.load(values, {m, c}));
            });
            Value kept =
                f.mul(gammaLast, f.sub(e.load(state, {fi, c}), removed));
            e.store(f.add(kept, added), state, {fi, c});
          });
        });
      });
    }

    if (spec.finalState)
      steps.forEach(e, F, [&](Value fi) {
        e.loop(columns, [&](Value c) {
          e.store(e.load(state, {fi, c}), spec.finalState, {bi, h, fi, c});
        });
      });
  });
  for (Value buffer : sharedBuffers)
    e.free(buffer);
  for (Value buffer : privateBuffers)
    e.free(buffer);
}

//===----------------------------------------------------------------------===//
// attn.linear_attention as a tile program (attn_tile)
//===----------------------------------------------------------------------===//

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
  Value transforms, chains = numBoundaries, inverses;
  ChunkSegments::DeltaTransforms transformSpec;
  if (delta) {
    int64_t chunk = op.getChunkSize();
    inverses = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic, chunk}, b.getF32Type()),
        ValueRange{arith::MulIOp::create(b, loc, numChunks, e.idx(chunk))});
    transformSpec.inverses = inverses;
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
        Value boundaryBlock = e.cmpi(arith::CmpIPredicate::ult, block, before);
        if (delta)
          boundaryBlock = arith::AndIOp::create(
              b, loc, e.cmpi(arith::CmpIPredicate::uge, block, transforms),
              boundaryBlock);
        Value index = arith::SelectOp::create(
            b, loc, boundaryBlock, delta ? e.subi(block, transforms) : block,
            e.subi(block, before));
        ChunkSegments segments{index,      count,   boundaryBlock,
                               boundaries, nothing, nothing};
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
  if (inverses)
    memref::DeallocOp::create(b, loc, inverses);
}

static void buildLinearTiled(OpBuilder &b, LinearAttentionOp op,
                             const Kernel &kernel, const BlockSteps &steps,
                             const BufferAllocator &allocate,
                             const BufferAllocator &allocateShared) {
  Emitter e(b, op.getLoc(), allocate, allocateShared);
  ChunkSpec spec;
  spec.linear = getLinearSpec(op);
  spec.shape = getHeadShape(op);
  LinearNormalization normalization = op.getNormalization();
  spec.columns = spec.shape.valueDim +
                 (normalization == LinearNormalization::denominator ? 1 : 0);
  spec.chunk = op.getChunkSize();
  spec.lag = 0;
  spec.causal = op.getCausal();
  spec.delta = op.getUpdate() == UpdateRule::delta;
  spec.query = kernel.get(KernelArgRole::Query);
  spec.key = kernel.get(KernelArgRole::Key);
  spec.value = kernel.get(KernelArgRole::Value);
  spec.gates = kernel.get(KernelArgRole::Gate);
  spec.beta = kernel.get(KernelArgRole::Beta);
  spec.featureWeights = kernel.get(KernelArgRole::FeatureWeights);
  spec.initialState = kernel.get(KernelArgRole::InitialState);
  spec.finalState = kernel.get(KernelArgRole::FinalState);
  spec.length = e.dim(spec.query, 2);
  spec.queryScale = e.f.c(op.getEffectiveScale());
  spec.steps = steps;
  std::optional<float> normEps;
  if (op.getNormEpsAttr())
    normEps = op.getNormEpsAttr().getValueAsDouble();
  Value output = kernel.get(KernelArgRole::Output);
  spec.finishRow = [&](Value bi, Value h, Value i, Value numerator) {
    emitLinearOutput(e, normalization, normEps, spec.shape.valueDim, numerator,
                     output, {bi, h, i}, Value());
  };
  emitChunkedLoops(e, spec);
}

//===----------------------------------------------------------------------===//
// attn.hybrid
//===----------------------------------------------------------------------===//

/// The CPU runs the hybrid tile program (emitHybridTileProgram). The GPU's
/// SIMT kernel, and the CPU for a linear term the tile program does not
/// cover, run the chunked loops of the linear term (lagged by the window
/// under shared_denominator); as each row's linear numerator is ready, the
/// flash loop of that one row under `sliding_window<left = window - 1>`
/// gives its softmax term, and the two are combined as the op says. No
/// per-row state outlives its row.
static void buildHybridTiled(OpBuilder &b, HybridOp op, const Kernel &kernel,
                             const TiledOptions &options,
                             const BlockSteps &steps,
                             const BufferAllocator &allocate,
                             const BufferAllocator &allocateShared) {
  Emitter e(b, op.getLoc(), allocate, allocateShared);
  FloatMath &f = e.f;
  MLIRContext *context = op.getContext();
  bool shared = op.getCombine() == HybridCombine::shared_denominator;
  float w0 = 1, w1 = 1;
  if (std::optional<ArrayRef<float>> mix = op.getWeights()) {
    w0 = (*mix)[0];
    w1 = (*mix)[1];
  }
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value output = kernel.get(KernelArgRole::Output);
  HeadShape shape = getHeadShape(op);
  int64_t valueDim = shape.valueDim;
  Value length = e.dim(query, 2);

  FlashSpec flash;
  flash.shape = shape;
  flash.softmax = true;
  flash.keys.mask =
      SlidingWindowAttr::get(context, op.getWindow() - 1,
                             /*right=*/0, DiagonalAlignment::bottom_right);
  flash.value = kernel.get(KernelArgRole::Value);
  flash.numQueries = length;
  flash.numKeys = e.dim(key, 2);
  flash.keys.numQueries = flash.numQueries;
  flash.keys.numKeys = flash.numKeys;
  Value scale = f.c(op.getEffectiveScale());
  int64_t keyDim = shape.keyDim;
  flash.score = [&](Value bi, Value h, Value kh, Value i, Value j) {
    return f.mul(scale, e.sum(keyDim, [&](Value d) {
      return f.mul(e.load(query, {bi, h, i, d}), e.load(key, {bi, kh, j, d}));
    }));
  };
  flash.keep = [&](Value bi, Value h, Value i, Value j) {
    MaskValues values{bi, h, i, j, flash.numQueries, flash.numKeys, {}, {}};
    return flash.keys.mask.buildIsVisible(b, e.loc, values);
  };
  FlashBuffers rowBuffers(e, 1, options.blockKeys, valueDim);

  ChunkSpec chunked;
  chunked.linear = getLinearSpec(op);
  chunked.shape = shape;
  LinearNormalization normalization =
      op.getNormalization().value_or(LinearNormalization::none);
  bool needsZ = shared || normalization == LinearNormalization::denominator;
  chunked.columns = valueDim + (needsZ ? 1 : 0);
  chunked.chunk = op.getChunkSize();
  chunked.lag = shared ? op.getWindow() : 0;
  chunked.causal = true;
  chunked.delta = false;
  chunked.query = query;
  chunked.key = key;
  chunked.value = flash.value;
  chunked.gates = kernel.get(KernelArgRole::Gate);
  chunked.featureWeights = kernel.get(KernelArgRole::FeatureWeights);
  chunked.length = length;
  chunked.queryScale = f.c(op.getEffectiveLinearScale());
  chunked.steps = steps;
  std::optional<float> normEps;
  if (op.getNormEpsAttr())
    normEps = op.getNormEpsAttr().getValueAsDouble();
  chunked.finishRow = [&](Value bi, Value h, Value i, Value numerator) {
    if (!shared) {
      flash.finishRow = [&](Value bi, Value h, Value i, Value rowMax,
                            Value rowSum, Value acc, Value r) {
        Value sum = e.load(rowSum, {r});
        e.loop(valueDim, [&](Value d) {
          e.store(f.mul(f.c(w0), e.divOrZero(e.load(acc, {r, d}), sum)), output,
                  {bi, h, i, d});
        });
      };
      emitFlashQueryBlock(e, flash, options.blockKeys, bi, h, i,
                          e.addi(i, e.idx(1)), Value(), rowBuffers);
      emitLinearOutput(e, normalization, normEps, valueDim, numerator, output,
                       {bi, h, i}, f.c(w1));
      return;
    }
    // With c = max(m, 0): (w0 acc e^(m-c) + w1 e^-c n) /
    //                     (w0 l e^(m-c) + w1 e^-c z).
    flash.finishRow = [&](Value bi, Value h, Value i, Value rowMax,
                          Value rowSum, Value acc, Value r) {
      Value m = e.load(rowMax, {r});
      Value shift = f.max(m, f.c(0));
      Value softmaxFactor = f.mul(f.c(w0), f.exp(f.sub(m, shift)));
      Value linearFactor = f.mul(f.c(w1), f.exp(f.sub(f.c(0), shift)));
      Value denominator =
          f.add(f.mul(softmaxFactor, e.load(rowSum, {r})),
                f.mul(linearFactor, e.load(numerator, {e.idx(valueDim)})));
      e.loop(valueDim, [&](Value d) {
        Value value = f.add(f.mul(softmaxFactor, e.load(acc, {r, d})),
                            f.mul(linearFactor, e.load(numerator, {d})));
        e.store(e.divOrZero(value, denominator), output, {bi, h, i, d});
      });
    };
    emitFlashQueryBlock(e, flash, options.blockKeys, bi, h, i,
                        e.addi(i, e.idx(1)), Value(), rowBuffers);
  };
  emitChunkedLoops(e, chunked);
  rowBuffers.free(e);
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool mlir::attn::needsWorkspace(Operation *specOp) {
  return isa<LinearAttentionOp, HybridOp>(specOp);
}

/// Buffers of a GPU kernel that runs one thread per query row: in the
/// thread's local memory.
static Value allocatePrivate(OpBuilder &b, Location loc,
                             ArrayRef<int64_t> shape) {
  return memref::AllocaOp::create(b, loc,
                                  MemRefType::get(shape, b.getF32Type()));
}

/// Buffers shared by the threads of a GPU block that runs one (sequence,
/// head): one after the other in the slice workspace[b, h, :], `words`
/// counting the words used so far.
static BufferAllocator workspaceAllocator(Value workspace,
                                          std::shared_ptr<int64_t> words) {
  return [workspace, words](OpBuilder &b, Location loc,
                            ArrayRef<int64_t> shape) -> Value {
    int64_t size = 1;
    for (int64_t extent : shape)
      size *= extent;
    Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
    Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    SmallVector<OpFoldResult> offsets = {bi, h, b.getIndexAttr(*words)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                       b.getIndexAttr(size)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto sourceType = cast<MemRefType>(workspace.getType());
    MemRefType flatType = memref::SubViewOp::inferRankReducedResultType(
        {size}, sourceType, offsets, sizes, strides);
    Value flat = memref::SubViewOp::create(b, loc, flatType, workspace, offsets,
                                           sizes, strides);
    *words += size;
    if (shape.size() == 1)
      return flat;
    ReassociationIndices all = llvm::to_vector(
        llvm::seq<int64_t>(0, static_cast<int64_t>(shape.size())));
    return memref::ExpandShapeOp::create(b, loc, shape, flat, {all});
  };
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
  // The transform flags, then the inverses from a 16-byte boundary.
  return llvm::alignTo(words + delta.groups(), 4) +
         delta.chunks * delta.chunk * delta.chunk;
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
/// multiple of 4 words, the inverses (getSegmentedWorkspaceWords). Chain
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
  /// first two with one segment. `transformFlags` and `inverses` are word
  /// offsets.
  bool delta = false;
  int64_t parts = 1;
  Value transformBlock, group, part, transformFlags, inverses, numChunks;

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
      // Rounded up to 4 words: each inverse's rows start 16-byte aligned.
      Value end = e.addi(transformFlags, groups);
      inverses = arith::MulIOp::create(
          b, loc, arith::CeilDivUIOp::create(b, loc, end, e.idx(4)), e.idx(4));
    }
    boundaryBlock = e.cmpi(arith::CmpIPredicate::ult, z, before);
    if (delta)
      boundaryBlock = arith::AndIOp::create(
          b, loc, e.cmpi(arith::CmpIPredicate::uge, z, transforms),
          boundaryBlock);
    // A boundary or chain block's slice is its split (and boundary), an
    // output block's its split and segment.
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
  /// The delta rule's inverses, [chunks C, C].
  Value inverseTiles(int64_t chunk) {
    Value tiles = view(inverses, numChunks, chunk, chunk);
    return memref::CollapseShapeOp::create(
        e.b, e.loc, tiles, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
  }
  /// [rows, d1, d2] f32 from word `start` of this block's (sequence, head).
  Value view(Value start, Value rows, int64_t d1, int64_t d2) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    int64_t words = d1 * d2;
    Value size = arith::MulIOp::create(b, loc, rows, e.idx(words));
    SmallVector<OpFoldResult> offsets = {bi, h, start};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                       size};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto sourceType = cast<MemRefType>(workspace.getType());
    MemRefType flatType = memref::SubViewOp::inferRankReducedResultType(
        {ShapedType::kDynamic}, sourceType, offsets, sizes, strides);
    Value flat = memref::SubViewOp::create(b, loc, flatType, workspace, offsets,
                                           sizes, strides);
    // The workspace is contiguous (the runtime allocates it): the view's
    // strides are static, so the tile loads and stores fold them.
    auto type = MemRefType::get({ShapedType::kDynamic, d1, d2}, b.getF32Type(),
                                StridedLayoutAttr::get(b.getContext(),
                                                       ShapedType::kDynamic,
                                                       {words, d2, 1}));
    auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, flat);
    return memref::ReinterpretCastOp::create(
        b, loc, type, flat, OpFoldResult(metadata.getOffset()),
        {rows, b.getIndexAttr(d1), b.getIndexAttr(d2)},
        {b.getIndexAttr(words), b.getIndexAttr(d2), b.getIndexAttr(1)});
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
                             [&](Value s) { grid.await(s); }};
      if (delta) {
        ChunkSegments::DeltaTransforms transforms;
        transforms.transformBlock = grid.transformBlock;
        transforms.group = grid.group;
        transforms.groupChunks = groupChunks;
        transforms.inverses = grid.inverseTiles(linear.getChunkSize());
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
    if (auto function = dyn_cast<gpu::GPUFuncOp>(func.getOperation())) {
      DenseI32ArrayAttr blockSize =
          b.getDenseI32ArrayAttr({int32_t(32 * kTensorCoreChunkWarps), 1, 1});
      function.setKnownBlockSizeAttr(blockSize);
      // ptxas may then plan registers for exactly this block size.
      function->setAttr("nvvm.maxntid", blockSize);
    }
    if (launch) {
      *launch = {GridOrder::HeadsBatch, 32 * kTensorCoreChunkWarps,
                 /*workspaceWords=*/0,
                 /*blockQueries=*/0,    getTileSharedBytes(kernel.func),
                 /*alignedRows=*/true};
      launch->valueSplits = splits;
      launch->segmentWords = segmentWords;
      launch->transformGroupChunks = groupChunks;
      launch->chainsPerSplit = chainsPerSplit;
      launch->chunk = linear.getChunkSize();
    }
    return success();
  }
  if (options.target == KernelTarget::CPU) {
    buildCPUTileProgram(b, specOp, kernel, options);
    return success();
  }
  // The GPU's SIMT kernels: the loops of this file.
  GPULaunch geometry;
  BufferAllocator allocate = allocatePrivate, allocateShared;
  auto words = std::make_shared<int64_t>(0);
  BlockSteps steps{1};
  if (isa<AttentionOp>(specOp)) {
    geometry = {GridOrder::QueryBlocksHeadsBatch, options.gpuThreads, 0,
                /*blockQueries=*/options.gpuThreads, /*sharedBytes=*/0};
  } else {
    Value workspace = kernel.get(KernelArgRole::Workspace);
    if (!workspace)
      return specOp->emitError()
             << "the GPU kernel of this op needs a workspace argument";
    int64_t chunk = isa<HybridOp>(specOp)
                        ? cast<HybridOp>(specOp).getChunkSize()
                        : cast<LinearAttentionOp>(specOp).getChunkSize();
    steps = {chunkedLoopThreads(chunk, getLinearSpec(specOp).featureDim)};
    geometry = {GridOrder::HeadsBatch, steps.threads, 0};
    allocateShared = workspaceAllocator(workspace, words);
  }
  llvm::TypeSwitch<Operation *>(specOp)
      .Case([&](AttentionOp spec) {
        buildAttentionTiled(b, spec, kernel, options, allocate);
      })
      .Case([&](LinearAttentionOp spec) {
        buildLinearTiled(b, spec, kernel, steps, allocate, allocateShared);
      })
      .Case([&](HybridOp spec) {
        buildHybridTiled(b, spec, kernel, options, steps, allocate,
                         allocateShared);
      });
  geometry.workspaceWords = *words;
  if (launch)
    *launch = geometry;
  return success();
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
