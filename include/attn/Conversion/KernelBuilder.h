//===- KernelBuilder.h - Kernel signatures and building blocks --*- C++ -*-===//
//
/// \file
/// What every attn kernel has in common, whatever algorithm or target:
/// its signature (one strided memref per operand and result of the spec op,
/// in a fixed order with fixed names), the kernel function itself, and the
/// helpers that inline the user's regions and load/store through fp32.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_KERNELBUILDER_H
#define ATTN_CONVERSION_KERNELBUILDER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallVector.h"
#include <string>

namespace mlir::attn {

/// What a kernel argument holds.
enum class KernelArgRole {
  Query,
  Key,
  Value,
  QuerySegmentIds,
  KeySegmentIds,
  KvNumBlocks,
  KvIndices,
  FullKvNumBlocks,
  FullKvIndices,
  Capture,
  Gate,
  Beta,
  InitialState,
  FeatureWeights,
  Output,
  LogSumExp,
  FinalState,
  /// Where a kernel compiled with index checks (`check-indices`) records
  /// its out-of-range reads of captured tensors, [4] i32: the number of
  /// such reads, then the first one's capture number, dimension and index
  /// (saturated to 32 bits). The runtime zeroes it before a launch and
  /// reports a non-zero count as an error after it.
  IndexErrors,
  /// Scratch memory of a GPU kernel, [B, H, words] f32: one slice per
  /// (sequence, head) for kernels whose per-head buffers are too large for
  /// registers or shared memory. The runtime allocates it.
  Workspace,
};

/// The i32 words of an `index_errors` argument: count, capture, dim, index.
constexpr int64_t kIndexErrorWords = 4;

/// One kernel argument: a strided memref with dynamic strides and offset.
struct KernelArg {
  KernelArgRole role;
  /// The name the runtime and attn-run use: "query", "capture0", "lse", ...
  std::string name;
  MemRefType type;
  bool isOutput;
};

/// The arguments of the kernel of one spec op: its operands in operand
/// order, then its results.
struct KernelSignature {
  SmallVector<KernelArg> args;

  /// Index of the argument of `role` (the first for captures), or -1.
  int find(KernelArgRole role) const;
  /// Index of the argument named `name`, or -1.
  int find(StringRef name) const;
};

/// How a kernel stores the spec's floating-point tensors.
struct StorageTypes {
  /// Every floating-point tensor is stored with this type (the CPU backend
  /// runs fp32); null keeps the spec's types.
  Type allFloats;
  /// Every 16-bit floating-point tensor (bf16, f16) is stored with this
  /// type, so one spec runs on bf16 or fp16 inputs; f32 tensors (states,
  /// gates, lse) keep their type. Null keeps the spec's types.
  Type halfFloats;
};

/// The signature of the kernel of `specOp` (an attn.attention,
/// attn.linear_attention or attn.hybrid), storing its floating-point tensors
/// as `storage` says; integer tensors keep their types. With
/// `checkIndices`, an attn.attention with captured tensors also takes an
/// `index_errors` argument (KernelArgRole::IndexErrors) after its results.
KernelSignature getKernelSignature(Operation *specOp, StorageTypes storage = {},
                                   bool checkIndices = false);

/// The name of a role in manifests and descriptions: "query", "lse",
/// "capture", "workspace", ...
llvm::StringRef getKernelArgRoleName(KernelArgRole role);

/// The name kernels of `specOp` start with: `<function>_<n>` for the n-th
/// attn op (in walk order) of its enclosing function.
std::string getKernelBaseName(Operation *specOp);

/// A kernel function under construction: its entry-block arguments by role.
struct Kernel {
  /// A func.func (CPU) or a gpu.func (GPU).
  FunctionOpInterface func;
  const KernelSignature *signature;

  /// The argument of `role`, or null when the spec has none.
  Value get(KernelArgRole role) const;
  /// The captured tensors, in capture order.
  SmallVector<Value> getCaptures() const;
};

/// Creates `func.func @name(...)` with the signature's arguments, marked
/// for the C interface, at the end of `module`; leaves `builder` at the start
/// of its body, before a `func.return`.
Kernel createKernel(OpBuilder &builder, ModuleOp module, Location loc,
                    StringRef name, const KernelSignature &signature);

/// Returns the attn spec ops of `module` in walk order.
SmallVector<Operation *> collectSpecOps(ModuleOp module);

/// Checks that the regions of an attn.attention op can be inlined into a
/// kernel (`checkInlinable`); other ops have nothing to check.
LogicalResult checkSpecRegions(Operation *specOp);

/// Adds one kernel `<base name>_<suffix>` per attn spec op of `module`,
/// with the signature `getKernelSignature(op, storage, checkIndices)`;
/// `build` emits
/// its body with the builder before the kernel's `func.return`. The regions
/// of attn.attention ops are checked with `checkSpecRegions` first.
LogicalResult lowerSpecOps(
    ModuleOp module, StringRef suffix, StorageTypes storage, bool checkIndices,
    function_ref<LogicalResult(OpBuilder &, Operation *, const Kernel &)>
        build);

/// Parses a pass's `float-storage` option: empty gives a null type; anything
/// but a float type is an error reported on `module`.
FailureOr<Type> parseFloatStorage(ModuleOp module, StringRef text);

/// Parses a pass's `half-storage` option: empty gives a null type; anything
/// but bf16 or f16 is an error reported on `module`.
FailureOr<Type> parseHalfStorage(ModuleOp module, StringRef text);

/// `value` as a float of `type`: itself, widened (arith.extf) or rounded
/// (arith.truncf).
Value convertFloat(OpBuilder &b, Location loc, Value value, Type type);
/// Loads `memref[indices]` as f32 (widening narrower floats).
Value loadF32(OpBuilder &b, Location loc, Value memref, ValueRange indices);
/// Stores the f32 `value` to `memref[indices]`, narrowing it to the
/// memref's element type.
void storeF32(OpBuilder &b, Location loc, Value value, Value memref,
              ValueRange indices);

/// Checks that `region` (whose first `numArguments` block arguments are not
/// captures) can be inlined into a kernel: captured tensors are read only by
/// `tensor.extract` and `tensor.dim` at the region's top level. Emits an
/// error at the offending op otherwise.
LogicalResult checkInlinable(Region &region, unsigned numArguments);

/// Inlines the single block of `region` at the builder's insertion point
/// with its leading arguments bound to `arguments` and its trailing
/// arguments (captured tensors) bound to the memrefs `captures`, and returns
/// the value the region yields. `tensor.extract` and `tensor.dim` of a
/// captured tensor become `memref.load` (of indices clamped into the
/// tensor) and `memref.dim`; with an `indexErrors` memref
/// (KernelArgRole::IndexErrors), every read also records an index that
/// needed clamping there. Integer division and remainder get a result for
/// every input (docs/semantics.md, 2.5). The region must pass
/// `checkInlinable`.
Value inlineRegion(OpBuilder &b, Region &region, ValueRange arguments,
                   ValueRange captures, Value indexErrors = {});

/// inlineRegion with the captured tensors and index-error record of
/// `kernel`.
Value inlineRegion(OpBuilder &b, Region &region, ValueRange arguments,
                   const Kernel &kernel);

/// Emits `scf.for %iv = lb to ub step 1 iter_args(inits)` whose body is
/// built by `body(iv, iterArgs)`, which returns the values to yield; returns
/// the loop's results. A non-empty `stage` names the algorithm step the loop
/// runs in an `attn.stage` attribute, so tests and readers can find it.
SmallVector<Value>
emitFor(OpBuilder &b, Location loc, Value lb, Value ub, ValueRange inits,
        function_ref<SmallVector<Value>(Value iv, ValueRange iterArgs)> body,
        StringRef stage = {});

/// Emits `scf.if` yielding `thenBody()` or `elseBody()`; returns its results.
SmallVector<Value> emitIf(OpBuilder &b, Location loc, Value condition,
                          function_ref<SmallVector<Value>()> thenBody,
                          function_ref<SmallVector<Value>()> elseBody);

/// The constant log2(e) of float type `type`: a natural log times it is a
/// log in base 2, for exp2.
Value createLog2E(OpBuilder &b, Location loc, Type type);

/// exp(x) as exp2(x log2(e)): on the GPU a multiply and one ex2.approx,
/// where math.exp becomes libdevice's accurate expf (about four times the
/// instructions); the CPU computes the same expression.
Value createTileExp(OpBuilder &b, Location loc, Value x);

/// f32 constants and arithmetic at one location.
struct FloatMath {
  OpBuilder &b;
  Location loc;

  Value c(double value);
  Value index(int64_t value);
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  Value div(Value x, Value y);
  Value max(Value x, Value y);
  Value exp(Value x);
  Value log(Value x);
  Value select(Value condition, Value x, Value y);
  Value cmp(arith::CmpFPredicate predicate, Value x, Value y);
};

} // namespace mlir::attn

#endif // ATTN_CONVERSION_KERNELBUILDER_H
