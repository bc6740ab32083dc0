//===- CAPITest.cpp - The C API's checks of sizes and tensors -------------===//
//
/// \file
/// Checks that the C API (libattn_c, which the Python package calls) refuses
/// impossible sizes and tensors with a message and no crash, on the CPU
/// backend: captured tensors too small for the indices that read them,
/// negative and overflowing sizes, malformed size JSON, and tensors larger
/// than the machine, whose data is never touched.
//
//===----------------------------------------------------------------------===//

#include "attn/CAPI/Attn.h"
#include "gtest/gtest.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace {

/// A mask_mod reading a [B, N] table at (b, i) and (b, j), as
/// examples/transfusion_mask_mod.mlir does.
constexpr const char *kSpec = R"mlir(
func.func @f(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>,
             %v: tensor<?x2x?x8xf32>, %ids: tensor<?x?xi32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v captures(%ids : tensor<?x?xi32>)
      : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index, %t: tensor<?x?xi32>):
      %img_i = tensor.extract %t[%b, %i] : tensor<?x?xi32>
      %img_j = tensor.extract %t[%b, %j] : tensor<?x?xi32>
      %same = arith.cmpi eq, %img_i, %img_j : i32
      %causal = arith.cmpi ule, %j, %i : index
      %keep = arith.ori %same, %causal : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x2x?x8xf32>
}
)mlir";

/// Takes ownership of a string the C API returned.
std::string take(char *text) {
  std::string copy = text ? text : "";
  attnFreeString(text);
  return copy;
}

/// A host tensor the test owns, described as an AttnTensor.
struct Buffer {
  Buffer(AttnDType dtype, std::vector<int64_t> shape, size_t elementBytes)
      : shape(std::move(shape)) {
    strides.assign(this->shape.size(), 1);
    int64_t elements = 1;
    for (int64_t d = static_cast<int64_t>(this->shape.size()) - 1; d >= 0;
         --d) {
      strides[d] = elements;
      elements *= this->shape[d];
    }
    data.assign(static_cast<size_t>(elements) * elementBytes, 0);
    tensor = {data.data(),
              dtype,
              static_cast<int32_t>(this->shape.size()),
              this->shape.data(),
              strides.data(),
              /*device=*/0};
  }

  std::vector<int64_t> shape, strides;
  std::vector<uint8_t> data;
  AttnTensor tensor;
};

class CAPITest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    char *error = nullptr;
    kernel = attnCompile(kSpec, "spec", "backend=cpu", nullptr, &error);
    ASSERT_TRUE(kernel) << take(error);
  }
  static void TearDownTestSuite() { attnKernelDestroy(kernel); }

  /// Runs the kernel on B = 1, N = 16 with a table of `tableShape`; returns
  /// "success" or the error.
  static std::string run(std::vector<int64_t> tableShape) {
    Buffer q(ATTN_F32, {1, 2, 16, 8}, 4), k(ATTN_F32, {1, 2, 16, 8}, 4),
        v(ATTN_F32, {1, 2, 16, 8}, 4), ids(ATTN_I32, tableShape, 4),
        o(ATTN_F32, {1, 2, 16, 8}, 4);
    AttnTensor args[] = {q.tensor, k.tensor, v.tensor, ids.tensor, o.tensor};
    char *error = nullptr;
    if (attnKernelRun(kernel, args, 5, nullptr, &error) == 0)
      return "success";
    return take(error);
  }

  static std::string resolve(const char *sizes) {
    char *error = nullptr;
    char *shapes = attnKernelResolveShapes(kernel, sizes, &error);
    return shapes ? take(shapes) : "error: " + take(error);
  }

  static AttnKernel *kernel;
};

AttnKernel *CAPITest::kernel = nullptr;

TEST_F(CAPITest, RunChecksCapturedShapesAgainstTheirIndices) {
  EXPECT_EQ(run({1, 16}), "success");
  EXPECT_EQ(run({1, 1}), "capture0 dim 1 is indexed by the query index i, so "
                         "it needs at least Nq = 16 entries, got 1");
  EXPECT_EQ(run({1, 0}), "capture0 dim 1 is indexed by the query index i, so "
                         "it needs at least Nq = 16 entries, got 0");
}

TEST_F(CAPITest, CPUKernelsHaveNoWorkspaceFlags) {
  // Only a chunk-parallel CUDA kernel has flags to zero
  // (ComputeGridTest covers their words).
  int64_t first = -1, end = -1;
  attnKernelWorkspaceFlags(kernel, 2, 4096, &first, &end);
  EXPECT_EQ(first, 0);
  EXPECT_EQ(end, 0);
}

TEST_F(CAPITest, ResolveDefaultsCapturesAndChecksSizes) {
  EXPECT_EQ(resolve(R"({"B": 2, "Nq": 7, "Nk": 5})"),
            "[[2,2,7,8],[2,2,5,8],[2,2,5,8],[2,7],[2,2,7,8]]");
  EXPECT_EQ(
      resolve(R"({"B": 2, "Nq": 7, "Nk": 7, "shapes": {"capture0": [2, 3]}})"),
      "error: capture0 dim 1 is indexed by the query index i, so it "
      "needs at least Nq = 7 entries, got 3");
  EXPECT_EQ(
      resolve(R"({"B": 2, "Nq": 7, "Nk": 7, "shapes": {"capture0": [2, -7]}})"),
      "error: capture0 has negative size -7 in dim 1");
  EXPECT_EQ(
      resolve(
          R"({"B": 2, "Nq": 7, "Nk": 7, "shapes": {"capture0": [2, 7.5]}})"),
      "error: sizes: shapes.capture0 must be a list of integers that fit "
      "in 64 bits");
  EXPECT_EQ(resolve(R"({"B": 1e30, "Nq": 7, "Nk": 7})"),
            "error: sizes: B must be an integer that fits in 64 bits");
  EXPECT_EQ(resolve(R"({"B": 1, "Nq": 4611686018427387904, "Nk": 1})"),
            "error: query would have shape [1, 2, 4611686018427387904, 8]: "
            "more elements than a 64-bit byte count holds");
}

TEST_F(CAPITest, RunRefusesTensorsLargerThanTheMachine) {
  // Shapes of 2^40 queries on a buffer of a few bytes: refused before any
  // copy reads the data (and before LLVM's allocator could abort).
  std::vector<int64_t> big = {1, 2, int64_t(1) << 40, 8};
  std::vector<int64_t> bigStrides = {2 * 8 * (int64_t(1) << 40),
                                     8 * (int64_t(1) << 40), 8, 1};
  std::vector<int64_t> table = {1, int64_t(1) << 40},
                       tableStrides = {int64_t(1) << 40, 1};
  float scratch[16] = {};
  AttnTensor q = {scratch, ATTN_F32, 4, big.data(), bigStrides.data(), 0};
  AttnTensor ids = {scratch, ATTN_I32, 2, table.data(), tableStrides.data(), 0};
  AttnTensor args[] = {q, q, q, ids, q};
  char *error = nullptr;
  ASSERT_NE(attnKernelRun(kernel, args, 5, nullptr, &error), 0);
  std::string message = take(error);
  EXPECT_EQ(message.rfind("copying the arguments for the CPU kernel needs ", 0),
            0u)
      << message;
  EXPECT_NE(message.find("of host memory, more than this machine's"),
            std::string::npos)
      << message;

  std::vector<int64_t> negative = {1, 2, -16, 8};
  q.shape = negative.data();
  AttnTensor negativeArgs[] = {q, q, q, ids, q};
  ASSERT_NE(attnKernelRun(kernel, negativeArgs, 5, nullptr, &error), 0);
  EXPECT_EQ(take(error), "query has negative size -16 in dim 2");
}

} // namespace
