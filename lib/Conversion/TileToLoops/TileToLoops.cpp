//===- TileToLoops.cpp - attn_tile ops to loops on memrefs ----------------===//
//
/// \file
/// The CPU strategy of the tile level (the attn-tile-to-loops pass):
///  1. Every tile value gets a memref buffer of its static shape, allocated
///     at the start of its function and freed before each return.
///  2. Before the conversion, the value an `scf.for` carries to its next
///     iteration is copied (an identity `attn_tile.map`) right before the
///     yield. That copy's buffer is the one the loop carries, and the copy
///     runs after every read of the iteration, so no op of the next
///     iteration overwrites a buffer still to be read. The upstream
///     structural conversion then carries the memrefs.
///  3. Each `<Op>Lowering` writes its result buffer element by element.
/// Layouts are ignored: they say where a GPU keeps each element, and a
/// buffer keeps them all (the SIMT strategy runs these patterns too, with
/// TileLoopOptions).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/TileToLoops.h"
#include "attn/Conversion/DecomposeTileSoftmax.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/KernelEmitter.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"
#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILETOLOOPSPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::tile;

TileBufferTypeConverter::TileBufferTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](TileType type) -> Type {
    return MemRefType::get(type.getShape(), type.getElementType());
  });
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

/// Builds the loops and element arithmetic of one lowering.
struct LoopBuilder {
  OpBuilder &b;
  Location loc;
  /// The threads of a GPU block that share each op's independent
  /// iterations (the SIMT strategy); 0 where one thread runs them all.
  int64_t threads = 0;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value zeroOf(Type type) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, 0.0));
  }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value load(Value buffer, ValueRange indices) {
    return memref::LoadOp::create(b, loc, buffer, indices);
  }
  void store(Value value, Value buffer, ValueRange indices) {
    memref::StoreOp::create(b, loc, value, buffer, indices);
  }
  /// `value` widened or rounded to `type`.
  Value convert(Value value, Type type) {
    return convertFloat(b, loc, value, type);
  }
  Value loadF32(Value buffer, ValueRange indices) {
    return convert(load(buffer, indices), b.getF32Type());
  }

  /// Runs `body(iv)` for iv in [lb, ub).
  void loop(Value lb, Value ub, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    body(forOp.getInductionVar());
  }
  void loop(int64_t ub, function_ref<void(Value)> body) {
    loop(idx(0), idx(ub), body);
  }
  /// Runs `body(iv)` for every iv in [0, ub), whose iterations are
  /// independent. With `threads`, thread t of the block takes iterations
  /// t, t + threads, ..., and the block then meets at a barrier, so what
  /// the iterations wrote is seen by every thread, and read by none, once
  /// the next op starts.
  void parallel(int64_t ub, function_ref<void(Value)> body) {
    if (!threads)
      return loop(ub, body);
    Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    auto forOp = scf::ForOp::create(b, loc, thread, idx(ub), idx(threads));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(forOp.getBody()->getTerminator());
      body(forOp.getInductionVar());
    }
    gpu::BarrierOp::create(b, loc);
  }
  /// Runs `body(indices)` for every element of a tile of `shape`, the
  /// elements independent (`parallel` over them all).
  void forEachElement(ArrayRef<int64_t> shape,
                      function_ref<void(ValueRange)> body) {
    if (threads) {
      int64_t columns = shape.size() == 1 ? 1 : shape[1];
      return parallel(shape[0] * columns, [&](Value flat) {
        if (shape.size() == 1)
          return body({flat});
        body({arith::DivUIOp::create(b, loc, flat, idx(columns)),
              arith::RemUIOp::create(b, loc, flat, idx(columns))});
      });
    }
    loop(shape[0], [&](Value r) {
      if (shape.size() == 1)
        return body({r});
      loop(shape[1], [&](Value c) { body({r, c}); });
    });
  }
  /// sum_{iv in [lb, ub)} term(iv), added to `init`, in f32.
  Value sum(Value lb, Value ub, Value init, function_ref<Value(Value)> term) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1), ValueRange{init});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    Value next =
        addf(forOp.getRegionIterArgs()[0], term(forOp.getInductionVar()));
    scf::YieldOp::create(b, loc, next);
    return forOp.getResult(0);
  }
};

/// A buffer for the result of `op` of `type`: allocated at the start of the
/// enclosing function and freed before each of its returns, so a loop that
/// runs `op` many times reuses one buffer.
static Value allocateOnHeap(OpBuilder &rewriter, Operation *op,
                            MemRefType type) {
  auto function = op->getParentOfType<FunctionOpInterface>();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(&function.getFunctionBody().front());
  Value buffer = memref::AllocOp::create(rewriter, op->getLoc(), type);
  for (Block &block : function.getFunctionBody()) {
    Operation *terminator = block.getTerminator();
    if (!terminator || !terminator->hasTrait<OpTrait::ReturnLike>())
      continue;
    rewriter.setInsertionPoint(terminator);
    memref::DeallocOp::create(rewriter, op->getLoc(), buffer);
  }
  return buffer;
}

/// The memory indices of element `tileIndices` of a tile placed at
/// `base` (see attn_tile.load), and the memory row of that element.
static SmallVector<Value> memoryIndices(LoopBuilder &lb, ValueRange base,
                                        ValueRange tileIndices) {
  SmallVector<Value> indices(base.begin(), base.end());
  size_t first = indices.size() - tileIndices.size();
  for (auto [n, offset] : llvm::enumerate(tileIndices))
    indices[first + n] = lb.addi(indices[first + n], offset);
  return indices;
}

/// The memory row of a tile access: the index of tile dimension 0.
static Value memoryRow(ArrayRef<Value> indices, int64_t tileRank) {
  return indices[indices.size() - tileRank];
}

template <typename OpTy> struct TileOpLowering : OpConversionPattern<OpTy> {
  TileOpLowering(const TypeConverter &converter, MLIRContext *context,
                 const TileLoopOptions &options)
      : OpConversionPattern<OpTy>(converter, context), options(options) {}

  /// The buffer of `op`'s tile result.
  Value allocateBuffer(ConversionPatternRewriter &rewriter, OpTy op) const {
    auto type = cast<MemRefType>(
        this->getTypeConverter()->convertType(op->getResult(0).getType()));
    if (options.allocate)
      return options.allocate(rewriter, op, type);
    return allocateOnHeap(rewriter, op, type);
  }
  LoopBuilder loops(OpBuilder &b, Location loc) const {
    return {b, loc, options.threads};
  }

  TileLoopOptions options;
};

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct SplatLowering : TileOpLowering<SplatOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(SplatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      lb.store(adaptor.getValue(), buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

struct LoadLowering : TileOpLowering<LoadOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(LoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TileType type = op.getType();
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Type element = type.getElementType();
    lb.forEachElement(type.getShape(), [&](ValueRange at) {
      SmallVector<Value> indices = memoryIndices(lb, adaptor.getIndices(), at);
      Value bound = adaptor.getRowsBelow();
      if (!bound) {
        lb.store(lb.convert(lb.load(adaptor.getSource(), indices), element),
                 buffer, at);
        return;
      }
      Value inside = arith::CmpIOp::create(
          rewriter, op.getLoc(), arith::CmpIPredicate::slt,
          memoryRow(indices, type.getRank()), bound);
      auto ifOp = scf::IfOp::create(
          rewriter, op.getLoc(), inside,
          [&](OpBuilder &b, Location loc) {
            LoopBuilder inner{b, loc};
            scf::YieldOp::create(
                b, loc,
                inner.convert(inner.load(adaptor.getSource(), indices),
                              element));
          },
          [&](OpBuilder &b, Location loc) {
            scf::YieldOp::create(b, loc, LoopBuilder{b, loc}.zeroOf(element));
          });
      lb.store(ifOp.getResult(0), buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

struct StoreLowering : TileOpLowering<StoreOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(StoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TileType type = op.getTile().getType();
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Type element = op.getDest().getType().getElementType();
    lb.forEachElement(type.getShape(), [&](ValueRange at) {
      SmallVector<Value> indices = memoryIndices(lb, adaptor.getIndices(), at);
      auto write = [&](OpBuilder &b, Location loc) {
        LoopBuilder inner{b, loc};
        inner.store(inner.convert(inner.load(adaptor.getTile(), at), element),
                    adaptor.getDest(), indices);
      };
      Value bound = adaptor.getRowsBelow();
      if (!bound)
        return write(rewriter, op.getLoc());
      Value inside = arith::CmpIOp::create(
          rewriter, op.getLoc(), arith::CmpIPredicate::slt,
          memoryRow(indices, type.getRank()), bound);
      scf::IfOp::create(rewriter, op.getLoc(), inside,
                        [&](OpBuilder &b, Location loc) {
                          write(b, loc);
                          scf::YieldOp::create(b, loc);
                        });
    });
    rewriter.eraseOp(op);
    return success();
  }
};

/// A buffer holds every element of its tile (on the CPU, and in the SIMT
/// strategy's scratch), so a layout change changes nothing.
struct ConvertLayoutLowering : TileOpLowering<ConvertLayoutOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(ConvertLayoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getSource());
    return success();
  }
};

struct MatmulLowering : TileOpLowering<MatmulOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    TileType lhs = op.getLhs().getType();
    int64_t depth =
        op.getTransposeLhs() ? lhs.getShape()[0] : lhs.getShape()[1];
    bool transposeLhs = op.getTransposeLhs(),
         transposeRhs = op.getTransposeRhs();
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      Value m = at[0], n = at[1];
      Value dot = lb.sum(
          lb.idx(0), lb.idx(depth), lb.load(adaptor.getAcc(), at),
          [&](Value k) {
            Value a =
                lb.loadF32(adaptor.getLhs(),
                           transposeLhs ? ValueRange{k, m} : ValueRange{m, k});
            Value b =
                lb.loadF32(adaptor.getRhs(),
                           transposeRhs ? ValueRange{n, k} : ValueRange{k, n});
            return lb.mulf(a, b);
          });
      lb.store(dot, buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// Inlines the body once per element, in the innermost loop.
struct MapLowering : TileOpLowering<MapOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(MapOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Block &body = op.getBody().front();
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      SmallVector<Value> arguments(at.begin(), at.end());
      for (auto [n, input] : llvm::enumerate(adaptor.getInputs())) {
        int64_t along = op.getBroadcastDim(n);
        arguments.push_back(along < 0 ? lb.load(input, at)
                                      : lb.load(input, {at[along]}));
      }
      auto yield = cast<tile::YieldOp>(body.getTerminator());
      Value element = yield.getValue();
      Operation *anchor = rewriter.getInsertionBlock()->getTerminator();
      rewriter.inlineBlockBefore(&body, anchor, arguments);
      rewriter.setInsertionPoint(anchor);
      lb.store(element, buffer, at);
      rewriter.eraseOp(yield);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

struct ReduceLowering : TileOpLowering<ReduceOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(ReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    bool max = op.getKind() == ReductionKind::max;
    int64_t columns = op.getSource().getType().getShape()[1];
    lb.parallel(op.getType().getShape()[0], [&](Value r) {
      Value init = lb.f32(max ? -INFINITY : 0.0);
      auto forOp =
          scf::ForOp::create(rewriter, op.getLoc(), lb.idx(0), lb.idx(columns),
                             lb.idx(1), ValueRange{init});
      {
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointToStart(forOp.getBody());
        Value x = lb.load(adaptor.getSource(), {r, forOp.getInductionVar()});
        Value acc = forOp.getRegionIterArgs()[0];
        Value next =
            max ? Value(arith::MaxNumFOp::create(rewriter, op.getLoc(), acc, x))
                : lb.addf(acc, x);
        scf::YieldOp::create(rewriter, op.getLoc(), next);
      }
      lb.store(forOp.getResult(0), buffer, {r});
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// phi(x) row by row, in the component order of the op's description.
struct Taylor2FeaturesLowering : TileOpLowering<Taylor2FeaturesOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(Taylor2FeaturesOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Type element = op.getType().getElementType();
    int64_t d = op.getSource().getType().getColumns();
    Value x = adaptor.getSource();
    lb.parallel(op.getType().getRows(), [&](Value r) {
      lb.store(lb.convert(lb.f32(1), element), buffer, {r, lb.idx(0)});
      lb.loop(d, [&](Value a) {
        Value xa = lb.loadF32(x, {r, a});
        lb.store(lb.convert(xa, element), buffer, {r, lb.addi(a, lb.idx(1))});
        lb.loop(d, [&](Value c) {
          Value term = lb.mulf(lb.f32(1.0 / std::sqrt(2.0)),
                               lb.mulf(xa, lb.loadF32(x, {r, c})));
          Value position = lb.addi(
              lb.idx(1 + d), lb.addi(arith::MulIOp::create(
                                         rewriter, op.getLoc(), a, lb.idx(d)),
                                     c));
          lb.store(lb.convert(term, element), buffer, {r, position});
        });
      });
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// [softmax(y), softmax(-y)] row by row: the maximum of s y, then
/// exp(s y - max) and their sum, then the quotients, for s = 1 and -1.
struct SoftmaxFeaturesLowering : TileOpLowering<SoftmaxFeaturesOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(SoftmaxFeaturesOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, loc);
    FloatMath f{rewriter, loc};
    int64_t width = op.getSource().getType().getColumns();
    Value y = adaptor.getSource();
    lb.parallel(op.getType().getRows(), [&](Value r) {
      for (int sign : {1, -1}) {
        Value offset = lb.idx(sign == 1 ? 0 : width);
        auto signed_ = [&](Value m) {
          return lb.mulf(lb.f32(sign), lb.load(y, {r, m}));
        };
        auto maxLoop =
            scf::ForOp::create(rewriter, loc, lb.idx(0), lb.idx(width),
                               lb.idx(1), ValueRange{lb.f32(-INFINITY)});
        {
          OpBuilder::InsertionGuard guard(rewriter);
          rewriter.setInsertionPointToStart(maxLoop.getBody());
          scf::YieldOp::create(rewriter, loc,
                               f.max(maxLoop.getRegionIterArgs()[0],
                                     signed_(maxLoop.getInductionVar())));
        }
        Value max = maxLoop.getResult(0);
        Value total = lb.sum(lb.idx(0), lb.idx(width), lb.f32(0), [&](Value m) {
          Value p = f.exp(f.sub(signed_(m), max));
          lb.store(p, buffer, {r, lb.addi(offset, m)});
          return p;
        });
        lb.loop(width, [&](Value m) {
          Value position = lb.addi(offset, m);
          lb.store(f.div(lb.load(buffer, {r, position}), total), buffer,
                   {r, position});
        });
      }
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

struct CumsumLowering : TileOpLowering<CumsumOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(CumsumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    TileType type = op.getType();
    auto scanColumn = [&](std::optional<Value> column) {
      auto at = [&](Value r) {
        return column ? SmallVector<Value>{r, *column} : SmallVector<Value>{r};
      };
      auto forOp = scf::ForOp::create(rewriter, op.getLoc(), lb.idx(0),
                                      lb.idx(type.getRows()), lb.idx(1),
                                      ValueRange{lb.f32(0.0)});
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(forOp.getBody());
      Value r = forOp.getInductionVar();
      Value next = lb.addf(forOp.getRegionIterArgs()[0],
                           lb.load(adaptor.getSource(), at(r)));
      lb.store(next, buffer, at(r));
      scf::YieldOp::create(rewriter, op.getLoc(), next);
    };
    if (type.getRank() == 1)
      lb.parallel(1, [&](Value) { scanColumn(std::nullopt); });
    else
      lb.parallel(type.getColumns(), [&](Value c) { scanColumn(c); });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

struct ExtractRowsLowering : TileOpLowering<ExtractRowsOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(ExtractRowsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      SmallVector<Value> from(at);
      from[0] = lb.addi(at[0], lb.idx(op.getOffset()));
      lb.store(lb.load(adaptor.getSource(), from), buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

struct DecayMaskLowering : TileOpLowering<DecayMaskOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(DecayMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Location loc = op.getLoc();
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      Value i = at[0], j = at[1];
      // Kept where j <= i + diagonal.
      Value keep =
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sle, j,
                                lb.addi(i, lb.idx(op.getDiagonal())));
      Value kept = lb.f32(1.0);
      if (adaptor.getRowLogs()) {
        Value diff = arith::SubFOp::create(
            rewriter, loc, lb.load(adaptor.getRowLogs(), {i}),
            lb.load(adaptor.getColumnLogs(), {j}));
        kept = math::ExpOp::create(rewriter, loc, diff);
      }
      lb.store(arith::SelectOp::create(rewriter, loc, keep, kept, lb.f32(0.0)),
               buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// T = (I + L)^-1 by forward substitution, each column m on its own (it
/// reads only itself): T[i][m] = -sum_{p in [m, i)} A[i][p] T[p][m] for
/// i > m, rows in order.
struct UTSolveLowering : TileOpLowering<UTSolveOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(UTSolveOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Location loc = op.getLoc();
    int64_t n = op.getType().getRows();
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      Value diagonal = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, at[0], at[1]);
      lb.store(arith::SelectOp::create(rewriter, loc, diagonal, lb.f32(1.0),
                                       lb.f32(0.0)),
               buffer, at);
    });
    lb.parallel(n, [&](Value m) {
      lb.loop(lb.addi(m, lb.idx(1)), lb.idx(n), [&](Value i) {
        Value sum = lb.sum(m, i, lb.f32(0.0), [&](Value p) {
          return lb.mulf(lb.load(adaptor.getSource(), {i, p}),
                         lb.load(buffer, {p, m}));
        });
        lb.store(arith::NegFOp::create(rewriter, loc, sum), buffer, {i, m});
      });
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// Entry (j, f) of the log decays `logs` of a chunk: [C] (one per token)
/// or [C, F] (one per token and feature).
static Value loadLogDecay(LoopBuilder &lb, Value logs, Value j, Value f) {
  if (cast<MemRefType>(logs.getType()).getRank() == 2)
    return lb.load(logs, {j, f});
  return lb.load(logs, {j});
}

/// S'[f][d] = exp(p_last,f) S[f][d].
struct DecayStateLowering : TileOpLowering<DecayStateOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(DecayStateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Value last = lb.idx(op.getLogDecay().getType().getRows() - 1);
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      Value decay =
          createTileExp(rewriter, op.getLoc(),
                        loadLogDecay(lb, adaptor.getLogDecay(), last, at[0]));
      lb.store(lb.mulf(decay, lb.load(adaptor.getState(), at)), buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// S'[f][d] = exp(p_last,f) S[f][d] + sum_j exp(p_last,f - p_j,f) k_jf v_jd,
/// where p has one column (a gate per token) or one per feature.
struct StateUpdateLowering : TileOpLowering<StateUpdateOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(StateUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Location loc = op.getLoc();
    int64_t tokens = op.getKeys().getType().getRows();
    Value logs = adaptor.getLogDecay();
    auto logAt = [&](Value j, Value f) { return loadLogDecay(lb, logs, j, f); };
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      Value f = at[0], d = at[1];
      Value kept = lb.load(adaptor.getState(), at);
      Value last;
      if (logs) {
        last = logAt(lb.idx(tokens - 1), f);
        kept = lb.mulf(math::ExpOp::create(rewriter, loc, last), kept);
      }
      Value next = lb.sum(lb.idx(0), lb.idx(tokens), kept, [&](Value j) {
        Value term = lb.mulf(lb.loadF32(adaptor.getKeys(), {j, f}),
                             lb.loadF32(adaptor.getValues(), {j, d}));
        if (!logs)
          return term;
        Value decay = math::ExpOp::create(
            rewriter, loc,
            arith::SubFOp::create(rewriter, loc, last, logAt(j, f)));
        return lb.mulf(decay, term);
      });
      lb.store(next, buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

/// s_ij = sum_f q_if k_jf exp(p_if - p_jf) where kept, exactly.
struct DecayedScoresLowering : TileOpLowering<DecayedScoresOp> {
  using TileOpLowering::TileOpLowering;
  LogicalResult
  matchAndRewrite(DecayedScoresOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value buffer = allocateBuffer(rewriter, op);
    LoopBuilder lb = loops(rewriter, op.getLoc());
    Location loc = op.getLoc();
    int64_t features = op.getQueries().getType().getColumns();
    lb.forEachElement(op.getType().getShape(), [&](ValueRange at) {
      Value i = at[0], j = at[1];
      Value keep =
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sle, j,
                                lb.addi(i, lb.idx(op.getDiagonal())));
      Value keyLogs =
          op.getKeyLogs() ? adaptor.getKeyLogs() : adaptor.getLogs();
      Value score =
          lb.sum(lb.idx(0), lb.idx(features), lb.f32(0.0), [&](Value f) {
            Value exponent = arith::SubFOp::create(
                rewriter, loc, lb.load(adaptor.getLogs(), {i, f}),
                lb.load(keyLogs, {j, f}));
            // Not kept entries may overflow here; the select drops them.
            Value decay = createTileExp(rewriter, loc, exponent);
            return lb.mulf(lb.mulf(lb.loadF32(adaptor.getQueries(), {i, f}),
                                   lb.loadF32(adaptor.getKeys(), {j, f})),
                           decay);
          });
      lb.store(arith::SelectOp::create(rewriter, loc, keep, score, lb.f32(0.0)),
               buffer, at);
    });
    rewriter.replaceOp(op, buffer);
    return success();
  }
};

} // namespace

void mlir::attn::populateTileToLoopsPatterns(const TypeConverter &converter,
                                             RewritePatternSet &patterns,
                                             const TileLoopOptions &options) {
  patterns
      .add<SplatLowering, LoadLowering, StoreLowering, ConvertLayoutLowering,
           MatmulLowering, MapLowering, ReduceLowering, CumsumLowering,
           ExtractRowsLowering, DecayMaskLowering, UTSolveLowering,
           StateUpdateLowering, DecayStateLowering, DecayedScoresLowering,
           Taylor2FeaturesLowering, SoftmaxFeaturesLowering>(
          converter, patterns.getContext(), options);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// Step 2 of the file comment: copies each tile an scf.for carries right
/// before its yield.
void mlir::attn::copyCarriedTiles(Operation *root) {
  root->walk([](scf::YieldOp yield) {
    if (!isa<scf::ForOp>(yield->getParentOp()))
      return;
    OpBuilder b(yield);
    for (OpOperand &operand : yield->getOpOperands()) {
      auto type = dyn_cast<TileType>(operand.get().getType());
      if (!type)
        continue;
      auto copy = MapOp::create(
          b, yield.getLoc(), type, operand.get(), /*broadcast=*/{},
          [](OpBuilder &, Location, ValueRange, ValueRange elements) {
            return elements[0];
          });
      operand.set(copy);
    }
  });
}

namespace {
struct AttnTileToLoopsPass
    : mlir::attn::impl::AttnTileToLoopsPassBase<AttnTileToLoopsPass> {
  void runOnOperation() override {
    if (failed(decomposeTileSoftmax(getOperation())))
      return signalPassFailure();
    copyCarriedTiles(getOperation());
    TileBufferTypeConverter converter;
    RewritePatternSet patterns(&getContext());
    ConversionTarget target(getContext());
    target.addIllegalDialect<TileDialect>();
    target.addLegalDialect<arith::ArithDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect>();
    populateTileToLoopsPatterns(converter, patterns);
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
