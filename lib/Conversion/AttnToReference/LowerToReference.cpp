//===- LowerToReference.cpp - attn spec ops to reference loops ------------===//
//
/// \file
/// The semantic reference: every attn spec op becomes a kernel of scf loops
/// over memrefs that computes docs/semantics.md one output element at a
/// time, in fp32. Every other kernel is tested against these.
///
/// 1. Build the kernel signature (strided memrefs for operands and results)
///    and the kernel function.
/// 2. Emit the op's literal meaning:
///    - attention: for every (b, h, i), the maximum kept score, then the
///      weights and the weighted sum of values, then the normalization;
///    - linear attention: for every (b, h), the recurrence over t on an fp32
///      state [F, Dv (+1)] (two passes when non-causal);
///    - hybrid: for every (b, h, i), the window's softmax sums and the
///      linear terms a_ij with their decays, combined as the op says.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTOREFERENCEPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

static void buildAttentionReference(OpBuilder &b, AttentionOp op,
                                    const Kernel &kernel) {
  Emitter e(b, op.getLoc());
  FloatMath &f = e.f;
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value value = kernel.get(KernelArgRole::Value);
  Value output = kernel.get(KernelArgRole::Output);
  Value lse = kernel.get(KernelArgRole::LogSumExp);

  HeadShape shape = getHeadShape(op);
  int64_t queryHeads = shape.heads, keyGroup = shape.keyGroup;
  int64_t valueGroup = shape.valueGroup, valueDim = shape.valueDim;
  Normalization normalization = op.getNormalization();

  Value batches = e.dim(query, 0);
  Value numQueries = e.dim(query, 2), numKeys = e.dim(key, 2);
  Value acc = e.buffer({valueDim});

  e.loop(e.idx(0), batches, [&](Value bi) {
    e.loop(queryHeads, [&](Value h) {
      Value kh = e.divui(h, keyGroup), vh = e.divui(h, valueGroup);
      e.loop(e.idx(0), numQueries, [&](Value i) {
        auto keep = [&](Value j) {
          Value bit = emitAttentionKeep(e, op, kernel, bi, h, i, j, numQueries,
                                        numKeys, /*withNamedMask=*/true);
          if (op.getBlockSize())
            bit = emitBlockMaskKeep(e, op, kernel, bi, h, i, j, bit);
          return bit;
        };
        auto score = [&](Value j) {
          return emitAttentionScore(e, op, kernel, bi, h, kh, i, j);
        };

        // Pass 1: the row maximum of the kept scores (softmax only).
        Value rowMax = e.negInf();
        if (normalization == Normalization::softmax)
          rowMax = emitFor(b, e.loc, e.idx(0), numKeys, {rowMax},
                           [&](Value j, ValueRange m) {
                             return emitIf(
                                 b, e.loc, keep(j),
                                 [&] { return Values{f.max(m[0], score(j))}; },
                                 [&] { return Values{m[0]}; });
                           })[0];

        // Pass 2: weights and the weighted sum of values.
        e.fill(acc, valueDim, f.c(0));
        Value rowSum = emitFor(
            b, e.loc, e.idx(0), numKeys, {f.c(0)}, [&](Value j, ValueRange l) {
              return emitIf(
                  b, e.loc, keep(j),
                  [&] {
                    Value p = attentionWeight(e, op, score(j), rowMax, kernel);
                    e.loop(valueDim, [&](Value d) {
                      Value term = f.mul(p, e.load(value, {bi, vh, j, d}));
                      e.store(f.add(e.load(acc, {d}), term), acc, {d});
                    });
                    return Values{f.add(l[0], p)};
                  },
                  [&] { return Values{l[0]}; });
            })[0];

        bool dividesBySum = normalization == Normalization::softmax ||
                            normalization == Normalization::l1;
        e.loop(valueDim, [&](Value d) {
          Value o = e.load(acc, {d});
          e.store(dividesBySum ? e.divOrZero(o, rowSum) : o, output,
                  {bi, h, i, d});
        });
        if (lse)
          e.store(emitLogSumExp(e, rowMax, rowSum), lse, {bi, h, i});
      });
    });
  });
  e.free(acc);
}

//===----------------------------------------------------------------------===//
// attn.linear_attention
//===----------------------------------------------------------------------===//

static void buildLinearReference(OpBuilder &b, LinearAttentionOp op,
                                 const Kernel &kernel) {
  Emitter e(b, op.getLoc());
  FloatMath &f = e.f;
  LinearSpec spec = getLinearSpec(op);
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value value = kernel.get(KernelArgRole::Value);
  Value gates = kernel.get(KernelArgRole::Gate);
  Value beta = kernel.get(KernelArgRole::Beta);
  Value initialState = kernel.get(KernelArgRole::InitialState);
  Value weights = kernel.get(KernelArgRole::FeatureWeights);
  Value output = kernel.get(KernelArgRole::Output);
  Value finalState = kernel.get(KernelArgRole::FinalState);

  HeadShape shape = getHeadShape(op);
  int64_t heads = shape.heads, keyGroup = shape.keyGroup;
  int64_t valueGroup = shape.valueGroup, valueDim = shape.valueDim;
  LinearNormalization normalization = op.getNormalization();
  bool withDenominator = normalization == LinearNormalization::denominator;
  bool delta = op.getUpdate() == UpdateRule::delta;
  int64_t featureDim = spec.featureDim;
  int64_t columns = valueDim + (withDenominator ? 1 : 0);
  std::optional<float> normEps;
  if (op.getNormEpsAttr())
    normEps = op.getNormEpsAttr().getValueAsDouble();

  Value batches = e.dim(query, 0), length = e.dim(query, 2);
  Value state = e.buffer({featureDim, columns});
  Value queryFeatures = e.buffer({featureDim});
  Value keyFeatures = e.buffer({featureDim});
  Value row = e.buffer({columns}); // [v_t, 1]
  Value numerator = e.buffer({columns});
  Value scratch = e.buffer({std::max(spec.keyDim, featureDim)});
  Value scale = f.c(op.getEffectiveScale()), one = f.c(1);

  e.loop(e.idx(0), batches, [&](Value bi) {
    e.loop(heads, [&](Value h) {
      Value kh = e.divui(h, keyGroup), vh = e.divui(h, valueGroup);
      // S = initial state, or 0.
      e.loop(featureDim, [&](Value fi) {
        e.loop(columns, [&](Value c) {
          e.store(initialState ? e.load(initialState, {bi, h, fi, c}) : f.c(0),
                  state, {fi, c});
        });
      });

      // S <- G_t S + phi(k_t) [v_t, 1]^T, or the delta rule.
      auto update = [&](Value t) {
        emitFeatures(e, spec, key, bi, kh, t, h, /*side=*/1, weights, one,
                     keyFeatures, scratch);
        e.loop(valueDim, [&](Value c) {
          e.store(e.load(value, {bi, vh, t, c}), row, {c});
        });
        if (withDenominator)
          e.store(one, row, {e.idx(valueDim)});
        if (!delta) {
          e.loop(featureDim, [&](Value fi) {
            Value decay = f.exp(logGate(e, spec.gate, gates, bi, h, t, fi));
            Value k = e.load(keyFeatures, {fi});
            e.loop(columns, [&](Value c) {
              Value s = f.mul(decay, e.load(state, {fi, c}));
              e.store(f.add(s, f.mul(k, e.load(row, {c}))), state, {fi, c});
            });
          });
          return;
        }
        // Delta: u = (a S)^T phi(k); S = a S + beta phi(k) (v - u)^T.
        Value decay = f.exp(logGate(e, spec.gate, gates, bi, h, t, Value()));
        Value strength = e.load(beta, {bi, h, t});
        e.loop(columns, [&](Value c) {
          Value predicted = e.sum(featureDim, [&](Value fi) {
            return f.mul(e.load(state, {fi, c}), e.load(keyFeatures, {fi}));
          });
          Value error = f.sub(e.load(row, {c}), f.mul(decay, predicted));
          e.store(f.mul(strength, error), numerator, {c});
        });
        e.loop(featureDim, [&](Value fi) {
          Value k = e.load(keyFeatures, {fi});
          e.loop(columns, [&](Value c) {
            Value s = f.mul(decay, e.load(state, {fi, c}));
            e.store(f.add(s, f.mul(k, e.load(numerator, {c}))), state, {fi, c});
          });
        });
      };
      // o_t from n = S^T (scale phi(q_t)).
      auto emitOutput = [&](Value t) {
        emitFeatures(e, spec, query, bi, h, t, h, /*side=*/0, weights, scale,
                     queryFeatures, scratch);
        e.loop(columns, [&](Value c) {
          e.store(e.sum(featureDim,
                        [&](Value fi) {
                          return f.mul(e.load(state, {fi, c}),
                                       e.load(queryFeatures, {fi}));
                        }),
                  numerator, {c});
        });
        emitLinearOutput(e, normalization, normEps, valueDim, numerator, output,
                         {bi, h, t}, Value());
      };

      if (op.getCausal()) {
        e.loop(e.idx(0), length, [&](Value t) {
          update(t);
          emitOutput(t);
        });
      } else {
        e.loop(e.idx(0), length, update);
        e.loop(e.idx(0), length, emitOutput);
      }
      if (finalState)
        e.loop(featureDim, [&](Value fi) {
          e.loop(columns, [&](Value c) {
            e.store(e.load(state, {fi, c}), finalState, {bi, h, fi, c});
          });
        });
    });
  });
  for (Value buffer :
       {state, queryFeatures, keyFeatures, row, numerator, scratch})
    e.free(buffer);
}

//===----------------------------------------------------------------------===//
// attn.hybrid
//===----------------------------------------------------------------------===//

static void buildHybridReference(OpBuilder &b, HybridOp op,
                                 const Kernel &kernel) {
  Emitter e(b, op.getLoc());
  FloatMath &f = e.f;
  LinearSpec spec = getLinearSpec(op);
  Value query = kernel.get(KernelArgRole::Query);
  Value key = kernel.get(KernelArgRole::Key);
  Value value = kernel.get(KernelArgRole::Value);
  Value gates = kernel.get(KernelArgRole::Gate);
  Value weights = kernel.get(KernelArgRole::FeatureWeights);
  Value output = kernel.get(KernelArgRole::Output);

  HeadShape shape = getHeadShape(op);
  int64_t heads = shape.heads, keyGroup = shape.keyGroup;
  int64_t valueGroup = shape.valueGroup, keyDim = shape.keyDim;
  int64_t valueDim = shape.valueDim;
  int64_t featureDim = spec.featureDim;
  bool shared = op.getCombine() == HybridCombine::shared_denominator;
  LinearNormalization normalization =
      op.getNormalization().value_or(LinearNormalization::none);
  std::optional<float> normEps;
  if (op.getNormEpsAttr())
    normEps = op.getNormEpsAttr().getValueAsDouble();
  float w0 = 1, w1 = 1;
  if (std::optional<ArrayRef<float>> mix = op.getWeights()) {
    w0 = (*mix)[0];
    w1 = (*mix)[1];
  }

  Value batches = e.dim(query, 0), length = e.dim(query, 2);
  Value softmaxSum = e.buffer({valueDim + 1}); // [sum p v, sum p]
  Value linearSum = e.buffer({valueDim + 1});  // [sum a v, sum a]
  Value queryFeatures = e.buffer({featureDim});
  Value keyFeatures = e.buffer({featureDim});
  Value logDecay = e.buffer({featureDim});
  Value scratch = e.buffer({std::max(keyDim, featureDim)});
  Value scale = f.c(op.getEffectiveScale());
  Value linearScale = f.c(op.getEffectiveLinearScale());
  Value window = e.idx(op.getWindow());

  e.loop(e.idx(0), batches, [&](Value bi) {
    e.loop(heads, [&](Value h) {
      Value kh = e.divui(h, keyGroup), vh = e.divui(h, valueGroup);
      e.loop(e.idx(0), length, [&](Value i) {
        // The window [lo, i] with lo = max(i - window + 1, 0).
        Value next = e.addi(i, e.idx(1));
        Value lo =
            arith::MaxSIOp::create(b, e.loc, e.subi(next, window), e.idx(0));
        auto score = [&](Value j) {
          return f.mul(scale, e.sum(keyDim, [&](Value d) {
            return f.mul(e.load(query, {bi, h, i, d}),
                         e.load(key, {bi, kh, j, d}));
          }));
        };
        Value rowMax = emitFor(b, e.loc, lo, next, {e.negInf()},
                               [&](Value j, ValueRange m) {
                                 return Values{f.max(m[0], score(j))};
                               })[0];
        // Scores are shifted by c = max(m, 0) so that exp(s - c) <= 1 and
        // the linear terms' factor exp(-c) <= 1.
        Value shift = f.max(rowMax, f.c(0));
        e.fill(softmaxSum, valueDim + 1, f.c(0));
        e.loop(lo, next, [&](Value j) {
          Value p = f.exp(f.sub(score(j), shift));
          e.loop(valueDim, [&](Value d) {
            Value term = f.mul(p, e.load(value, {bi, vh, j, d}));
            e.store(f.add(e.load(softmaxSum, {d}), term), softmaxSum, {d});
          });
          Value at = e.idx(valueDim);
          e.store(f.add(e.load(softmaxSum, {at}), p), softmaxSum, {at});
        });

        // Linear terms a_ij = (lscale phi(q_i))^T D_ij phi(k_j), walking j
        // down from i so that the decay D_ij = exp(sum_{t=j+1..i} g_t)
        // accumulates one gate per step.
        emitFeatures(e, spec, query, bi, h, i, h, /*side=*/0, weights,
                     linearScale, queryFeatures, scratch);
        e.fill(linearSum, valueDim + 1, f.c(0));
        e.fill(logDecay, featureDim, f.c(0));
        Value linearEnd = shared ? lo : next;
        e.loop(e.idx(0), next, [&](Value r) {
          Value j = e.subi(i, r);
          Value inLinear = e.cmpi(arith::CmpIPredicate::slt, j, linearEnd);
          emitIf(
              b, e.loc, inLinear,
              [&] {
                emitFeatures(e, spec, key, bi, kh, j, h, /*side=*/1, weights,
                             f.c(1), keyFeatures, scratch);
                Value a = e.sum(featureDim, [&](Value fi) {
                  return f.mul(f.mul(e.load(queryFeatures, {fi}),
                                     f.exp(e.load(logDecay, {fi}))),
                               e.load(keyFeatures, {fi}));
                });
                e.loop(valueDim, [&](Value d) {
                  Value term = f.mul(a, e.load(value, {bi, vh, j, d}));
                  e.store(f.add(e.load(linearSum, {d}), term), linearSum, {d});
                });
                Value at = e.idx(valueDim);
                e.store(f.add(e.load(linearSum, {at}), a), linearSum, {at});
                return Values{};
              },
              [&] { return Values{}; });
          // Going from j to j - 1 brings gate g_j into the decay.
          e.loop(featureDim, [&](Value fi) {
            Value g = logGate(e, spec.gate, gates, bi, h, j, fi);
            e.store(f.add(e.load(logDecay, {fi}), g), logDecay, {fi});
          });
        });

        if (shared) {
          Value linearFactor = f.mul(f.c(w1), f.exp(f.sub(f.c(0), shift)));
          Value denominator =
              f.add(f.mul(f.c(w0), e.load(softmaxSum, {e.idx(valueDim)})),
                    f.mul(linearFactor, e.load(linearSum, {e.idx(valueDim)})));
          e.loop(valueDim, [&](Value d) {
            Value numerator =
                f.add(f.mul(f.c(w0), e.load(softmaxSum, {d})),
                      f.mul(linearFactor, e.load(linearSum, {d})));
            e.store(e.divOrZero(numerator, denominator), output, {bi, h, i, d});
          });
          return;
        }
        Value softmaxTotal = e.load(softmaxSum, {e.idx(valueDim)});
        e.loop(valueDim, [&](Value d) {
          e.store(f.mul(f.c(w0),
                        e.divOrZero(e.load(softmaxSum, {d}), softmaxTotal)),
                  output, {bi, h, i, d});
        });
        emitLinearOutput(e, normalization, normEps, valueDim, linearSum, output,
                         {bi, h, i}, f.c(w1));
      });
    });
  });
  for (Value buffer :
       {softmaxSum, linearSum, queryFeatures, keyFeatures, logDecay, scratch})
    e.free(buffer);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct AttnLowerToReferencePass
    : public attn::impl::AttnLowerToReferencePassBase<
          AttnLowerToReferencePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Type> storage = parseFloatStorage(module, floatStorage);
    if (failed(storage) ||
        failed(lowerSpecOps(
            module, "reference", StorageTypes{*storage, {}}, checkIndices,
            [](OpBuilder &builder, Operation *op, const Kernel &kernel) {
              buildReference(builder, op, kernel);
              return success();
            })))
      signalPassFailure();
  }

  static void buildReference(OpBuilder &builder, Operation *op,
                             const Kernel &kernel) {
    llvm::TypeSwitch<Operation *>(op)
        .Case([&](AttentionOp spec) {
          buildAttentionReference(builder, spec, kernel);
        })
        .Case([&](LinearAttentionOp spec) {
          buildLinearReference(builder, spec, kernel);
        })
        .Case([&](HybridOp spec) {
          buildHybridReference(builder, spec, kernel);
        });
  }
};

} // namespace
