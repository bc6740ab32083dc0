//===- CudaExecutor.h - Run GPU kernels on host tensors ---------*- C++ -*-===//
//
/// \file
/// Runs a compiled attn GPU kernel on host tensors, the way attn-run and
/// the GPU tests do: copies the inputs to the device, poisons the outputs
/// with NaN, allocates the kernel's workspace, launches through
/// launchChecked (every argument checked first) and copies the outputs back.
/// Callers that hold device tensors (the Python package) launch with
/// launchChecked directly.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CUDAEXECUTOR_H
#define ATTN_RUNTIME_CUDAEXECUTOR_H

#include "attn/Conversion/GPUKernels.h"
#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/HostTensor.h"
#include "attn/Runtime/KernelLauncher.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include <memory>
#include <string>

namespace mlir::attn::runtime {

/// What a launch needs to know of a compiled kernel; the compiler's
/// manifest holds the same.
struct DeviceKernel {
  /// The PTX entry point.
  std::string entry;
  /// The arguments the caller passes, in order (without the workspace).
  llvm::SmallVector<ArgumentSpec> args;
  KernelManifestLaunch launch;
  /// f32 words of workspace per (sequence, head); 0 for none. The
  /// workspace is the kernel's last parameter, [B, heads, words].
  int64_t workspaceWords = 0;
};

/// What the runtime launches for a kernel the GPU lowering built: the
/// arguments a caller passes (all but the workspace) and the launch
/// geometry. Fails for an element type the runtime cannot hold.
llvm::Expected<DeviceKernel> describeDeviceKernel(const GPUKernelInfo &kernel);

class CudaExecutor {
public:
  /// Opens the CUDA driver and makes device `device` current.
  static llvm::Expected<std::unique_ptr<CudaExecutor>> create(int device = 0);
  ~CudaExecutor();

  /// Runs `kernel` (from `ptx`, loaded once per `key`) on `args`, the
  /// kernel's arguments in order: inputs are read, outputs are overwritten
  /// with what the kernel wrote. The batch and query length come from the
  /// first argument, the query [B, H, Nq, D]. The kernel runs `repeats`
  /// times (outputs poisoned with NaN before the first run only); returns
  /// the mean time of one run in milliseconds.
  llvm::Expected<double> run(const KernelKey &key, llvm::StringRef ptx,
                             const DeviceKernel &kernel,
                             llvm::MutableArrayRef<HostTensor> args,
                             int repeats = 1);

  CudaDriver &getDriver() { return *driver; }

private:
  CudaExecutor(std::unique_ptr<CudaDriver> driver);
  std::unique_ptr<CudaDriver> driver;
  std::unique_ptr<KernelCache> cache;
};

} // namespace mlir::attn::runtime

#endif // ATTN_RUNTIME_CUDAEXECUTOR_H
