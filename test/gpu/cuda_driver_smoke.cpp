//===- cuda_driver_smoke.cpp - The GPU runtime on a real GPU --------------===//
//
/// \file
/// A smoke test of attn's CUDA driver runtime on a machine with a GPU. It
/// loads a hand-written PTX kernel, y[i] = a[0] * x[i] + y[i] over rank-1
/// strided memrefs passed as MLIR's lowering expands them, through a
/// KernelCache; allocates, copies, launches it through launchChecked with
/// 64 KiB of dynamic shared memory (above the 48 KiB default, so the
/// driver wrapper must raise the kernel's limit), synchronizes, copies back
/// and compares bit for bit with the host's fmaf. Then it checks that
/// launches with a misaligned pointer, a host pointer, a wrong dtype or too
/// much shared memory are refused before anything runs (the output on the
/// device is unchanged), and that a broken PTX gets the JIT's log in its
/// error.
///
/// `cuda_driver_smoke --print-ptx <target>` prints the kernel for `target`
/// instead, for ptxas. test/gpu/run_driver_smoke.sh builds and runs this.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/KernelLauncher.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;

/// The kernel for `target` (sm_80, sm_90a, ...). Each memref parameter is
/// (allocated, aligned, offset, size, stride); every thread stages its x
/// through the top of the dynamic shared memory, so a launch that did not get
/// all the shared memory it asked for would fault.
static std::string axpyPtx(llvm::StringRef target) {
  return R"(.version 8.0
.target )" +
         target.str() +
         R"(
.address_size 64

.extern .shared .align 16 .b8 attn_smoke_staging[];

.visible .entry attn_smoke_axpy(
    .param .u64 x_allocated, .param .u64 x_aligned, .param .u64 x_offset,
    .param .u64 x_size, .param .u64 x_stride,
    .param .u64 a_allocated, .param .u64 a_aligned, .param .u64 a_offset,
    .param .u64 a_size, .param .u64 a_stride,
    .param .u64 y_allocated, .param .u64 y_aligned, .param .u64 y_offset,
    .param .u64 y_size, .param .u64 y_stride)
{
    .reg .pred %p<2>;
    .reg .b32 %r<8>;
    .reg .b64 %rd<16>;
    .reg .f32 %f<5>;

    // i = ctaid.x * ntid.x + tid.x; in bounds while i < size.
    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mul.wide.u32 %rd1, %r1, %r2;
    cvt.u64.u32 %rd2, %r3;
    add.s64 %rd1, %rd1, %rd2;
    ld.param.u64 %rd3, [y_size];
    setp.lt.s64 %p1, %rd1, %rd3;

    // x[i], or 0 past the end.
    mov.f32 %f1, 0f00000000;
    @!%p1 bra $L_stage;
    ld.param.u64 %rd4, [x_aligned];
    ld.param.u64 %rd5, [x_offset];
    ld.param.u64 %rd6, [x_stride];
    mad.lo.s64 %rd7, %rd1, %rd6, %rd5;
    shl.b64 %rd7, %rd7, 2;
    add.s64 %rd7, %rd4, %rd7;
    cvta.to.global.u64 %rd7, %rd7;
    ld.global.f32 %f1, [%rd7];

$L_stage:
    // Every thread reaches the barrier; only then do the others return.
    mov.u32 %r4, %dynamic_smem_size;
    shl.b32 %r5, %r2, 2;
    sub.u32 %r4, %r4, %r5;
    shl.b32 %r5, %r3, 2;
    add.u32 %r4, %r4, %r5;
    mov.u32 %r6, attn_smoke_staging;
    add.u32 %r4, %r4, %r6;
    st.shared.f32 [%r4], %f1;
    bar.sync 0;
    ld.shared.f32 %f2, [%r4];
    @!%p1 bra $L_done;

    // y[i] = a[0] * x[i] + y[i]
    ld.param.u64 %rd8, [a_aligned];
    ld.param.u64 %rd9, [a_offset];
    shl.b64 %rd9, %rd9, 2;
    add.s64 %rd8, %rd8, %rd9;
    cvta.to.global.u64 %rd8, %rd8;
    ld.global.f32 %f3, [%rd8];
    ld.param.u64 %rd10, [y_aligned];
    ld.param.u64 %rd11, [y_offset];
    ld.param.u64 %rd12, [y_stride];
    mad.lo.s64 %rd13, %rd1, %rd12, %rd11;
    shl.b64 %rd13, %rd13, 2;
    add.s64 %rd13, %rd10, %rd13;
    cvta.to.global.u64 %rd13, %rd13;
    ld.global.f32 %f4, [%rd13];
    fma.rn.f32 %f4, %f3, %f2, %f4;
    st.global.f32 [%rd13], %f4;

$L_done:
    ret;
}
)";
}

namespace {
/// Counts and prints the outcome of each check.
struct Checker {
  int failures = 0;

  void expect(bool condition, llvm::StringRef what) {
    llvm::outs() << (condition ? "PASS " : "FAIL ") << what << "\n";
    failures += !condition;
  }

  /// Expects `error` to be a failure whose message contains `needle`.
  void expectError(llvm::Error error, llvm::StringRef needle,
                   llvm::StringRef what) {
    if (!error) {
      expect(false, (what + " (no error)").str());
      return;
    }
    std::string message = llvm::toString(std::move(error));
    expect(llvm::StringRef(message).contains(needle), what);
    llvm::outs() << "     message: " << message << "\n";
  }

  /// Returns the value of `expected`, or records a failure and returns
  /// std::nullopt.
  template <typename T>
  std::optional<T> take(llvm::Expected<T> expected, llvm::StringRef what) {
    if (expected) {
      expect(true, what);
      return std::move(*expected);
    }
    expect(false, what);
    llvm::outs() << "     error: " << llvm::toString(expected.takeError())
                 << "\n";
    return std::nullopt;
  }

  bool ok(llvm::Error error, llvm::StringRef what) {
    if (!error) {
      expect(true, what);
      return true;
    }
    expect(false, what);
    llvm::outs() << "     error: " << llvm::toString(std::move(error)) << "\n";
    return false;
  }
};
} // namespace

/// The signature of the smoke kernel: x (read as a query would be), the
/// scalar a (a captured table), and y (written as an output).
static KernelSignature smokeSignature(MLIRContext &context) {
  auto memref =
      MemRefType::get({ShapedType::kDynamic}, Float32Type::get(&context),
                      StridedLayoutAttr::get(&context, ShapedType::kDynamic,
                                             {ShapedType::kDynamic}));
  KernelSignature signature;
  signature.args = {{KernelArgRole::Query, "x", memref, false},
                    {KernelArgRole::Capture, "a", memref, false},
                    {KernelArgRole::Output, "y", memref, true}};
  return signature;
}

/// A rank-1 f32 tensor of `size` elements at `pointer` on device 0.
static DeviceTensor deviceVector(uint64_t pointer, int64_t size) {
  DeviceTensor tensor;
  tensor.pointer = pointer;
  tensor.type = ElementType::F32;
  tensor.shape = {size};
  tensor.strides = {1};
  return tensor;
}

static int runSmokeTest() {
  Checker checker;
  std::optional<std::unique_ptr<CudaDriver>> loaded =
      checker.take(CudaDriver::load(), "load libcuda.so.1 and cuInit");
  if (!loaded)
    return 1;
  CudaDriver &driver = **loaded;
  if (!checker.ok(driver.setDevice(0), "make device 0 current"))
    return 1;
  std::optional<ComputeCapability> capability =
      checker.take(driver.getComputeCapability(0), "read compute capability");
  if (!capability)
    return 1;
  llvm::outs() << "     device 0: compute capability " << capability->major
               << "." << capability->minor << "\n";

  MLIRContext context;
  KernelSignature signature = smokeSignature(context);
  std::optional<llvm::SmallVector<ArgumentSpec>> specs =
      checker.take(describeArguments(signature), "describe the signature");
  if (!specs)
    return 1;

  // N is not a multiple of the 256-thread block.
  constexpr int64_t n = 1000;
  std::vector<float> x(n), y(n), expected(n);
  const float a = 2.5f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = 0.5f * float(i) - 17.25f;
    y[i] = 1.0f - 0.125f * float(i);
    expected[i] = std::fmaf(a, x[i], y[i]);
  }
  const size_t bytes = n * sizeof(float);
  std::optional<cuda::CUdeviceptr> dx =
      checker.take(driver.allocate(bytes), "allocate x");
  std::optional<cuda::CUdeviceptr> da =
      checker.take(driver.allocate(sizeof(float)), "allocate a");
  std::optional<cuda::CUdeviceptr> dy =
      checker.take(driver.allocate(bytes + 16), "allocate y");
  if (!dx || !da || !dy)
    return 1;
  checker.ok(driver.copyToDevice(*dx, x.data(), bytes), "copy x to device");
  checker.ok(driver.copyToDevice(*da, &a, sizeof(float)), "copy a to device");
  checker.ok(driver.fill(*dy, 0xff, bytes + 16), "memset y");
  checker.ok(driver.copyToDevice(*dy, y.data(), bytes), "copy y to device");

  std::optional<PointerInfo> info =
      checker.take(driver.queryPointer(*dy), "query a device pointer");
  checker.expect(info && info->memory == PointerInfo::Memory::Device &&
                     info->device == 0,
                 "device pointer is device memory of device 0");
  info = checker.take(driver.queryPointer(reinterpret_cast<uint64_t>(&x[0])),
                      "query a host pointer");
  checker.expect(info && info->memory == PointerInfo::Memory::Unknown,
                 "pageable host pointer is unknown to the driver");

  KernelManifestLaunch manifest;
  manifest.blockQueries = 256;
  manifest.heads = 1;
  manifest.threads = 256;
  manifest.sharedBytes = 64 * 1024;
  std::optional<LaunchGeometry> geometry = checker.take(
      computeGrid(manifest, /*batch=*/1, /*numQueries=*/n), "compute grid");
  if (!geometry)
    return 1;
  checker.expect(geometry->grid[0] == 4, "grid.x = ceil(1000 / 256) = 4");

  llvm::SmallVector<llvm::SmallVector<int64_t>> shapes = {{n}, {1}, {n}};
  llvm::SmallVector<DeviceTensor> args = {
      deviceVector(*dx, n), deviceVector(*da, 1), deviceVector(*dy, n)};
  bool allRight = true;
  for (llvm::StringRef target : {"sm_80", "sm_90a"}) {
    if (target == "sm_90a" &&
        (capability->major != 9 || capability->minor != 0))
      continue;
    llvm::outs() << "---- " << target << "\n";
    KernelCache cache(driver);
    int produced = 0;
    auto produce = [&]() -> llvm::Expected<std::string> {
      ++produced;
      return axpyPtx(target);
    };
    KernelKey key{fingerprintSpec("smoke axpy"), "", target.str(),
                  "attn_smoke_axpy"};
    std::optional<cuda::CUfunction> function =
        checker.take(cache.lookupOrLoad(key, produce), "load " + target.str());
    std::optional<cuda::CUfunction> again =
        checker.take(cache.lookupOrLoad(key, produce), "look up again");
    checker.expect(function && again && *function == *again && produced == 1,
                   "the cache produced and loaded the kernel once");
    if (!function)
      return 1;

    checker.ok(driver.copyToDevice(*dy, y.data(), bytes), "reset y");
    if (!checker.ok(launchChecked(driver, *function, "attn_smoke_axpy", *specs,
                                  shapes, args, *geometry, nullptr),
                    "checked launch with 64 KiB of dynamic shared memory"))
      return 1;
    checker.ok(driver.synchronize(nullptr), "synchronize");
    std::vector<float> result(n);
    checker.ok(driver.copyToHost(result.data(), *dy, bytes), "copy y back");
    bool exact = std::memcmp(result.data(), expected.data(), bytes) == 0;
    checker.expect(exact, "y == fmaf(a, x, y) bit for bit, all 1000");
    if (!exact)
      for (int64_t i = 0; i < n; ++i)
        if (result[i] != expected[i]) {
          llvm::outs() << "     first mismatch at " << i << ": " << result[i]
                       << " != " << expected[i] << "\n";
          break;
        }
    allRight &= exact;
  }

  // Refusals: none of these may launch, so y keeps what the last launch
  // wrote.
  llvm::outs() << "---- refusals\n";
  KernelCache cache(driver);
  std::optional<cuda::CUfunction> function = checker.take(
      cache.lookupOrLoad(
          {"smoke", "", "sm_80", "attn_smoke_axpy"},
          [] { return llvm::Expected<std::string>(axpyPtx("sm_80")); }),
      "load sm_80 for the refusals");
  if (!function)
    return 1;
  auto launchWith = [&](llvm::ArrayRef<DeviceTensor> tensors,
                        const LaunchGeometry &launchGeometry) {
    return launchChecked(driver, *function, "attn_smoke_axpy", *specs, shapes,
                         tensors, launchGeometry, nullptr);
  };
  llvm::SmallVector<DeviceTensor> bad = args;
  bad[2] = deviceVector(*dy + 4, n);
  checker.expectError(launchWith(bad, *geometry), "is not 16-byte aligned",
                      "misaligned output refused");
  bad = args;
  bad[0] = deviceVector(reinterpret_cast<uint64_t>(x.data()), n);
  checker.expectError(launchWith(bad, *geometry), "is not device memory",
                      "host pointer refused");
  bad = args;
  bad[1].type = ElementType::F16;
  checker.expectError(launchWith(bad, *geometry),
                      "a: dtype is f16, the kernel needs f32",
                      "wrong dtype refused");
  bad = args;
  bad[2] = deviceVector(*dx + 64, n);
  checker.expectError(launchWith(bad, *geometry), "overlap those of x",
                      "output overlapping an input refused");
  LaunchGeometry greedy = *geometry;
  greedy.sharedBytes = 1024 * 1024;
  checker.expectError(launchWith(args, greedy), "bytes a block can have",
                      "1 MiB of shared memory refused");
  checker.ok(driver.synchronize(nullptr), "synchronize after the refusals");
  std::vector<float> result(n);
  checker.ok(driver.copyToHost(result.data(), *dy, bytes), "copy y back");
  checker.expect(allRight &&
                     std::memcmp(result.data(), expected.data(), bytes) == 0,
                 "y unchanged: nothing was launched");
  float guard[4];
  checker.ok(driver.copyToHost(guard, *dy + bytes, sizeof(guard)),
             "copy the bytes past y back");
  uint32_t guardBits[4];
  std::memcpy(guardBits, guard, sizeof(guard));
  checker.expect(guardBits[0] == 0xffffffff && guardBits[3] == 0xffffffff,
                 "the 16 bytes past y are untouched");

  checker.expectError(
      driver
          .loadModule(".version 8.0\n.target sm_80\n.address_size 64\n"
                      ".visible .entry broken() { mov.u32 %r1, 1; ret; }\n",
                      "kernel 'broken' for sm_80")
          .takeError(),
      "loading kernel 'broken' for sm_80", "broken PTX gives the JIT's error");

  for (cuda::CUdeviceptr pointer : {*dx, *da, *dy})
    checker.ok(driver.free(pointer), "free");
  llvm::outs() << (checker.failures ? "SMOKE TEST FAILED" : "SMOKE TEST PASSED")
               << " (" << checker.failures << " failures)\n";
  return checker.failures ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && llvm::StringRef(argv[1]) == "--print-ptx") {
    llvm::outs() << axpyPtx(argv[2]);
    return 0;
  }
  if (argc != 1) {
    llvm::errs() << "usage: " << argv[0] << " [--print-ptx <target>]\n";
    return 2;
  }
  return runSmokeTest();
}
