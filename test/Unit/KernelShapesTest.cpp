//===- KernelShapesTest.cpp - Argument shapes resolved from a spec --------===//
//
/// \file
/// Checks resolveArgumentShapes on parsed specs: captured tensors indexed by
/// the regions' b, h, i and j (their defaults, and shapes too small for
/// them), empty captured tensors that a region reads, sequence lengths a
/// neighborhood grid fixes, negative sizes, and shapes whose byte counts do
/// not fit in 64 bits.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/KernelShapes.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/Pipelines.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"

#include <variant>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;

namespace {

/// Captures read at b, h, i and j: capture0 [B, N] by (b, i) and (b, j) in
/// mask_mod, capture1 [Hq] by h in score_mod, capture2 by a computed index,
/// capture3 (static, 8 entries) by j, and capture4 only through its size.
constexpr const char *kCaptures = R"mlir(
func.func @f(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>,
             %v: tensor<?x2x?x8xf32>, %ids: tensor<?x?xi32>,
             %slopes: tensor<?xf32>, %table: tensor<?xf32>,
             %short: tensor<8xf32>, %sized: tensor<?xf32>)
    -> tensor<?x4x?x8xf32> {
  %o = attn.attention %q, %k, %v
      captures(%ids, %slopes, %table, %short, %sized
               : tensor<?x?xi32>, tensor<?xf32>, tensor<?xf32>, tensor<8xf32>,
                 tensor<?xf32>)
      : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x4x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %t0: tensor<?x?xi32>, %t1: tensor<?xf32>, %t2: tensor<?xf32>,
         %t3: tensor<8xf32>, %t4: tensor<?xf32>):
      %m = tensor.extract %t1[%h] : tensor<?xf32>
      %c1 = arith.constant 1 : index
      %next = arith.addi %i, %c1 : index
      %x = tensor.extract %t2[%next] : tensor<?xf32>
      %y = tensor.extract %t3[%j] : tensor<8xf32>
      %c0 = arith.constant 0 : index
      %n = tensor.dim %t4, %c0 : tensor<?xf32>
      %a = arith.mulf %s, %m : f32
      %b2 = arith.addf %a, %x : f32
      %r = arith.addf %b2, %y : f32
      attn.yield %r : f32
    }
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index,
         %t0: tensor<?x?xi32>, %t1: tensor<?xf32>, %t2: tensor<?xf32>,
         %t3: tensor<8xf32>, %t4: tensor<?xf32>):
      %img_i = tensor.extract %t0[%b, %i] : tensor<?x?xi32>
      %img_j = tensor.extract %t0[%b, %j] : tensor<?x?xi32>
      %same = arith.cmpi eq, %img_i, %img_j : i32
      attn.yield %same : i1
    }
  return %o : tensor<?x4x?x8xf32>
}
)mlir";

constexpr const char *kNeighborhood = R"mlir(
func.func @f(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
             %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal,
                         #attn.neighborhood<grid = [4, 6], kernel = [3, 3]>]>}
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}
)mlir";

class KernelShapesTest : public ::testing::Test {
protected:
  KernelShapesTest() {
    DialectRegistry registry;
    registerKernelDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Parses `text` and returns its one attn op.
  Operation *parse(const char *text) {
    module = parseSourceString<ModuleOp>(text, &context);
    EXPECT_TRUE(module);
    if (!module)
      return nullptr;
    SmallVector<Operation *> specs = collectSpecOps(*module);
    EXPECT_EQ(specs.size(), 1u);
    return specs.empty() ? nullptr : specs.front();
  }

  /// Resolves the shapes of `spec`'s kernel, by argument name, or returns
  /// the error message.
  std::variant<llvm::StringMap<SmallVector<int64_t>>, std::string>
  resolve(Operation *spec, const ProblemSizes &sizes) {
    KernelSignature signature =
        getKernelSignature(spec, StorageTypes{Float32Type::get(&context), {}});
    auto shapes = resolveArgumentShapes(spec, signature, sizes);
    if (!shapes)
      return llvm::toString(shapes.takeError());
    llvm::StringMap<SmallVector<int64_t>> byName;
    for (auto [arg, shape] : llvm::zip_equal(signature.args, *shapes))
      byName[arg.name] = shape;
    return byName;
  }

  std::string errorOf(Operation *spec, const ProblemSizes &sizes) {
    auto result = resolve(spec, sizes);
    if (auto *message = std::get_if<std::string>(&result))
      return *message;
    return "success";
  }

  /// Sizes with the captures the tests do not vary given.
  static ProblemSizes sizes(int64_t batch, int64_t queries, int64_t keys) {
    ProblemSizes sizes;
    sizes.batch = batch;
    sizes.numQueries = queries;
    sizes.numKeys = keys;
    sizes.argumentShapes["capture2"] = {5};
    sizes.argumentShapes["capture4"] = {3};
    return sizes;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(KernelShapesTest, CapturesIndexedByTheRegionsDefaultToTheirSizes) {
  Operation *spec = parse(kCaptures);
  ASSERT_TRUE(spec);
  auto result = resolve(spec, sizes(/*batch=*/2, /*queries=*/7, /*keys=*/6));
  auto *shapes = std::get_if<llvm::StringMap<SmallVector<int64_t>>>(&result);
  ASSERT_TRUE(shapes) << std::get<std::string>(result);
  // capture0 is indexed by i and j: the larger of Nq and Nk.
  EXPECT_EQ((*shapes)["capture0"], (SmallVector<int64_t>{2, 7}));
  EXPECT_EQ((*shapes)["capture1"], (SmallVector<int64_t>{4}));
  EXPECT_EQ((*shapes)["capture2"], (SmallVector<int64_t>{5}));
  EXPECT_EQ((*shapes)["capture3"], (SmallVector<int64_t>{8}));
  EXPECT_EQ((*shapes)["capture4"], (SmallVector<int64_t>{3}));

  ProblemSizes longerKeys = sizes(2, 5, 8);
  result = resolve(spec, longerKeys);
  shapes = std::get_if<llvm::StringMap<SmallVector<int64_t>>>(&result);
  ASSERT_TRUE(shapes) << std::get<std::string>(result);
  EXPECT_EQ((*shapes)["capture0"], (SmallVector<int64_t>{2, 8}));

  // Larger than needed is fine.
  ProblemSizes larger = sizes(2, 7, 6);
  larger.argumentShapes["capture0"] = {3, 100};
  EXPECT_EQ(errorOf(spec, larger), "success");
}

TEST_F(KernelShapesTest, CapturesTooSmallForTheirIndices) {
  Operation *spec = parse(kCaptures);
  ASSERT_TRUE(spec);
  ProblemSizes given = sizes(1, 64, 64);
  given.argumentShapes["capture0"] = {1, 1};
  EXPECT_EQ(errorOf(spec, given),
            "capture0 dim 1 is indexed by the query index i, so it needs at "
            "least Nq = 64 entries, got 1");
  given.argumentShapes["capture0"] = {1, 64};
  given.numKeys = 65;
  EXPECT_EQ(errorOf(spec, given),
            "capture0 dim 1 is indexed by the key index j, so it needs at "
            "least Nk = 65 entries, got 64");
  given.numKeys = 64;
  given.batch = 2;
  EXPECT_EQ(errorOf(spec, given),
            "capture0 dim 0 is indexed by the batch index b, so it needs at "
            "least B = 2 entries, got 1");
  given.batch = 1;
  given.argumentShapes["capture1"] = {3};
  EXPECT_EQ(errorOf(spec, given),
            "capture1 dim 0 is indexed by the head index h, so it needs at "
            "least Hq = 4 entries, got 3");
  given.argumentShapes.erase("capture1");
  // A static dimension the spec fixes too small for the lengths.
  EXPECT_EQ(errorOf(spec, sizes(1, 8, 8)), "success");
  EXPECT_EQ(errorOf(spec, sizes(1, 8, 9)),
            "capture3 dim 0 is indexed by the key index j, so it needs at "
            "least Nk = 9 entries, got 8");
}

TEST_F(KernelShapesTest, CapturesReadAtComputedIndices) {
  Operation *spec = parse(kCaptures);
  ASSERT_TRUE(spec);
  // Nothing says how large capture2 is: its index is computed (the compiler
  // clamps such reads).
  ProblemSizes given = sizes(1, 4, 4);
  given.argumentShapes.erase("capture2");
  EXPECT_EQ(errorOf(spec, given), "dim 0 of capture2 is dynamic; give its "
                                  "shape");
  // Empty: there is no element to read, clamped or not.
  given.argumentShapes["capture2"] = {0};
  EXPECT_EQ(errorOf(spec, given),
            "capture2 has shape [0] with no elements, but a region of the "
            "spec reads it with tensor.extract");
  // Read through tensor.dim only: empty is fine.
  given.argumentShapes["capture2"] = {1};
  given.argumentShapes["capture4"] = {0};
  EXPECT_EQ(errorOf(spec, given), "success");
  given.argumentShapes["capture4"] = {-1};
  EXPECT_EQ(errorOf(spec, given), "capture4 has negative size -1 in dim 0");
  // No region runs for an empty problem, so nothing reads an empty tensor.
  given.argumentShapes["capture4"] = {3};
  given.argumentShapes["capture2"] = {0};
  given.batch = 0;
  EXPECT_EQ(errorOf(spec, given), "success");
}

TEST_F(KernelShapesTest, NeighborhoodGridFixesTheLength) {
  Operation *spec = parse(kNeighborhood);
  ASSERT_TRUE(spec);
  EXPECT_EQ(getMaskSequenceLength(spec), 24);
  ProblemSizes given;
  given.batch = 1;
  auto result = resolve(spec, given);
  auto *shapes = std::get_if<llvm::StringMap<SmallVector<int64_t>>>(&result);
  ASSERT_TRUE(shapes) << std::get<std::string>(result);
  EXPECT_EQ((*shapes)["query"], (SmallVector<int64_t>{1, 2, 24, 8}));
  EXPECT_EQ((*shapes)["key"], (SmallVector<int64_t>{1, 2, 24, 8}));
  given.numQueries = given.numKeys = 30;
  EXPECT_EQ(errorOf(spec, given),
            "'attn.attention' op neighborhood grid holds 24 tokens but the "
            "query sequence length is 30");
}

TEST_F(KernelShapesTest, ImpossibleSizes) {
  Operation *spec = parse(kNeighborhood);
  ASSERT_TRUE(spec);
  ProblemSizes given;
  given.batch = -1;
  EXPECT_EQ(errorOf(spec, given), "the batch must be non-negative, got -1");
  // 2^62 queries of 2 heads of 8 f32: the byte count would wrap to 0.
  given.batch = 1;
  given.numQueries = given.numKeys = int64_t(1) << 62;
  EXPECT_EQ(errorOf(spec, given),
            "query would have shape [1, 2, 4611686018427387904, 8]: more "
            "elements than a 64-bit byte count holds");
}

} // namespace
