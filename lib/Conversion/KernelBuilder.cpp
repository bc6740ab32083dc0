//===- KernelBuilder.cpp - Kernel signatures and building blocks ----------===//
//
/// \file
/// The kernel signature of a spec op, the kernel function, fp32 loads and
/// stores, and inlining of the user's regions.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelBuilder.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

int KernelSignature::find(StringRef name) const {
  for (auto [index, arg] : llvm::enumerate(args))
    if (arg.name == name)
      return index;
  return -1;
}

int KernelSignature::find(KernelArgRole role) const {
  for (auto [index, arg] : llvm::enumerate(args))
    if (arg.role == role)
      return index;
  return -1;
}

/// A strided memref with dynamic strides and offset holding `type`'s shape.
static MemRefType stridedMemRef(Type type, StorageTypes storage) {
  auto tensor = cast<RankedTensorType>(type);
  Type element = tensor.getElementType();
  if (auto floatType = dyn_cast<FloatType>(element)) {
    if (storage.allFloats)
      element = storage.allFloats;
    else if (storage.halfFloats && floatType.getWidth() == 16)
      element = storage.halfFloats;
  }
  SmallVector<int64_t> strides(tensor.getRank(), ShapedType::kDynamic);
  auto layout =
      StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides);
  return MemRefType::get(tensor.getShape(), element, layout);
}

KernelSignature mlir::attn::getKernelSignature(Operation *specOp,
                                               StorageTypes storage,
                                               bool checkIndices) {
  KernelSignature signature;
  auto add = [&](KernelArgRole role, std::string name, Value value,
                 bool isOutput) {
    if (!value)
      return;
    signature.args.push_back({role, std::move(name),
                              stridedMemRef(value.getType(), storage),
                              isOutput});
  };
  llvm::TypeSwitch<Operation *>(specOp)
      .Case([&](AttentionOp op) {
        add(KernelArgRole::Query, "query", op.getQuery(), false);
        add(KernelArgRole::Key, "key", op.getKey(), false);
        add(KernelArgRole::Value, "value", op.getValue(), false);
        add(KernelArgRole::QuerySegmentIds, "query_segment_ids",
            op.getQuerySegmentIds(), false);
        add(KernelArgRole::KeySegmentIds, "key_segment_ids",
            op.getKeySegmentIds(), false);
        add(KernelArgRole::KvNumBlocks, "kv_num_blocks", op.getKvNumBlocks(),
            false);
        add(KernelArgRole::KvIndices, "kv_indices", op.getKvIndices(), false);
        add(KernelArgRole::FullKvNumBlocks, "full_kv_num_blocks",
            op.getFullKvNumBlocks(), false);
        add(KernelArgRole::FullKvIndices, "full_kv_indices",
            op.getFullKvIndices(), false);
        for (auto [index, capture] : llvm::enumerate(op.getCaptures()))
          add(KernelArgRole::Capture, "capture" + std::to_string(index),
              capture, false);
        add(KernelArgRole::Output, "output", op.getOutput(), true);
        add(KernelArgRole::LogSumExp, "lse", op.getLse(), true);
        if (checkIndices && !op.getCaptures().empty())
          signature.args.push_back(
              {KernelArgRole::IndexErrors, "index_errors",
               stridedMemRef(
                   RankedTensorType::get({kIndexErrorWords},
                                         IntegerType::get(op.getContext(), 32)),
                   storage),
               /*isOutput=*/true});
      })
      .Case([&](LinearAttentionOp op) {
        add(KernelArgRole::Query, "query", op.getQuery(), false);
        add(KernelArgRole::Key, "key", op.getKey(), false);
        add(KernelArgRole::Value, "value", op.getValue(), false);
        add(KernelArgRole::Gate, "gate", op.getGateValues(), false);
        add(KernelArgRole::Beta, "beta", op.getBeta(), false);
        add(KernelArgRole::InitialState, "initial_state", op.getInitialState(),
            false);
        add(KernelArgRole::FeatureWeights, "feature_weights",
            op.getFeatureWeights(), false);
        add(KernelArgRole::Output, "output", op.getOutput(), true);
        add(KernelArgRole::FinalState, "final_state", op.getFinalState(), true);
      })
      .Case([&](HybridOp op) {
        add(KernelArgRole::Query, "query", op.getQuery(), false);
        add(KernelArgRole::Key, "key", op.getKey(), false);
        add(KernelArgRole::Value, "value", op.getValue(), false);
        add(KernelArgRole::Gate, "gate", op.getGateValues(), false);
        add(KernelArgRole::FeatureWeights, "feature_weights",
            op.getFeatureWeights(), false);
        add(KernelArgRole::Output, "output", op.getOutput(), true);
      });
  return signature;
}

llvm::StringRef mlir::attn::getKernelArgRoleName(KernelArgRole role) {
  switch (role) {
  case KernelArgRole::Query:
    return "query";
  case KernelArgRole::Key:
    return "key";
  case KernelArgRole::Value:
    return "value";
  case KernelArgRole::QuerySegmentIds:
    return "query_segment_ids";
  case KernelArgRole::KeySegmentIds:
    return "key_segment_ids";
  case KernelArgRole::KvNumBlocks:
    return "kv_num_blocks";
  case KernelArgRole::KvIndices:
    return "kv_indices";
  case KernelArgRole::FullKvNumBlocks:
    return "full_kv_num_blocks";
  case KernelArgRole::FullKvIndices:
    return "full_kv_indices";
  case KernelArgRole::Capture:
    return "capture";
  case KernelArgRole::Gate:
    return "gate";
  case KernelArgRole::Beta:
    return "beta";
  case KernelArgRole::InitialState:
    return "initial_state";
  case KernelArgRole::FeatureWeights:
    return "feature_weights";
  case KernelArgRole::Output:
    return "output";
  case KernelArgRole::LogSumExp:
    return "lse";
  case KernelArgRole::FinalState:
    return "final_state";
  case KernelArgRole::IndexErrors:
    return "index_errors";
  case KernelArgRole::Workspace:
    return "workspace";
  }
  llvm_unreachable("unknown role");
}

std::string mlir::attn::getKernelBaseName(Operation *specOp) {
  auto func = specOp->getParentOfType<func::FuncOp>();
  int index = 0, found = -1;
  func.walk([&](Operation *op) {
    if (op == specOp)
      found = index;
    if (isa<AttentionOp, LinearAttentionOp, HybridOp>(op))
      ++index;
  });
  return (func.getSymName() + "_" + Twine(found)).str();
}

Value Kernel::get(KernelArgRole role) const {
  int index = signature->find(role);
  return index < 0 ? Value() : FunctionOpInterface(func).getArgument(index);
}

SmallVector<Value> Kernel::getCaptures() const {
  SmallVector<Value> captures;
  for (auto [index, arg] : llvm::enumerate(signature->args))
    if (arg.role == KernelArgRole::Capture)
      captures.push_back(FunctionOpInterface(func).getArgument(index));
  return captures;
}

Kernel mlir::attn::createKernel(OpBuilder &builder, ModuleOp module,
                                Location loc, StringRef name,
                                const KernelSignature &signature) {
  SmallVector<Type> types;
  for (const KernelArg &arg : signature.args)
    types.push_back(arg.type);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, loc, name,
                                   builder.getFunctionType(types, {}));
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                builder.getUnitAttr());
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  func::ReturnOp::create(builder, loc);
  return Kernel{func, &signature};
}

SmallVector<Operation *> mlir::attn::collectSpecOps(ModuleOp module) {
  SmallVector<Operation *> specs;
  module.walk([&](Operation *op) {
    if (isa<AttentionOp, LinearAttentionOp, HybridOp>(op))
      specs.push_back(op);
  });
  return specs;
}

LogicalResult mlir::attn::checkSpecRegions(Operation *specOp) {
  auto attention = dyn_cast<AttentionOp>(specOp);
  if (!attention)
    return success();
  return success(succeeded(checkInlinable(attention.getScoreMod(), 5)) &&
                 succeeded(checkInlinable(attention.getMaskMod(), 4)) &&
                 succeeded(checkInlinable(attention.getL1Map(), 1)));
}

LogicalResult mlir::attn::lowerSpecOps(
    ModuleOp module, StringRef suffix, StorageTypes storage, bool checkIndices,
    function_ref<LogicalResult(OpBuilder &, Operation *, const Kernel &)>
        build) {
  // Kernels are appended to the module; collect the specs first.
  SmallVector<Operation *> specs = collectSpecOps(module);
  OpBuilder builder(module.getContext());
  for (Operation *op : specs) {
    if (failed(checkSpecRegions(op)))
      return failure();
    KernelSignature signature = getKernelSignature(op, storage, checkIndices);
    Kernel kernel =
        createKernel(builder, module, op->getLoc(),
                     getKernelBaseName(op) + "_" + suffix.str(), signature);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(
        kernel.func.getFunctionBody().front().getTerminator());
    if (failed(build(builder, op, kernel)))
      return failure();
  }
  return success();
}

FailureOr<Type> mlir::attn::parseFloatStorage(ModuleOp module, StringRef text) {
  if (text.empty())
    return Type();
  Type type = parseType(text, module.getContext());
  if (!type || !isa<FloatType>(type))
    return module.emitError()
           << "float-storage must be a float type, got '" << text << "'";
  return type;
}

FailureOr<Type> mlir::attn::parseHalfStorage(ModuleOp module, StringRef text) {
  if (text.empty())
    return Type();
  Type type = parseType(text, module.getContext());
  if (!type || !isa<BFloat16Type, Float16Type>(type))
    return module.emitError()
           << "half-storage must be bf16 or f16, got '" << text << "'";
  return type;
}

Value mlir::attn::convertFloat(OpBuilder &b, Location loc, Value value,
                               Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  if (from.getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}

Value mlir::attn::loadF32(OpBuilder &b, Location loc, Value memref,
                          ValueRange indices) {
  return convertFloat(b, loc, memref::LoadOp::create(b, loc, memref, indices),
                      b.getF32Type());
}

void mlir::attn::storeF32(OpBuilder &b, Location loc, Value value, Value memref,
                          ValueRange indices) {
  Type element = cast<MemRefType>(memref.getType()).getElementType();
  memref::StoreOp::create(b, loc, convertFloat(b, loc, value, element), memref,
                          indices);
}

/// Whether `op` reads one of `captures` from inside one of its regions.
static bool readsCaptureInNestedRegion(Operation &op,
                                       const DenseSet<Value> &captures) {
  bool found = false;
  for (Region &nested : op.getRegions())
    nested.walk([&](Operation *inner) {
      found |= llvm::any_of(inner->getOperands(),
                            [&](Value v) { return captures.contains(v); });
    });
  return found;
}

LogicalResult mlir::attn::checkInlinable(Region &region,
                                         unsigned numArguments) {
  if (region.empty())
    return success();
  Block &block = region.front();
  DenseSet<Value> captures;
  for (BlockArgument arg : block.getArguments().drop_front(numArguments))
    captures.insert(arg);
  for (Operation &op : block.without_terminator()) {
    if (readsCaptureInNestedRegion(op, captures))
      return op.emitOpError() << "reads a captured tensor inside a nested "
                                 "region; read it at the region's top level";
    bool readsCapture = llvm::any_of(
        op.getOperands(), [&](Value v) { return captures.contains(v); });
    if (readsCapture && !isa<tensor::ExtractOp, tensor::DimOp>(op))
      return op.emitOpError()
             << "reads a captured tensor; regions may read captured tensors "
                "only with tensor.extract and tensor.dim";
  }
  return success();
}

/// Counts an out-of-range read in `indexErrors` (KernelArgRole::IndexErrors)
/// and, for the first one, records where it was: capture `capture`, its
/// dimension `dim`, the index saturated to 32 bits. The count is an atomic
/// add, so exactly one reader, whichever came first, writes the record.
static void recordIndexError(OpBuilder &b, Location loc, Value indexErrors,
                             int64_t capture, int64_t dim, Value index) {
  Type i32 = b.getI32Type();
  auto word = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i32, v);
  };
  Value previous = memref::AtomicRMWOp::create(
      b, loc, arith::AtomicRMWKind::addi, constant(1), indexErrors,
      ValueRange{word(0)});
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      previous, constant(0));
  auto ifFirst = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifFirst.thenBlock());
  Value low =
      arith::MaxSIOp::create(b, loc, index,
                             arith::ConstantIndexOp::create(
                                 b, loc, std::numeric_limits<int32_t>::min()));
  Value saturated =
      arith::MinSIOp::create(b, loc, low,
                             arith::ConstantIndexOp::create(
                                 b, loc, std::numeric_limits<int32_t>::max()));
  memref::StoreOp::create(b, loc, constant(capture), indexErrors,
                          ValueRange{word(1)});
  memref::StoreOp::create(b, loc, constant(dim), indexErrors,
                          ValueRange{word(2)});
  memref::StoreOp::create(b, loc,
                          arith::IndexCastOp::create(b, loc, i32, saturated),
                          indexErrors, ValueRange{word(3)});
}

/// The indices of a read of `memref` (captured tensor number `capture`),
/// each clamped into [0, size - 1] of its dimension: out-of-range indices
/// read the nearest element (docs/semantics.md, 2.5). The runtime refuses a
/// capture with a zero-size dimension that a region reads, so
/// size - 1 >= 0. With `indexErrors`, an index that needs clamping is also
/// recorded there (recordIndexError).
static SmallVector<Value> clampIndices(OpBuilder &b, Location loc, Value memref,
                                       ValueRange indices, int64_t capture,
                                       Value indexErrors) {
  SmallVector<Value> clamped;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [dim, index] : llvm::enumerate(indices)) {
    Value size = memref::DimOp::create(b, loc, memref, dim);
    Value last = arith::SubIOp::create(b, loc, size, one);
    Value low = arith::MaxSIOp::create(b, loc, index, zero);
    Value inside = arith::MinSIOp::create(b, loc, low, last);
    if (indexErrors) {
      Value outside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                            inside, index);
      auto ifOutside = scf::IfOp::create(b, loc, outside,
                                         /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOutside.thenBlock());
      recordIndexError(b, loc, indexErrors, capture, dim, index);
    }
    clamped.push_back(inside);
  }
  return clamped;
}

/// Gives integer division and remainder in `root` (a region op just
/// inlined, with everything nested in it) a result for every input, where
/// arith leaves division by zero and signed MIN / -1 undefined:
///   x / 0 = 0, x mod 0 = x (floor, ceil and truncating divisions alike),
///   x / -1 = 0 - x with wrap-around (so MIN / -1 = MIN), x rem -1 = 0.
/// The divisor the op sees is 1 in those cases, so it never traps. Uses
/// inside `root` are rewired; returns the value that replaces `root`'s own
/// result when `root` is a division (null otherwise), which the caller maps.
static Value defineIntegerDivision(OpBuilder &b, Operation *root) {
  Value rootResult;
  SmallVector<Operation *> divisions;
  root->walk([&](Operation *op) {
    if (isa<arith::DivSIOp, arith::DivUIOp, arith::CeilDivSIOp,
            arith::CeilDivUIOp, arith::FloorDivSIOp, arith::RemSIOp,
            arith::RemUIOp>(op))
      divisions.push_back(op);
  });
  for (Operation *op : divisions) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(op);
    Location loc = op->getLoc();
    Value x = op->getOperand(0), y = op->getOperand(1);
    Type type = y.getType();
    auto constant = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, v));
    };
    bool isSigned = isa<arith::DivSIOp, arith::CeilDivSIOp, arith::FloorDivSIOp,
                        arith::RemSIOp>(op);
    bool isRemainder = isa<arith::RemSIOp, arith::RemUIOp>(op);
    Value byZero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, constant(0));
    Value byMinusOne =
        isSigned ? arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y,
                                         constant(-1))
                 : Value();
    Value special =
        byMinusOne ? arith::OrIOp::create(b, loc, byZero, byMinusOne) : byZero;
    op->setOperand(1, arith::SelectOp::create(b, loc, special, constant(1), y));

    b.setInsertionPointAfter(op);
    Value raw = op->getResult(0);
    SmallPtrSet<Operation *, 2> selects;
    Value defined = raw;
    // With divisor 1 a remainder is already 0, as x rem -1 is.
    if (byMinusOne && !isRemainder) {
      defined = arith::SelectOp::create(
          b, loc, byMinusOne, arith::SubIOp::create(b, loc, constant(0), x),
          defined);
      selects.insert(defined.getDefiningOp());
    }
    defined = arith::SelectOp::create(b, loc, byZero,
                                      isRemainder ? x : constant(0), defined);
    selects.insert(defined.getDefiningOp());
    raw.replaceUsesWithIf(defined, [&](OpOperand &use) {
      return !selects.contains(use.getOwner());
    });
    if (op == root)
      rootResult = defined;
  }
  return rootResult;
}

Value mlir::attn::inlineRegion(OpBuilder &b, Region &region,
                               ValueRange arguments, const Kernel &kernel) {
  return inlineRegion(b, region, arguments, kernel.getCaptures(),
                      kernel.get(KernelArgRole::IndexErrors));
}

Value mlir::attn::inlineRegion(OpBuilder &b, Region &region,
                               ValueRange arguments, ValueRange captures,
                               Value indexErrors) {
  Block &block = region.front();
  assert(block.getNumArguments() == arguments.size() + captures.size() &&
         "the verifier checks region signatures");
  IRMapping mapping;
  for (auto [blockArg, value] :
       llvm::zip(block.getArguments().take_front(arguments.size()), arguments))
    mapping.map(blockArg, value);
  // Each captured tensor's block argument, to its memref and number.
  DenseMap<Value, std::pair<Value, int64_t>> captureMemRefs;
  for (auto [number, pair] : llvm::enumerate(llvm::zip(
           block.getArguments().drop_front(arguments.size()), captures)))
    captureMemRefs[std::get<0>(pair)] = {std::get<1>(pair), number};

  for (Operation &op : block.without_terminator()) {
    if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      auto [memref, number] = captureMemRefs.lookup(extract.getTensor());
      if (memref) {
        SmallVector<Value> indices = llvm::map_to_vector(
            extract.getIndices(), [&](Value i) { return mapping.lookup(i); });
        mapping.map(
            extract.getResult(),
            memref::LoadOp::create(b, op.getLoc(), memref,
                                   clampIndices(b, op.getLoc(), memref, indices,
                                                number, indexErrors)));
        continue;
      }
    }
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      if (Value memref = captureMemRefs.lookup(dim.getSource()).first) {
        mapping.map(dim.getResult(),
                    memref::DimOp::create(b, op.getLoc(), memref,
                                          mapping.lookup(dim.getIndex())));
        continue;
      }
    }
    Operation *clone = b.clone(op, mapping);
    if (Value defined = defineIntegerDivision(b, clone))
      mapping.map(op.getResult(0), defined);
  }
  auto yield = cast<YieldOp>(block.getTerminator());
  return mapping.lookup(yield.getValues().front());
}

SmallVector<Value> mlir::attn::emitFor(
    OpBuilder &b, Location loc, Value lb, Value ub, ValueRange inits,
    function_ref<SmallVector<Value>(Value iv, ValueRange iterArgs)> body,
    StringRef stage) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, one, inits,
      [&](OpBuilder &nested, Location nestedLoc, Value iv, ValueRange iters) {
        SmallVector<Value> results = body(iv, iters);
        scf::YieldOp::create(nested, nestedLoc, results);
      });
  if (!stage.empty())
    loop->setAttr("attn.stage", b.getStringAttr(stage));
  return SmallVector<Value>(loop.getResults());
}

SmallVector<Value>
mlir::attn::emitIf(OpBuilder &b, Location loc, Value condition,
                   function_ref<SmallVector<Value>()> thenBody,
                   function_ref<SmallVector<Value>()> elseBody) {
  auto ifOp = scf::IfOp::create(
      b, loc, condition,
      [&](OpBuilder &nested, Location nestedLoc) {
        scf::YieldOp::create(nested, nestedLoc, thenBody());
      },
      [&](OpBuilder &nested, Location nestedLoc) {
        scf::YieldOp::create(nested, nestedLoc, elseBody());
      });
  return SmallVector<Value>(ifOp.getResults());
}

Value FloatMath::c(double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}
Value FloatMath::index(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}
Value FloatMath::add(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
Value FloatMath::sub(Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}
Value FloatMath::mul(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
Value FloatMath::div(Value x, Value y) {
  return arith::DivFOp::create(b, loc, x, y);
}
Value FloatMath::max(Value x, Value y) {
  return arith::MaximumFOp::create(b, loc, x, y);
}
Value FloatMath::exp(Value x) { return math::ExpOp::create(b, loc, x); }

Value mlir::attn::createLog2E(OpBuilder &b, Location loc, Type type) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, M_LOG2E));
}

Value mlir::attn::createTileExp(OpBuilder &b, Location loc, Value x) {
  Value log2e = createLog2E(b, loc, x.getType());
  return math::Exp2Op::create(b, loc, arith::MulFOp::create(b, loc, x, log2e));
}
Value FloatMath::log(Value x) { return math::LogOp::create(b, loc, x); }
Value FloatMath::select(Value condition, Value x, Value y) {
  return arith::SelectOp::create(b, loc, condition, x, y);
}
Value FloatMath::cmp(arith::CmpFPredicate predicate, Value x, Value y) {
  return arith::CmpFOp::create(b, loc, predicate, x, y);
}
