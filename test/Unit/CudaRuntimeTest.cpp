//===- CudaRuntimeTest.cpp - The GPU runtime's host logic -----------------===//
//
/// \file
/// Checks the GPU runtime without a GPU: every argument check and its exact
/// message (through a fake pointer query), the kernel parameter layout of
/// MLIR's memref lowering, grid computation for lengths that are not
/// multiples of the block, the kernel cache's keys and its produce-once
/// behaviour under threads (through a fake loader), and the driver wrapper
/// itself through fake entry points: its messages, pointer classification,
/// launch limits and context handling. A missing libcuda must give a clean
/// error; where one loads, that test is skipped.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/KernelLauncher.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MathExtras.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;
using namespace mlir::attn::runtime::cuda;

namespace {

/// Returns the message of `error`, or "success".
std::string messageOf(llvm::Error error) {
  if (!error)
    return "success";
  return llvm::toString(std::move(error));
}

/// Returns the error message of `expected`, failing the test on success.
template <typename T> std::string errorOf(llvm::Expected<T> expected) {
  if (expected) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(expected.takeError());
}

/// Returns the value in `expected`, failing the test on an error.
template <typename T> T unwrap(llvm::Expected<T> expected) {
  if (!expected) {
    ADD_FAILURE() << llvm::toString(expected.takeError());
    return T();
  }
  return std::move(*expected);
}

//===----------------------------------------------------------------------===//
// Fake memory: what the driver would say about addresses
//===----------------------------------------------------------------------===//

constexpr uint64_t kDevice0 = 0x10000000;    // 256 MiB on device 0
constexpr uint64_t kDevice1 = 0x20000000;    // 256 MiB on device 1
constexpr uint64_t kPinnedHost = 0x30000000; // page-locked host memory
constexpr uint64_t kBroken = 0x50000000;     // the driver fails to answer
constexpr uint64_t kRegionBytes = 0x10000000;

/// The answer of cuPointerGetAttribute for the fake address space above;
/// other addresses are unknown to the driver.
llvm::Expected<PointerInfo> fakeQuery(uint64_t pointer) {
  auto in = [&](uint64_t base) {
    return pointer >= base && pointer < base + kRegionBytes;
  };
  if (in(kDevice0))
    return PointerInfo{PointerInfo::Memory::Device, 0};
  if (in(kDevice1))
    return PointerInfo{PointerInfo::Memory::Device, 1};
  if (in(kPinnedHost))
    return PointerInfo{PointerInfo::Memory::Host, -1};
  if (in(kBroken))
    return llvm::createStringError("the driver fell over");
  return PointerInfo{};
}

/// Returns a row-major tensor of `type` and `shape` at `pointer` on device 0.
DeviceTensor contiguous(uint64_t pointer, ElementType type,
                        llvm::ArrayRef<int64_t> shape) {
  DeviceTensor tensor;
  tensor.pointer = pointer;
  tensor.type = type;
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.strides.resize(shape.size());
  int64_t stride = 1;
  for (int64_t dim = static_cast<int64_t>(shape.size()) - 1; dim >= 0; --dim) {
    tensor.strides[dim] = stride;
    stride *= shape[dim];
  }
  return tensor;
}

/// Bytes a row-major tensor takes.
uint64_t sizeInBytes(const DeviceTensor &tensor) {
  uint64_t elements = 1;
  for (int64_t size : tensor.shape)
    elements *= size;
  return elements * getByteWidth(tensor.type);
}

//===----------------------------------------------------------------------===//
// Argument checks
//===----------------------------------------------------------------------===//

/// The kernel of an attention with one captured f32 table and a
/// log-sum-exp output: query, key, value (bf16, [B, H, N, 64]), capture0
/// (f32, [16]), output (bf16) and lse (f32, [B, H, Nq]), with B = 2, H = 4,
/// Nq = 100 and Nk = 128, laid out one after the other in device 0's memory.
class CheckArgumentsTest : public ::testing::Test {
protected:
  void SetUp() override {
    Type bf16 = BFloat16Type::get(&context);
    Type f32 = Float32Type::get(&context);
    add(KernelArgRole::Query, "query", bf16, 4, false);
    add(KernelArgRole::Key, "key", bf16, 4, false);
    add(KernelArgRole::Value, "value", bf16, 4, false);
    add(KernelArgRole::Capture, "capture0", f32, 1, false);
    add(KernelArgRole::Output, "output", bf16, 4, true);
    add(KernelArgRole::LogSumExp, "lse", f32, 3, true);
    shapes = {{2, 4, 100, 64}, {2, 4, 128, 64}, {2, 4, 128, 64}, {16},
              {2, 4, 100, 64}, {2, 4, 100}};
    uint64_t pointer = kDevice0;
    for (auto [arg, shape] : llvm::zip_equal(signature.args, shapes)) {
      ElementType type = arg.type.getElementType().isBF16() ? ElementType::BF16
                                                            : ElementType::F32;
      args.push_back(contiguous(pointer, type, shape));
      pointer += llvm::alignTo(sizeInBytes(args.back()), 256);
    }
  }

  void add(KernelArgRole role, std::string name, Type element, int64_t rank,
           bool isOutput) {
    SmallVector<int64_t> dynamic(rank, ShapedType::kDynamic);
    auto layout =
        StridedLayoutAttr::get(&context, ShapedType::kDynamic, dynamic);
    signature.args.push_back({role, std::move(name),
                              MemRefType::get(dynamic, element, layout),
                              isOutput});
  }

  /// Checks `args` for a launch on device 0.
  std::string check() {
    return messageOf(checkArguments(signature, /*alignedRows=*/true, shapes,
                                    args, 0, fakeQuery));
  }

  DeviceTensor &arg(llvm::StringRef name) { return args[signature.find(name)]; }

  MLIRContext context;
  KernelSignature signature;
  SmallVector<SmallVector<int64_t>> shapes;
  SmallVector<DeviceTensor> args;
};

TEST_F(CheckArgumentsTest, DescribesTheSignature) {
  auto specs = unwrap(describeArguments(signature, /*alignedRows=*/true));
  ASSERT_EQ(specs.size(), 6u);
  EXPECT_EQ(specs[0].name, "query");
  EXPECT_EQ(specs[0].type, ElementType::BF16);
  EXPECT_FALSE(specs[0].isOutput);
  EXPECT_TRUE(specs[0].vectorized);
  EXPECT_EQ(specs[3].name, "capture0");
  EXPECT_EQ(specs[3].type, ElementType::F32);
  EXPECT_FALSE(specs[3].vectorized);
  EXPECT_TRUE(specs[4].isOutput);
  EXPECT_TRUE(specs[4].vectorized);
  EXPECT_TRUE(specs[5].isOutput);
  EXPECT_FALSE(specs[5].vectorized);

  // A kernel that reads rows element by element (SIMT) needs no alignment
  // of its rows: head dims such as 100 in bf16 give 200-byte rows.
  for (const ArgumentSpec &spec :
       unwrap(describeArguments(signature, /*alignedRows=*/false)))
    EXPECT_FALSE(spec.vectorized) << spec.name;
}

TEST_F(CheckArgumentsTest, ElementTypeWithoutRuntimeEquivalent) {
  signature.args[3].type =
      MemRefType::get({ShapedType::kDynamic}, IntegerType::get(&context, 16),
                      StridedLayoutAttr::get(&context, ShapedType::kDynamic,
                                             {ShapedType::kDynamic}));
  EXPECT_EQ(check(), "capture0: element type i16 has no runtime equivalent");
}

TEST_F(CheckArgumentsTest, AcceptsValidArguments) {
  EXPECT_EQ(check(), "success");
}

TEST_F(CheckArgumentsTest, ArgumentCount) {
  args.pop_back();
  EXPECT_EQ(check(), "the kernel takes 6 arguments (query, key, value, "
                     "capture0, output, lse), 5 were given");
}

TEST_F(CheckArgumentsTest, ShapeCount) {
  shapes.pop_back();
  EXPECT_EQ(check(),
            "5 expected shapes were given for the kernel's 6 arguments");
}

TEST_F(CheckArgumentsTest, StrideCount) {
  arg("key").strides.pop_back();
  EXPECT_EQ(check(), "key: 3 strides for 4 dimensions");
}

TEST_F(CheckArgumentsTest, ElementType) {
  arg("key").type = ElementType::F16;
  EXPECT_EQ(check(), "key: dtype is f16, the kernel needs bf16");
}

TEST_F(CheckArgumentsTest, Shape) {
  arg("key").shape[2] = 100;
  EXPECT_EQ(check(),
            "key: shape is [2, 4, 100, 64], the kernel needs [2, 4, 128, 64]");
  arg("key").shape.pop_back();
  arg("key").strides.pop_back();
  EXPECT_EQ(check(),
            "key: shape is [2, 4, 100], the kernel needs [2, 4, 128, 64]");
}

TEST_F(CheckArgumentsTest, NegativeStride) {
  arg("value").strides[2] = -64;
  EXPECT_EQ(check(), "value: stride -64 of dimension 2 is negative; the kernel "
                     "needs non-negative strides");
}

TEST_F(CheckArgumentsTest, InnermostStride) {
  arg("query").strides = {2 * 4 * 100 * 64, 2 * 100 * 64, 2 * 64, 2};
  EXPECT_EQ(check(), "query: innermost stride is 2, the kernel needs 1 (it "
                     "reads whole rows with vector accesses)");
}

TEST_F(CheckArgumentsTest, InnermostStrideOfScalarAccessesIsFree) {
  // capture0 is read element by element; lse's rows are not vectorized.
  arg("capture0").strides = {3};
  arg("lse").strides = {1, 2, 8};
  EXPECT_EQ(check(), "success");
}

TEST_F(CheckArgumentsTest, StridesBeyondTheAddressSpace) {
  arg("key").strides[0] = int64_t(1) << 62;
  EXPECT_EQ(check(), "key: its strides reach beyond the address space");
  arg("key").strides[0] = int64_t(1) << 61;
  arg("key").pointer = ~uint64_t(0) - 0xffff;
  EXPECT_EQ(check(), "key: its strides reach beyond the address space");
}

TEST_F(CheckArgumentsTest, ElementOffsetsBeyondThirtyTwoBits) {
  // The kernels index with 32-bit arithmetic: 15 * 2^28 elements is too far.
  arg("capture0").strides = {int64_t(1) << 28};
  EXPECT_EQ(check(), "capture0: its last element is at offset 4026531840; "
                     "kernels index with 32 bits and reach at most "
                     "2147483647 elements (split the batch)");
  arg("capture0").strides = {1};
  EXPECT_EQ(check(), "success");
}

TEST_F(CheckArgumentsTest, NegativeSize) {
  // The expected shapes come from the caller too: a negative size would
  // make the reach below negative.
  shapes[3] = {-16};
  arg("capture0").shape = {-16};
  EXPECT_EQ(check(), "capture0: size -16 of dimension 0 is negative");
}

TEST(CheckElementOffsetsTest, DenseShapes) {
  EXPECT_FALSE(static_cast<bool>(checkElementOffsets("query", {2, 4, 0, 64})));
  EXPECT_FALSE(static_cast<bool>(
      checkElementOffsets("query", {1, 1, int64_t(1) << 25, 64})));
  EXPECT_EQ(messageOf(checkElementOffsets("query",
                                          {1, 1, (int64_t(1) << 25) + 1, 64})),
            "query: shape [1, 1, 33554433, 64] has 2147483712 elements; "
            "kernels index with 32 bits and reach at most 2147483647 elements "
            "(split the batch)");
  EXPECT_EQ(messageOf(checkElementOffsets("key", {1, -2})),
            "key: shape [1, -2] has negative size -2 in dim 1");
  EXPECT_EQ(messageOf(checkElementOffsets(
                "value", {int64_t(1) << 40, int64_t(1) << 40})),
            "value: shape [1099511627776, 1099511627776] has more elements "
            "than a 64-bit count holds");
}

TEST(CheckSequenceLengthsTest, AtMostTwoToTheThirty) {
  // 2^30 tokens is the longest sequence GPU kernels take: beyond it, a
  // mask's 32-bit position i + (Nk - Nq) + offset could wrap.
  int64_t longest = int64_t(1) << 30;
  EXPECT_FALSE(static_cast<bool>(checkSequenceLengths(longest, longest)));
  EXPECT_FALSE(static_cast<bool>(checkSequenceLengths(0, 1)));
  EXPECT_EQ(messageOf(checkSequenceLengths(longest + 1, 1)),
            "a query length of 1073741825 tokens; GPU kernels take at most "
            "1073741824 (2^30), within which masks compute in 32 bits");
  EXPECT_EQ(messageOf(checkSequenceLengths(1, int64_t(1) << 31)),
            "a key length of 2147483648 tokens; GPU kernels take at most "
            "1073741824 (2^30), within which masks compute in 32 bits");
}

TEST_F(CheckArgumentsTest, ElementAlignment) {
  arg("capture0").pointer += 2;
  EXPECT_EQ(check(), "capture0: pointer 0x10059002 is not aligned to its "
                     "4-byte elements");
}

TEST_F(CheckArgumentsTest, VectorAlignmentOfThePointer) {
  arg("query").pointer += 8;
  EXPECT_EQ(check(), "query: pointer 0x10000008 is not 16-byte aligned, which "
                     "the kernel's vector accesses need");
}

TEST_F(CheckArgumentsTest, VectorAlignmentOfOuterStrides) {
  // Rows padded to 68 elements (136 bytes) do not all start 16-byte aligned.
  arg("query").strides = {4 * 100 * 68, 100 * 68, 68, 1};
  EXPECT_EQ(check(), "query: stride 68 of dimension 2 is 136 bytes, not a "
                     "multiple of the 16 that the kernel's vector accesses "
                     "need");
  // Padded to 72 elements (144 bytes) they do.
  arg("query").strides = {4 * 100 * 72, 100 * 72, 72, 1};
  EXPECT_EQ(check(), "success");
}

TEST_F(CheckArgumentsTest, StridesOfUnitDimensionsAreFree) {
  ArgumentSpec spec{"query", ElementType::BF16, /*isOutput=*/false,
                    /*vectorized=*/true};
  DeviceTensor tensor = contiguous(kDevice0, ElementType::BF16, {1, 3, 1});
  // Neither the odd outer stride nor the inner one of a size-1 dimension is
  // ever multiplied by a nonzero index.
  tensor.strides = {7, 8, 5};
  SmallVector<SmallVector<int64_t>> shapes = {{1, 3, 1}};
  EXPECT_EQ(messageOf(checkArguments(llvm::ArrayRef(spec), shapes,
                                     llvm::ArrayRef(tensor), 0, fakeQuery)),
            "success");
}

TEST_F(CheckArgumentsTest, TensorOnAnotherDevice) {
  arg("key").device = 1;
  EXPECT_EQ(check(), "key: tensor is on device 1, the kernel runs on device 0");
}

TEST_F(CheckArgumentsTest, PointerQueryFails) {
  arg("key").pointer = kBroken;
  EXPECT_EQ(check(), "key: the driver fell over");
}

TEST_F(CheckArgumentsTest, PageLockedHostMemory) {
  arg("value").pointer = kPinnedHost;
  EXPECT_EQ(check(), "value: pointer 0x30000000 is page-locked host memory, "
                     "not device memory");
}

TEST_F(CheckArgumentsTest, MemoryUnknownToTheDriver) {
  arg("value").pointer = 0x40000000;
  EXPECT_EQ(check(), "value: pointer 0x40000000 is not device memory (CUDA "
                     "does not know it: pageable host memory, or no "
                     "allocation)");
}

TEST_F(CheckArgumentsTest, MemoryOfAnotherDevice) {
  arg("value").pointer = kDevice1;
  EXPECT_EQ(check(), "value: pointer 0x20000000 is memory of device 1, the "
                     "kernel runs on device 0");
}

TEST_F(CheckArgumentsTest, OutputElementsSharingMemory) {
  // Every head writes the same rows.
  arg("output").strides[1] = 0;
  EXPECT_EQ(check(), "output: strides [25600, 0, 64, 1] for shape [2, 4, 100, "
                     "64] make elements share memory; an output needs one "
                     "location per element");
  // Two row indices meet: rows of stride 32 overlap by half.
  arg("output").strides = {4 * 100 * 32 + 32, 100 * 32 + 32, 32, 1};
  EXPECT_EQ(check(), "output: strides [12832, 3232, 32, 1] for shape [2, 4, "
                     "100, 64] make elements share memory; an output needs "
                     "one location per element");
}

TEST_F(CheckArgumentsTest, InputsMayShareMemory) {
  // A key broadcast over heads (MQA through expand) reads one head's rows.
  arg("key").strides[1] = 0;
  // Transposed but dense outputs are fine.
  arg("lse").strides = {4, 1, 2 * 4};
  EXPECT_EQ(check(), "success");
}

TEST_F(CheckArgumentsTest, OutputOverlappingAnInput) {
  arg("output").pointer = arg("key").pointer + 0x1000;
  EXPECT_EQ(check(), "output: its bytes [0x1001a000, 0x10032fff] overlap those "
                     "of key [0x10019000, 0x10038fff]; an output must not "
                     "share memory with an input or another output");
}

TEST_F(CheckArgumentsTest, OutputOverlappingAnotherOutput) {
  arg("lse").pointer = arg("output").pointer + 0x10;
  EXPECT_EQ(check(), "output: its bytes [0x10059100, 0x100720ff] overlap those "
                     "of lse [0x10059110, 0x10059d8f]; an output must not "
                     "share memory with an input or another output");
}

TEST_F(CheckArgumentsTest, EmptyTensorsAreNotDereferenced) {
  // Nq = 0: PyTorch hands empty tensors with a null pointer.
  for (llvm::StringRef name : {"query", "output", "lse"}) {
    arg(name).shape[2] = 0;
    arg(name).pointer = 0;
    shapes[signature.find(name)][2] = 0;
  }
  EXPECT_EQ(check(), "success");
}

//===----------------------------------------------------------------------===//
// Kernel parameters
//===----------------------------------------------------------------------===//

TEST(KernelParamsTest, MemRefLayout) {
  DeviceTensor tensor = contiguous(0x7f0000001000, ElementType::F16, {2, 3, 5});
  tensor.strides[0] = 32;
  EXPECT_EQ(packMemRefParams(tensor),
            (SmallVector<int64_t>{0x7f0000001000, 0x7f0000001000, 0, 2, 3, 5,
                                  32, 5, 1}));
  DeviceTensor scalar = contiguous(0x2000, ElementType::F32, {});
  EXPECT_EQ(packMemRefParams(scalar),
            (SmallVector<int64_t>{0x2000, 0x2000, 0}));
}

TEST(KernelParamsTest, OnePointerPerParameter) {
  DeviceTensor x = contiguous(0x1000, ElementType::F32, {7});
  DeviceTensor y = contiguous(0x2000, ElementType::F32, {4, 2});
  KernelParams params({x, y});
  SmallVector<int64_t> expected = {0x1000, 0x1000, 0, 7, 1, 0x2000,
                                   0x2000, 0,      4, 2, 2, 1};
  EXPECT_EQ(params.getWords(), llvm::ArrayRef<int64_t>(expected));
  for (auto [index, value] : llvm::enumerate(expected)) {
    EXPECT_EQ(params.data()[index], &params.getWords()[index]);
    EXPECT_EQ(*static_cast<int64_t *>(params.data()[index]), value);
  }
}

//===----------------------------------------------------------------------===//
// Launch geometry
//===----------------------------------------------------------------------===//

KernelManifestLaunch flashLaunch() {
  KernelManifestLaunch launch;
  launch.blockQueries = 128;
  launch.heads = 16;
  launch.threads = 256;
  launch.sharedBytes = 96 * 1024;
  return launch;
}

TEST(ComputeGridTest, QueryBlocksRoundUp) {
  LaunchGeometry geometry = unwrap(computeGrid(flashLaunch(), 3, 1000));
  EXPECT_EQ(geometry.grid[0], 8u); // ceil(1000 / 128)
  EXPECT_EQ(geometry.grid[1], 16u);
  EXPECT_EQ(geometry.grid[2], 3u);
  EXPECT_EQ(geometry.block[0], 256u);
  EXPECT_EQ(geometry.block[1], 1u);
  EXPECT_EQ(geometry.block[2], 1u);
  EXPECT_EQ(geometry.sharedBytes, 96u * 1024);
  EXPECT_FALSE(geometry.empty());

  EXPECT_EQ(unwrap(computeGrid(flashLaunch(), 3, 1024)).grid[0], 8u);
  EXPECT_EQ(unwrap(computeGrid(flashLaunch(), 3, 1025)).grid[0], 9u);
  EXPECT_EQ(unwrap(computeGrid(flashLaunch(), 3, 1)).grid[0], 1u);
}

TEST(ComputeGridTest, NothingToLaunch) {
  EXPECT_TRUE(unwrap(computeGrid(flashLaunch(), 3, 0)).empty());
  EXPECT_TRUE(unwrap(computeGrid(flashLaunch(), 0, 100)).empty());
}

TEST(ComputeGridTest, HeadsBatch) {
  KernelManifestLaunch launch = flashLaunch();
  launch.order = KernelManifestLaunch::GridOrder::HeadsBatch;
  launch.blockQueries = 0; // unused by this order
  // A recurrent kernel runs even without queries: it writes the final state.
  LaunchGeometry geometry = unwrap(computeGrid(launch, 5, 0));
  EXPECT_EQ(geometry.grid[0], 16u);
  EXPECT_EQ(geometry.grid[1], 5u);
  EXPECT_EQ(geometry.grid[2], 1u);
  EXPECT_FALSE(geometry.empty());
  // Value-column splits (the tensor-core chunk kernel) run along z.
  launch.valueSplits = 4;
  geometry = unwrap(computeGrid(launch, 5, 100));
  EXPECT_EQ(geometry.grid[0], 16u);
  EXPECT_EQ(geometry.grid[1], 5u);
  EXPECT_EQ(geometry.grid[2], 4u);
}

/// The tensor-core linear kernel with a chunk-parallel form at H = 16,
/// F = Dv = 128: two value splits, chunks of 64.
static KernelManifestLaunch segmentedLinearLaunch() {
  KernelManifestLaunch launch = flashLaunch();
  launch.order = KernelManifestLaunch::GridOrder::HeadsBatch;
  launch.valueSplits = 2;
  launch.segmentWords = 128 * 128;
  launch.chunk = 64;
  return launch;
}

TEST(ComputeGridTest, ChunkSegments) {
  // The chunk-parallel form cuts a sequence into segments when the
  // (sequence, head, split) blocks are fewer than 256.
  KernelManifestLaunch launch = segmentedLinearLaunch();
  // 8 sequences: 256 blocks already, one segment, no workspace.
  EXPECT_EQ(getLaunchSegments(launch, 8, 8192), 1);
  EXPECT_EQ(unwrap(computeGrid(launch, 8, 8192)).grid[2], 2u);
  EXPECT_EQ(getLaunchWorkspaceWords(launch, 0, 8, 8192), 0);
  // 2 sequences of 32K: 64 blocks, 4 segments (512 chunks, 128 each); the
  // grid has boundary blocks for the first 3 and output blocks for all 4.
  EXPECT_EQ(getLaunchSegments(launch, 2, 32768), 4);
  LaunchGeometry geometry = unwrap(computeGrid(launch, 2, 32768));
  EXPECT_EQ(geometry.grid[0], 16u);
  EXPECT_EQ(geometry.grid[1], 2u);
  EXPECT_EQ(geometry.grid[2], 2u * 7);
  // 3 boundaries of 128 x 128 words and a flag per (split, boundary).
  EXPECT_EQ(getLaunchWorkspaceWords(launch, 0, 2, 32768), 3 * (128 * 128 + 2));
  // Only the flags start at zero: the 6 words after the boundaries.
  EXPECT_EQ(getLaunchWorkspaceFlags(launch, 2, 32768),
            std::make_pair(int64_t(3 * 128 * 128), int64_t(3 * 128 * 128 + 6)));
  EXPECT_EQ(getLaunchWorkspaceFlags(launch, 8, 8192),
            std::make_pair(int64_t(0), int64_t(0)));
  // A segment takes 8 chunks or more: 1000 tokens (16 chunks) make 2
  // segments however few the blocks, 511 tokens (8 chunks) one.
  EXPECT_EQ(getLaunchSegments(launch, 1, 1000), 2);
  EXPECT_EQ(getLaunchSegments(launch, 1, 511), 1);
  EXPECT_EQ(getLaunchSegments(launch, 1, 0), 1);
  // A kernel without a chunk-parallel form keeps its grid and workspace.
  launch.segmentWords = 0;
  EXPECT_EQ(getLaunchSegments(launch, 2, 32768), 1);
  EXPECT_EQ(unwrap(computeGrid(launch, 2, 32768)).grid[2], 2u);
  EXPECT_EQ(getLaunchWorkspaceWords(launch, 77, 2, 32768), 77);
}

TEST(ComputeGridTest, DeltaChunkSegments) {
  // The delta rule's form (transform, chain and output blocks): two chain
  // blocks per 64-column split, transform blocks of 8 chunks.
  KernelManifestLaunch launch = segmentedLinearLaunch();
  launch.transformGroupChunks = 8;
  launch.chainsPerSplit = 2;
  // W [64, 128] and U [64, 128] per chunk, two 16-bit elements a word.
  launch.transformWords = 64 * (128 + 128) / 2;
  // 8 sequences: 256 blocks, one segment: only output blocks, no
  // workspace.
  EXPECT_EQ(getLaunchSegments(launch, 8, 8192), 1);
  EXPECT_EQ(unwrap(computeGrid(launch, 8, 8192)).grid[2], 2u);
  EXPECT_EQ(getLaunchWorkspaceWords(launch, 0, 8, 8192), 0);
  // 2 sequences of 32K: 64 blocks, 8 segments (about 512 output blocks);
  // 512 chunks make 64 transform blocks, then 4 chain and 16 output
  // blocks.
  EXPECT_EQ(getLaunchSegments(launch, 2, 32768), 8);
  EXPECT_EQ(unwrap(computeGrid(launch, 2, 32768)).grid[2], 64u + 4 + 16);
  // 7 boundaries, a flag per (chain block, boundary), a flag per transform
  // block, rounded up to 4 words, then the transforms of each chunk.
  int64_t header = 7 * (128 * 128 + 4) + 64;
  EXPECT_EQ(getLaunchWorkspaceWords(launch, 0, 2, 32768),
            (header + 3) / 4 * 4 + 512 * 64 * 128);
  // The flags to zero: the chain blocks' and the transform blocks', not
  // the padding or the transforms.
  EXPECT_EQ(getLaunchWorkspaceFlags(launch, 2, 32768),
            std::make_pair(int64_t(7 * 128 * 128), int64_t(header)));
  // 1000 tokens: 16 chunks, 2 segments, 2 transform blocks.
  EXPECT_EQ(getLaunchSegments(launch, 1, 1000), 2);
  EXPECT_EQ(unwrap(computeGrid(launch, 1, 1000)).grid[2], 2u + 4 + 4);
  // Where the transforms' 16-bit elements would pass 32-bit offsets, one
  // segment.
  EXPECT_EQ(getLaunchSegments(launch, 1, 1 << 22), 1);
  EXPECT_EQ(unwrap(computeGrid(launch, 1, 1 << 22)).grid[2], 2u);
  EXPECT_EQ(getLaunchWorkspaceWords(launch, 0, 1, 1 << 22), 0);
  EXPECT_EQ(getLaunchWorkspaceFlags(launch, 1, 1 << 22),
            std::make_pair(int64_t(0), int64_t(0)));
}

TEST(ComputeGridTest, InvalidManifestsAndSizes) {
  KernelManifestLaunch launch = flashLaunch();
  launch.blockQueries = 0;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 1)),
            "kernel manifest: blocks of 0 queries; a block needs at least one");
  launch = flashLaunch();
  launch.heads = 0;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 1)),
            "kernel manifest: 0 heads; there must be at least one");
  launch = flashLaunch();
  launch.threads = 2048;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 1)),
            "kernel manifest: 2048 threads per block; CUDA allows 1 to 1024");
  launch.threads = 0;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 1)),
            "kernel manifest: 0 threads per block; CUDA allows 1 to 1024");
  launch = flashLaunch();
  launch.sharedBytes = -1;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 1)),
            "kernel manifest: -1 bytes of shared memory is out of range");
  EXPECT_EQ(errorOf(computeGrid(flashLaunch(), -1, 5)),
            "batch -1 and query length 5 must not be negative");
  EXPECT_EQ(errorOf(computeGrid(flashLaunch(), 70000, 5)),
            "the grid would have 70000 blocks along z (batch), more than "
            "CUDA's 65535");
  launch = flashLaunch();
  launch.order = KernelManifestLaunch::GridOrder::HeadsBatch;
  EXPECT_EQ(errorOf(computeGrid(launch, 70000, 5)),
            "the grid would have 70000 blocks along y (batch), more than "
            "CUDA's 65535");
  launch.valueSplits = 0;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 5)),
            "kernel manifest: 0 value splits; a kernel needs at least one");
  launch.valueSplits = 70000;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, 5)),
            "the grid would have 70000 blocks along z (value splits), more "
            "than CUDA's 65535");
  launch.valueSplits = 1;
  launch.order = KernelManifestLaunch::GridOrder::QueryBlocksHeadsBatch;
  launch.blockQueries = 1;
  EXPECT_EQ(errorOf(computeGrid(launch, 1, int64_t(1) << 31)),
            "the grid would have 2147483648 blocks along x (query blocks), "
            "more than CUDA's 2147483647");
}

//===----------------------------------------------------------------------===//
// Kernel cache
//===----------------------------------------------------------------------===//

/// A loader that hands out fake modules and functions and counts calls.
struct FakeLoader {
  std::atomic<int> loads{0};
  std::atomic<int> failuresLeft{0};
  std::mutex mutex;
  std::vector<std::string> loadedPtx;
  std::vector<CUmodule> unloaded;

  KernelCache::Loader loader() {
    return [this](llvm::StringRef ptx, const KernelKey &key)
               -> llvm::Expected<KernelCache::LoadedKernel> {
      if (failuresLeft > 0) {
        --failuresLeft;
        return llvm::createStringError("cannot load kernel '" + key.entry +
                                       "'");
      }
      int index = ++loads;
      std::lock_guard<std::mutex> lock(mutex);
      loadedPtx.push_back(ptx.str());
      return KernelCache::LoadedKernel{
          reinterpret_cast<CUmodule>(uintptr_t(0x1000 * index)),
          reinterpret_cast<CUfunction>(uintptr_t(0x1000 * index + 1))};
    };
  }
  KernelCache::Unloader unloader() {
    return [this](CUmodule module) {
      std::lock_guard<std::mutex> lock(mutex);
      unloaded.push_back(module);
    };
  }
};

KernelKey key(std::string spec, std::string options = "block=128",
              std::string chip = "sm_90a", std::string entry = "main_0") {
  return {std::move(spec), std::move(options), std::move(chip),
          std::move(entry)};
}

TEST(KernelCacheTest, KeyText) {
  EXPECT_EQ(key("ab", "c", "sm_80", "k").str(), "2:ab;1:c;5:sm_80;1:k;");
  EXPECT_NE(key("ab", "c").str(), key("a", "bc").str());
  EXPECT_NE(key("a;1:b").str(), key("a", "1:b;").str());
}

TEST(KernelCacheTest, Fingerprint) {
  EXPECT_EQ(fingerprintSpec("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(fingerprintSpec("func.func @f()"),
            fingerprintSpec("func.func @g()"));
}

TEST(KernelCacheTest, ProducesAndLoadsOnce) {
  FakeLoader fakeLoader;
  KernelCache cache(fakeLoader.loader(), fakeLoader.unloader());
  int produced = 0;
  auto produce = [&]() -> llvm::Expected<std::string> {
    ++produced;
    return std::string(".version 8.0");
  };
  CUfunction first = unwrap(cache.lookupOrLoad(key("spec"), produce));
  CUfunction second = unwrap(cache.lookupOrLoad(key("spec"), produce));
  EXPECT_EQ(first, second);
  EXPECT_EQ(produced, 1);
  EXPECT_EQ(fakeLoader.loads, 1);
  EXPECT_EQ(fakeLoader.loadedPtx, std::vector<std::string>{".version 8.0"});
}

TEST(KernelCacheTest, EveryFieldDistinguishesKernels) {
  FakeLoader fakeLoader;
  KernelCache cache(fakeLoader.loader(), fakeLoader.unloader());
  int produced = 0;
  auto produce = [&]() -> llvm::Expected<std::string> {
    return "ptx" + std::to_string(++produced);
  };
  std::vector<KernelKey> keys = {key("s"),
                                 key("t"),
                                 key("s", "block=64"),
                                 key("s", "block=128", "sm_80"),
                                 key("s", "block=128", "sm_90a", "main_1"),
                                 key("ab", "c"),
                                 key("a", "bc")};
  std::set<CUfunction> functions;
  for (const KernelKey &k : keys)
    functions.insert(unwrap(cache.lookupOrLoad(k, produce)));
  EXPECT_EQ(functions.size(), keys.size());
  EXPECT_EQ(produced, static_cast<int>(keys.size()));
  // Looking them up again loads nothing.
  for (const KernelKey &k : keys)
    EXPECT_TRUE(functions.count(unwrap(cache.lookupOrLoad(k, produce))));
  EXPECT_EQ(produced, static_cast<int>(keys.size()));
}

TEST(KernelCacheTest, FailuresAreNotCached) {
  FakeLoader fakeLoader;
  KernelCache cache(fakeLoader.loader(), fakeLoader.unloader());
  int produced = 0;
  bool compilerFails = true;
  auto produce = [&]() -> llvm::Expected<std::string> {
    ++produced;
    if (compilerFails)
      return llvm::createStringError("spec.mlir:3:5: error: bad mask");
    return std::string("ptx");
  };
  EXPECT_EQ(errorOf(cache.lookupOrLoad(key("s"), produce)),
            "spec.mlir:3:5: error: bad mask");
  compilerFails = false;
  fakeLoader.failuresLeft = 1;
  EXPECT_EQ(errorOf(cache.lookupOrLoad(key("s"), produce)),
            "cannot load kernel 'main_0'");
  EXPECT_TRUE(static_cast<bool>(unwrap(cache.lookupOrLoad(key("s"), produce))));
  EXPECT_EQ(produced, 3);
  EXPECT_EQ(fakeLoader.loads, 1);
}

TEST(KernelCacheTest, ConcurrentLookupsProduceOnce) {
  FakeLoader fakeLoader;
  KernelCache cache(fakeLoader.loader(), fakeLoader.unloader());
  std::atomic<int> produced{0};
  auto produce = [&]() -> llvm::Expected<std::string> {
    ++produced;
    // Long enough that the other threads arrive while this one compiles.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return std::string("ptx");
  };
  constexpr int kThreads = 8;
  CUfunction results[kThreads] = {};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      llvm::Expected<CUfunction> function =
          cache.lookupOrLoad(key(i % 2 ? "odd" : "even"), produce);
      results[i] = function ? *function : nullptr;
      llvm::consumeError(function.takeError());
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(produced, 2);
  EXPECT_EQ(fakeLoader.loads, 2);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_NE(results[i], nullptr);
    EXPECT_EQ(results[i], results[i % 2]);
  }
  EXPECT_NE(results[0], results[1]);
}

TEST(KernelCacheTest, DestructorUnloadsEveryModule) {
  FakeLoader fakeLoader;
  {
    KernelCache cache(fakeLoader.loader(), fakeLoader.unloader());
    auto produce = []() -> llvm::Expected<std::string> {
      return std::string("ptx");
    };
    for (const char *spec : {"a", "b", "a"})
      EXPECT_TRUE(
          static_cast<bool>(unwrap(cache.lookupOrLoad(key(spec), produce))));
    EXPECT_TRUE(fakeLoader.unloaded.empty());
  }
  std::sort(fakeLoader.unloaded.begin(), fakeLoader.unloaded.end());
  EXPECT_EQ(fakeLoader.unloaded,
            (std::vector<CUmodule>{reinterpret_cast<CUmodule>(0x1000),
                                   reinterpret_cast<CUmodule>(0x2000)}));
}

//===----------------------------------------------------------------------===//
// The driver, through fake entry points
//===----------------------------------------------------------------------===//

/// What the fake driver was told and will answer. One test at a time uses
/// it (gtest runs tests sequentially), and the fixture resets it.
struct FakeCuda {
  CUresult initResult = CUDA_SUCCESS;
  CUcontext current = nullptr;
  std::vector<CUdevice> retained, released;
  // Module loading.
  CUresult loadResult = CUDA_SUCCESS;
  std::string jitLog;
  std::string loadedImage;
  // Function attributes and launches.
  int maxThreads = 256;
  int maxDynamicShared = 48 * 1024;
  int staticShared = 1024;
  int optInShared = 227 * 1024;
  std::vector<int> setDynamicShared;
  /// Preferred shared-memory carveouts set, in order.
  std::vector<int> setCarveout;
  struct Launch {
    unsigned grid[3], block[3], shared;
    std::vector<int64_t> params;
  };
  std::vector<Launch> launches;
  /// Parameters per launch, to read the launched words back.
  size_t paramsPerLaunch = 0;
};
FakeCuda fake;

const std::map<CUresult, std::pair<const char *, const char *>> kErrors = {
    {0, {"CUDA_SUCCESS", "no error"}},
    {1, {"CUDA_ERROR_INVALID_VALUE", "invalid argument"}},
    {100, {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"}},
    {218, {"CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"}},
};

CUcontext contextOf(CUdevice device) {
  return reinterpret_cast<CUcontext>(uintptr_t(0x100 + device));
}

/// Entry points that act on `fake`.
CudaEntryPoints fakeEntryPoints() {
  CudaEntryPoints api;
  api.cuInit = [](unsigned) { return fake.initResult; };
  api.cuGetErrorName = [](CUresult error, const char **name) -> CUresult {
    auto it = kErrors.find(error);
    if (it == kErrors.end())
      return CUDA_ERROR_INVALID_VALUE;
    *name = it->second.first;
    return CUDA_SUCCESS;
  };
  api.cuGetErrorString = [](CUresult error, const char **text) -> CUresult {
    auto it = kErrors.find(error);
    if (it == kErrors.end())
      return CUDA_ERROR_INVALID_VALUE;
    *text = it->second.second;
    return CUDA_SUCCESS;
  };
  api.cuDeviceGet = [](CUdevice *device, int ordinal) -> CUresult {
    if (ordinal < 0 || ordinal > 1)
      return 101; // CUDA_ERROR_INVALID_DEVICE, unknown to the fake names
    *device = ordinal;
    return CUDA_SUCCESS;
  };
  api.cuDeviceGetAttribute = [](int *value, int attribute,
                                CUdevice) -> CUresult {
    switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
      *value = 9;
      return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
      *value = 0;
      return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
      *value = fake.optInShared;
      return CUDA_SUCCESS;
    }
    return CUDA_ERROR_INVALID_VALUE;
  };
  api.cuDevicePrimaryCtxRetain = [](CUcontext *context,
                                    CUdevice device) -> CUresult {
    fake.retained.push_back(device);
    *context = contextOf(device);
    return CUDA_SUCCESS;
  };
  api.cuDevicePrimaryCtxRelease = [](CUdevice device) -> CUresult {
    fake.released.push_back(device);
    return CUDA_SUCCESS;
  };
  api.cuCtxSetCurrent = [](CUcontext context) -> CUresult {
    fake.current = context;
    return CUDA_SUCCESS;
  };
  api.cuCtxGetCurrent = [](CUcontext *context) -> CUresult {
    *context = fake.current;
    return CUDA_SUCCESS;
  };
  api.cuCtxGetDevice = [](CUdevice *device) -> CUresult {
    *device = static_cast<CUdevice>(reinterpret_cast<uintptr_t>(fake.current) -
                                    0x100);
    return CUDA_SUCCESS;
  };
  api.cuModuleLoadDataEx = [](CUmodule *module, const void *image,
                              unsigned numOptions, int *options,
                              void **values) -> CUresult {
    fake.loadedImage = static_cast<const char *>(image);
    if (fake.loadResult != CUDA_SUCCESS) {
      for (unsigned i = 0; i < numOptions; ++i) {
        if (options[i] != CU_JIT_ERROR_LOG_BUFFER)
          continue;
        char *buffer = static_cast<char *>(values[i]);
        std::strcpy(buffer, fake.jitLog.c_str());
        for (unsigned j = 0; j < numOptions; ++j)
          if (options[j] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
            values[j] = reinterpret_cast<void *>(fake.jitLog.size() + 1);
      }
      return fake.loadResult;
    }
    *module = reinterpret_cast<CUmodule>(0x4000);
    return CUDA_SUCCESS;
  };
  api.cuModuleGetFunction = [](CUfunction *function, CUmodule,
                               const char *name) -> CUresult {
    if (std::strcmp(name, "kernel") != 0)
      return 500; // CUDA_ERROR_NOT_FOUND
    *function = reinterpret_cast<CUfunction>(0x5000);
    return CUDA_SUCCESS;
  };
  api.cuModuleUnload = [](CUmodule) -> CUresult { return CUDA_SUCCESS; };
  api.cuFuncGetAttribute = [](int *value, int attribute,
                              CUfunction) -> CUresult {
    switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
      *value = fake.maxThreads;
      return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES:
      *value = fake.staticShared;
      return CUDA_SUCCESS;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
      *value = fake.maxDynamicShared;
      return CUDA_SUCCESS;
    }
    return CUDA_ERROR_INVALID_VALUE;
  };
  api.cuFuncSetAttribute = [](CUfunction, int attribute,
                              int value) -> CUresult {
    if (attribute == CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT) {
      if (value < 0 || value > 100)
        return CUDA_ERROR_INVALID_VALUE;
      fake.setCarveout.push_back(value);
      return CUDA_SUCCESS;
    }
    if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
      return CUDA_ERROR_INVALID_VALUE;
    fake.setDynamicShared.push_back(value);
    fake.maxDynamicShared = value;
    return CUDA_SUCCESS;
  };
  api.cuLaunchKernel = [](CUfunction, unsigned gx, unsigned gy, unsigned gz,
                          unsigned bx, unsigned by, unsigned bz,
                          unsigned shared, CUstream, void **params,
                          void **) -> CUresult {
    FakeCuda::Launch launch{{gx, gy, gz}, {bx, by, bz}, shared, {}};
    for (size_t i = 0; i < fake.paramsPerLaunch; ++i)
      launch.params.push_back(*static_cast<int64_t *>(params[i]));
    fake.launches.push_back(launch);
    return CUDA_SUCCESS;
  };
  api.cuStreamSynchronize = [](CUstream) -> CUresult { return CUDA_SUCCESS; };
  api.cuMemAlloc = [](CUdeviceptr *pointer, size_t bytes) -> CUresult {
    if (bytes == 0)
      return CUDA_ERROR_INVALID_VALUE;
    *pointer = kDevice0;
    return CUDA_SUCCESS;
  };
  api.cuMemFree = [](CUdeviceptr) -> CUresult { return CUDA_SUCCESS; };
  api.cuMemcpyHtoD = [](CUdeviceptr, const void *, size_t) -> CUresult {
    return CUDA_SUCCESS;
  };
  api.cuMemcpyDtoH = [](void *, CUdeviceptr, size_t) -> CUresult {
    return CUDA_SUCCESS;
  };
  api.cuMemsetD8 = [](CUdeviceptr, unsigned char, size_t) -> CUresult {
    return CUDA_SUCCESS;
  };
  api.cuMemsetD2D8 = [](CUdeviceptr, size_t, unsigned char, size_t,
                        size_t) -> CUresult { return CUDA_SUCCESS; };
  api.cuPointerGetAttribute = [](void *value, int attribute,
                                 CUdeviceptr pointer) -> CUresult {
    llvm::Expected<PointerInfo> info = fakeQuery(pointer);
    if (!info) {
      llvm::consumeError(info.takeError());
      return 100;
    }
    if (info->memory == PointerInfo::Memory::Unknown)
      return CUDA_ERROR_INVALID_VALUE;
    if (attribute == CU_POINTER_ATTRIBUTE_MEMORY_TYPE) {
      *static_cast<unsigned *>(value) =
          info->memory == PointerInfo::Memory::Host ? CU_MEMORYTYPE_HOST
                                                    : CU_MEMORYTYPE_DEVICE;
      return CUDA_SUCCESS;
    }
    if (attribute == CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL) {
      *static_cast<int *>(value) = info->device;
      return CUDA_SUCCESS;
    }
    return CUDA_ERROR_INVALID_VALUE;
  };
  return api;
}

class FakeDriverTest : public ::testing::Test {
protected:
  void SetUp() override {
    fake = FakeCuda();
    driver = unwrap(CudaDriver::fromEntryPoints(fakeEntryPoints()));
    ASSERT_TRUE(driver);
  }

  std::unique_ptr<CudaDriver> driver;
  CUfunction kernel = reinterpret_cast<CUfunction>(0x5000);
};

TEST(CudaDriverTest, MissingLibrary) {
  std::string message =
      errorOf(CudaDriver::load("libattn-no-such-driver.so.1"));
  EXPECT_EQ(message.rfind("no CUDA driver: libattn-no-such-driver.so.1 could "
                          "not be loaded: ",
                          0),
            0u)
      << message;
  EXPECT_NE(message.find("cannot open shared object file"), std::string::npos)
      << message;
}

TEST(CudaDriverTest, LibraryWithoutTheEntryPoints) {
  EXPECT_EQ(errorOf(CudaDriver::load("libm.so.6")),
            "no CUDA driver: libm.so.6 has no entry point cuInit (a driver too "
            "old for attn, or not NVIDIA's)");
}

TEST(CudaDriverTest, NoDriverOnThisMachine) {
  llvm::Expected<std::unique_ptr<CudaDriver>> driver = CudaDriver::load();
  if (driver)
    GTEST_SKIP() << "libcuda.so.1 loaded: this machine has a CUDA driver";
  std::string message = llvm::toString(driver.takeError());
  if (message.rfind("cuInit failed", 0) == 0)
    GTEST_SKIP() << "a CUDA driver without a usable GPU: " << message;
  EXPECT_EQ(
      message.rfind("no CUDA driver: libcuda.so.1 could not be loaded: ", 0),
      0u)
      << message;
}

TEST(CudaDriverTest, EveryEntryPointIsRequired) {
  CudaEntryPoints api = fakeEntryPoints();
  api.cuMemsetD8 = nullptr;
  EXPECT_EQ(errorOf(CudaDriver::fromEntryPoints(api)),
            "the CUDA driver's entry point cuMemsetD8_v2 is not set");
}

TEST(CudaDriverTest, InitializationFails) {
  fake = FakeCuda();
  fake.initResult = 100;
  EXPECT_EQ(errorOf(CudaDriver::fromEntryPoints(fakeEntryPoints())),
            "cuInit failed (CUDA_ERROR_NO_DEVICE: no CUDA-capable device is "
            "detected) initializing the CUDA driver");
}

TEST_F(FakeDriverTest, ErrorsNameCallCodeAndAction) {
  EXPECT_EQ(errorOf(driver->allocate(0)),
            "cuMemAlloc_v2 failed (CUDA_ERROR_INVALID_VALUE: invalid "
            "argument) allocating 0 bytes of device memory");
  EXPECT_EQ(messageOf(driver->setDevice(7)),
            "cuDeviceGet failed (CUresult 101, unknown to this driver) "
            "getting device 7");
  EXPECT_EQ(driver->describe(218),
            "CUDA_ERROR_INVALID_PTX: a PTX JIT compilation failed");
}

TEST_F(FakeDriverTest, Contexts) {
  EXPECT_EQ(errorOf(driver->getCurrentDevice()),
            "no CUDA context is current on the calling thread: select a "
            "device first");
  ASSERT_EQ(messageOf(driver->setDevice(1)), "success");
  EXPECT_EQ(unwrap(driver->getCurrentDevice()), 1);
  ASSERT_EQ(messageOf(driver->setDevice(0)), "success");
  ASSERT_EQ(messageOf(driver->setDevice(1)), "success");
  EXPECT_EQ(unwrap(driver->getCurrentDevice()), 1);
  // Each primary context is retained once, and released with the driver.
  EXPECT_EQ(fake.retained, (std::vector<CUdevice>{1, 0}));
  driver.reset();
  EXPECT_EQ(fake.released, (std::vector<CUdevice>{1, 0}));
}

TEST_F(FakeDriverTest, ComputeCapability) {
  ComputeCapability capability = unwrap(driver->getComputeCapability(0));
  EXPECT_EQ(capability.major, 9);
  EXPECT_EQ(capability.minor, 0);
}

TEST_F(FakeDriverTest, PointerKinds) {
  PointerInfo device = unwrap(driver->queryPointer(kDevice1 + 64));
  EXPECT_EQ(device.memory, PointerInfo::Memory::Device);
  EXPECT_EQ(device.device, 1);
  PointerInfo host = unwrap(driver->queryPointer(kPinnedHost));
  EXPECT_EQ(host.memory, PointerInfo::Memory::Host);
  EXPECT_EQ(host.device, -1);
  PointerInfo unknown = unwrap(driver->queryPointer(0x40000000));
  EXPECT_EQ(unknown.memory, PointerInfo::Memory::Unknown);
  EXPECT_EQ(errorOf(driver->queryPointer(kBroken)),
            "cuPointerGetAttribute failed (CUDA_ERROR_NO_DEVICE: no "
            "CUDA-capable device is detected) asking which memory 0x50000000 "
            "is");
}

TEST_F(FakeDriverTest, ModuleLoading) {
  std::string ptx = ".version 8.0\n.target sm_90a\n";
  // The image handed to the driver is NUL-terminated even when the text is
  // a slice of a larger buffer.
  CUmodule module = unwrap(
      driver->loadModule(llvm::StringRef(ptx).drop_back(), "kernel 'kernel'"));
  EXPECT_EQ(fake.loadedImage, ".version 8.0\n.target sm_90a");
  EXPECT_EQ(unwrap(driver->getFunction(module, "kernel")),
            reinterpret_cast<CUfunction>(0x5000));
  EXPECT_EQ(errorOf(driver->getFunction(module, "other")),
            "cuModuleGetFunction failed (CUresult 500, unknown to this driver) "
            "looking up kernel 'other' in its module");

  fake.loadResult = 218;
  fake.jitLog = "ptxas application ptx input, line 3; error   : Unknown "
                "symbol 'y'\n";
  EXPECT_EQ(errorOf(driver->loadModule(ptx, "kernel 'x' for sm_90a")),
            "cuModuleLoadDataEx failed (CUDA_ERROR_INVALID_PTX: a PTX JIT "
            "compilation failed) loading kernel 'x' for sm_90a; the JIT says: "
            "ptxas application ptx input, line 3; error   : Unknown symbol "
            "'y'");
  fake.jitLog = "";
  EXPECT_EQ(errorOf(driver->loadModule(ptx, "kernel 'x' for sm_90a")),
            "cuModuleLoadDataEx failed (CUDA_ERROR_INVALID_PTX: a PTX JIT "
            "compilation failed) loading kernel 'x' for sm_90a");
}

TEST_F(FakeDriverTest, CacheLoadsThroughTheDriver) {
  KernelCache cache(*driver);
  auto produce = []() -> llvm::Expected<std::string> {
    return std::string(".version 8.0");
  };
  EXPECT_EQ(
      unwrap(cache.lookupOrLoad(key("s", "", "sm_90a", "kernel"), produce)),
      reinterpret_cast<CUfunction>(0x5000));
  EXPECT_EQ(
      errorOf(cache.lookupOrLoad(key("s", "", "sm_90a", "missing"), produce)),
      "cuModuleGetFunction failed (CUresult 500, unknown to this driver) "
      "looking up kernel 'missing' in its module");
}

TEST_F(FakeDriverTest, LaunchLimits) {
  LaunchGeometry geometry;
  geometry.grid[0] = 3;
  geometry.block[0] = 512;
  EXPECT_EQ(messageOf(driver->launch(kernel, "k", geometry, nullptr, nullptr)),
            "kernel 'k' is launched with 512 threads per block, more than the "
            "256 it can run (its registers or launch bounds limit it)");
  geometry.block[0] = 128;
  geometry.sharedBytes = 227 * 1024;
  EXPECT_EQ(messageOf(driver->launch(kernel, "k", geometry, nullptr, nullptr)),
            "no CUDA context is current on the calling thread: select a "
            "device first");
  ASSERT_EQ(messageOf(driver->setDevice(0)), "success");
  EXPECT_EQ(messageOf(driver->launch(kernel, "k", geometry, nullptr, nullptr)),
            "kernel 'k' needs 232448 bytes of dynamic shared memory besides "
            "its 1024 static bytes, more than the 232448 bytes a block can "
            "have on device 0");
  EXPECT_TRUE(fake.launches.empty());
  EXPECT_TRUE(fake.setDynamicShared.empty());
}

TEST_F(FakeDriverTest, LaunchRaisesTheSharedMemoryLimit) {
  ASSERT_EQ(messageOf(driver->setDevice(0)), "success");
  LaunchGeometry geometry;
  geometry.grid[0] = 3;
  geometry.grid[1] = 2;
  geometry.block[0] = 128;
  geometry.sharedBytes = 40 * 1024;
  ASSERT_EQ(messageOf(driver->launch(kernel, "k", geometry, nullptr, nullptr)),
            "success");
  EXPECT_TRUE(fake.setDynamicShared.empty());
  geometry.sharedBytes = 100 * 1024;
  ASSERT_EQ(messageOf(driver->launch(kernel, "k", geometry, nullptr, nullptr)),
            "success");
  EXPECT_EQ(fake.setDynamicShared, std::vector<int>{100 * 1024});
  // Past the default 48 KB, the kernel also prefers the largest carveout.
  EXPECT_EQ(fake.setCarveout,
            std::vector<int>{CU_SHAREDMEM_CARVEOUT_MAX_SHARED});
  ASSERT_EQ(fake.launches.size(), 2u);
  EXPECT_EQ(fake.launches[1].grid[0], 3u);
  EXPECT_EQ(fake.launches[1].grid[1], 2u);
  EXPECT_EQ(fake.launches[1].grid[2], 1u);
  EXPECT_EQ(fake.launches[1].block[0], 128u);
  EXPECT_EQ(fake.launches[1].shared, 100u * 1024);
  // An empty grid launches nothing.
  geometry.grid[0] = 0;
  ASSERT_EQ(messageOf(driver->launch(kernel, "k", geometry, nullptr, nullptr)),
            "success");
  EXPECT_EQ(fake.launches.size(), 2u);
}

TEST_F(FakeDriverTest, LaunchCheckedRefusesBadArgumentsBeforeLaunching) {
  ASSERT_EQ(messageOf(driver->setDevice(0)), "success");
  std::vector<ArgumentSpec> specs = {
      {"x", ElementType::F32, /*isOutput=*/false, /*vectorized=*/true},
      {"y", ElementType::F32, /*isOutput=*/true, /*vectorized=*/true}};
  SmallVector<SmallVector<int64_t>> shapes = {{1000}, {1000}};
  SmallVector<DeviceTensor> args = {
      contiguous(kDevice0, ElementType::F32, {1000}),
      contiguous(kDevice0 + 0x1000, ElementType::F32, {1000})};
  LaunchGeometry geometry;
  geometry.grid[0] = 4;
  geometry.block[0] = 256;
  fake.paramsPerLaunch = 10;

  args[1].pointer = kPinnedHost;
  EXPECT_EQ(messageOf(launchChecked(*driver, kernel, "k", specs, shapes, args,
                                    geometry, nullptr)),
            "y: pointer 0x30000000 is page-locked host memory, not device "
            "memory");
  args[1].pointer = kDevice0 + 0x1004;
  EXPECT_EQ(messageOf(launchChecked(*driver, kernel, "k", specs, shapes, args,
                                    geometry, nullptr)),
            "y: pointer 0x10001004 is not 16-byte aligned, which the kernel's "
            "vector accesses need");
  EXPECT_TRUE(fake.launches.empty());

  args[1].pointer = kDevice0 + 0x1000;
  ASSERT_EQ(messageOf(launchChecked(*driver, kernel, "k", specs, shapes, args,
                                    geometry, nullptr)),
            "success");
  ASSERT_EQ(fake.launches.size(), 1u);
  EXPECT_EQ(fake.launches[0].params,
            (std::vector<int64_t>{int64_t(kDevice0), int64_t(kDevice0), 0, 1000,
                                  1, int64_t(kDevice0 + 0x1000),
                                  int64_t(kDevice0 + 0x1000), 0, 1000, 1}));
}

} // namespace
