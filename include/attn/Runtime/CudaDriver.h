//===- CudaDriver.h - The CUDA driver API, opened at run time ---*- C++ -*-===//
//
/// \file
/// attn's access to NVIDIA GPUs: the CUDA driver API of `libcuda.so.1`,
/// opened with dlopen when a program asks for it, so that neither building
/// attn nor running it on a machine without a GPU needs the CUDA toolkit, the
/// driver or libcudart. The few driver types and constants attn uses are
/// declared here with the values cuda.h documents, and every entry point is
/// resolved by name (the `_v2` name where cuda.h maps the plain one to it).
/// Every failure is an llvm::Error that names the driver call, the driver's
/// error name and description, and what attn was doing; a machine without
/// the driver gets an error, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CUDADRIVER_H
#define ATTN_RUNTIME_CUDADRIVER_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace mlir::attn::runtime {

/// The driver API's types and constants, spelled as in cuda.h so that they
/// can be looked up there; values from CUDA 13's cuda.h, unchanged since the
/// driver versions that introduced them.
namespace cuda {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

// CUresult values attn reacts to.
constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;

// CUdevice_attribute.
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

// CUpointer_attribute.
constexpr int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
constexpr int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;

// CUmemorytype.
constexpr unsigned CU_MEMORYTYPE_HOST = 1;
constexpr unsigned CU_MEMORYTYPE_DEVICE = 2;

// CUfunction_attribute.
constexpr int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
constexpr int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT = 9;
/// The carveout (percent of the unified L1/shared memory) that gives shared
/// memory the most: CU_SHAREDMEM_CARVEOUT_MAX_SHARED.
constexpr int CU_SHAREDMEM_CARVEOUT_MAX_SHARED = 100;

// CUjit_option.
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
} // namespace cuda

/// The driver entry points attn calls. `CudaDriver::load` resolves them from
/// libcuda; unit tests fill one with fakes to reach every error path without
/// a GPU. Enumerations are passed as `int`, which is how the C ABI passes
/// cuda.h's enums.
struct CudaEntryPoints {
  using CUresult = cuda::CUresult;
  CUresult (*cuInit)(unsigned flags) = nullptr;
  CUresult (*cuGetErrorName)(CUresult error, const char **name) = nullptr;
  CUresult (*cuGetErrorString)(CUresult error,
                               const char **description) = nullptr;
  CUresult (*cuDeviceGet)(cuda::CUdevice *device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   cuda::CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(cuda::CUcontext *context,
                                       cuda::CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(cuda::CUdevice device) = nullptr;
  CUresult (*cuCtxSetCurrent)(cuda::CUcontext context) = nullptr;
  CUresult (*cuCtxGetCurrent)(cuda::CUcontext *context) = nullptr;
  CUresult (*cuCtxGetDevice)(cuda::CUdevice *device) = nullptr;
  CUresult (*cuModuleLoadDataEx)(cuda::CUmodule *module, const void *image,
                                 unsigned numOptions, int *options,
                                 void **optionValues) = nullptr;
  CUresult (*cuModuleGetFunction)(cuda::CUfunction *function,
                                  cuda::CUmodule module,
                                  const char *name) = nullptr;
  CUresult (*cuModuleUnload)(cuda::CUmodule module) = nullptr;
  CUresult (*cuFuncGetAttribute)(int *value, int attribute,
                                 cuda::CUfunction function) = nullptr;
  CUresult (*cuFuncSetAttribute)(cuda::CUfunction function, int attribute,
                                 int value) = nullptr;
  CUresult (*cuLaunchKernel)(cuda::CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, cuda::CUstream stream,
                             void **params, void **extra) = nullptr;
  CUresult (*cuStreamSynchronize)(cuda::CUstream stream) = nullptr;
  CUresult (*cuMemAlloc)(cuda::CUdeviceptr *pointer, size_t bytes) = nullptr;
  CUresult (*cuMemFree)(cuda::CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemcpyHtoD)(cuda::CUdeviceptr destination, const void *source,
                           size_t bytes) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *destination, cuda::CUdeviceptr source,
                           size_t bytes) = nullptr;
  CUresult (*cuMemsetD8)(cuda::CUdeviceptr destination, unsigned char value,
                         size_t bytes) = nullptr;
  CUresult (*cuMemsetD2D8)(cuda::CUdeviceptr destination, size_t pitch,
                           unsigned char value, size_t width,
                           size_t height) = nullptr;
  CUresult (*cuPointerGetAttribute)(void *value, int attribute,
                                    cuda::CUdeviceptr pointer) = nullptr;
};

/// Where a pointer points, as the driver sees it.
struct PointerInfo {
  enum class Memory {
    /// The driver does not know the address: pageable host memory, or no
    /// allocation at all.
    Unknown,
    /// Page-locked host memory (cuMemHostAlloc, cudaHostRegister).
    Host,
    /// Memory of device `device` (cuMemAlloc, PyTorch's allocator).
    Device,
  };
  Memory memory = Memory::Unknown;
  /// The device ordinal for Memory::Device, -1 otherwise.
  int device = -1;
};

/// A device's compute capability: 9.0 for the H100, 8.0 for the A100.
struct ComputeCapability {
  int major = 0, minor = 0;
};

/// How one kernel is launched: grid and block dimensions, and the bytes of
/// dynamic shared memory each block gets.
struct LaunchGeometry {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned sharedBytes = 0;

  /// True when the grid has no block: there is nothing to launch (the
  /// driver would refuse a zero dimension).
  bool empty() const { return grid[0] == 0 || grid[1] == 0 || grid[2] == 0; }
};

/// The CUDA driver, opened at run time. One object serves a whole process;
/// it is not copyable. The library is never closed, since the driver keeps
/// threads and exit handlers of its own.
///
/// The driver's current context is per thread: setDevice makes a device's
/// primary context (the one PyTorch and the CUDA runtime use too) current on
/// the calling thread, and the calls below act in the calling thread's
/// current context. The primary contexts setDevice retained are released
/// when the object is destroyed, so modules loaded through it (a
/// KernelCache) must be unloaded first.
class CudaDriver {
public:
  /// Opens `library`, resolves every entry point and initializes the driver
  /// (cuInit). A missing library fails with "no CUDA driver: <library>
  /// could not be loaded: <dlerror>".
  static llvm::Expected<std::unique_ptr<CudaDriver>>
  load(llvm::StringRef library = "libcuda.so.1");

  /// Wraps entry points resolved elsewhere (unit tests pass fakes) and
  /// initializes the driver through them; every entry point must be set.
  static llvm::Expected<std::unique_ptr<CudaDriver>>
  fromEntryPoints(const CudaEntryPoints &entryPoints);

  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;
  ~CudaDriver();

  /// Makes device `ordinal`'s primary context current on the calling thread,
  /// retaining the context the first time this object uses the device.
  llvm::Error setDevice(int ordinal);

  /// Returns the device of the context current on the calling thread; an
  /// error when none is current.
  llvm::Expected<int> getCurrentDevice();

  /// Returns the compute capability of device `ordinal`.
  llvm::Expected<ComputeCapability> getComputeCapability(int ordinal);

  /// Allocates `bytes` of memory on the current device.
  llvm::Expected<cuda::CUdeviceptr> allocate(size_t bytes);
  /// Frees memory from allocate().
  llvm::Error free(cuda::CUdeviceptr pointer);
  /// Copies `bytes` from host `source` to device `destination`.
  llvm::Error copyToDevice(cuda::CUdeviceptr destination, const void *source,
                           size_t bytes);
  /// Copies `bytes` from device `source` to host `destination`.
  llvm::Error copyToHost(void *destination, cuda::CUdeviceptr source,
                         size_t bytes);
  /// Sets `bytes` bytes at `destination` to `value`.
  llvm::Error fill(cuda::CUdeviceptr destination, uint8_t value, size_t bytes);
  /// Sets the first `width` bytes of each of `height` rows, `pitch` bytes
  /// apart from `destination` on, to `value`.
  llvm::Error fillRows(cuda::CUdeviceptr destination, size_t pitch,
                       uint8_t value, size_t width, size_t height);

  /// Returns what kind of memory `pointer` addresses, and on which device.
  /// An address the driver does not know is Memory::Unknown, not an error.
  llvm::Expected<PointerInfo> queryPointer(uint64_t pointer);

  /// Loads `image` (PTX text, or a cubin) into the current context. `what`
  /// ends the error message ("kernel 'x' for sm_90a"); a PTX the driver's JIT
  /// rejects gets the JIT's log appended.
  llvm::Expected<cuda::CUmodule> loadModule(llvm::StringRef image,
                                            const llvm::Twine &what);
  /// Returns the kernel `name` of `module`.
  llvm::Expected<cuda::CUfunction> getFunction(cuda::CUmodule module,
                                               llvm::StringRef name);
  /// Unloads `module`; its functions become invalid.
  llvm::Error unloadModule(cuda::CUmodule module);

  /// Returns a CU_FUNC_ATTRIBUTE_* value of `function` (`name` is the
  /// kernel's name, for the error message).
  llvm::Expected<int> getFunctionAttribute(cuda::CUfunction function,
                                           int attribute, llvm::StringRef name);

  /// Launches `function` (named `name` in errors) with `params` (one pointer
  /// per kernel parameter, see KernelParams) on `stream`. Checks first that
  /// the block has no more threads than the compiled kernel can run and
  /// that its shared memory fits the device, and raises the kernel's limit
  /// on dynamic shared memory (48 KiB by default) when the launch needs
  /// more. An empty grid launches nothing.
  llvm::Error launch(cuda::CUfunction function, llvm::StringRef name,
                     const LaunchGeometry &geometry, void **params,
                     cuda::CUstream stream);

  /// Waits for the work queued on `stream`; the errors of kernels that
  /// failed while running surface here.
  llvm::Error synchronize(cuda::CUstream stream);

  /// Returns "CUDA_ERROR_X: description" for `result`.
  std::string describe(cuda::CUresult result) const;

private:
  explicit CudaDriver(const CudaEntryPoints &entryPoints) : api(entryPoints) {}

  /// Success for CUDA_SUCCESS; otherwise "<call> failed (<describe>)
  /// <doing>".
  llvm::Error check(cuda::CUresult result, llvm::StringRef call,
                    const llvm::Twine &doing) const;

  /// Returns CU_DEVICE_ATTRIBUTE_* `attribute` of device `ordinal`; `what`
  /// names it for the error message.
  llvm::Expected<int> getDeviceAttribute(int ordinal, int attribute,
                                         llvm::StringRef what);

  CudaEntryPoints api;
  /// Guards retainedContexts: threads may call setDevice concurrently.
  std::mutex retainedMutex;
  /// The primary contexts this object retained, by device.
  llvm::SmallVector<std::pair<cuda::CUdevice, cuda::CUcontext>>
      retainedContexts;
};

} // namespace mlir::attn::runtime

#endif // ATTN_RUNTIME_CUDADRIVER_H
