//===- CudaDriver.cpp - The CUDA driver API, opened at run time -----------===//
//
/// \file
/// The entry points are listed once, in forEachEntryPoint, with the symbol
/// each is resolved from; loading and the completeness check of injected
/// entry points both walk that list. Each wrapper turns a CUresult into an
/// llvm::Error through `check`, which asks the driver for the error's name
/// and description, so messages read "cuX failed (CUDA_ERROR_Y: text)
/// doing Z".
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/CudaDriver.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <dlfcn.h>
#include <type_traits>

using namespace mlir::attn::runtime;
using namespace mlir::attn::runtime::cuda;

/// Calls `visit(symbol, slot)` for every entry point, with the name the
/// driver exports it under: cuda.h maps several API names to `_v2` symbols
/// (64-bit sizes, or changed semantics), and the plain symbols keep their
/// old ABI.
template <typename Visitor>
static void forEachEntryPoint(CudaEntryPoints &api, Visitor &&visit) {
  visit("cuInit", api.cuInit);
  visit("cuGetErrorName", api.cuGetErrorName);
  visit("cuGetErrorString", api.cuGetErrorString);
  visit("cuDeviceGet", api.cuDeviceGet);
  visit("cuDeviceGetAttribute", api.cuDeviceGetAttribute);
  visit("cuDevicePrimaryCtxRetain", api.cuDevicePrimaryCtxRetain);
  visit("cuDevicePrimaryCtxRelease_v2", api.cuDevicePrimaryCtxRelease);
  visit("cuCtxSetCurrent", api.cuCtxSetCurrent);
  visit("cuCtxGetCurrent", api.cuCtxGetCurrent);
  visit("cuCtxGetDevice", api.cuCtxGetDevice);
  visit("cuModuleLoadDataEx", api.cuModuleLoadDataEx);
  visit("cuModuleGetFunction", api.cuModuleGetFunction);
  visit("cuModuleUnload", api.cuModuleUnload);
  visit("cuFuncGetAttribute", api.cuFuncGetAttribute);
  visit("cuFuncSetAttribute", api.cuFuncSetAttribute);
  visit("cuLaunchKernel", api.cuLaunchKernel);
  visit("cuStreamSynchronize", api.cuStreamSynchronize);
  visit("cuMemAlloc_v2", api.cuMemAlloc);
  visit("cuMemFree_v2", api.cuMemFree);
  visit("cuMemcpyHtoD_v2", api.cuMemcpyHtoD);
  visit("cuMemcpyDtoH_v2", api.cuMemcpyDtoH);
  visit("cuMemsetD8_v2", api.cuMemsetD8);
  visit("cuMemsetD2D8_v2", api.cuMemsetD2D8);
  visit("cuPointerGetAttribute", api.cuPointerGetAttribute);
}

/// Returns an error with `message`. (llvm::createStringError of a lone
/// `const char *` would treat it as a format string.)
static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

/// Formats a device address as 0x-prefixed lower-case hex.
static std::string hex(uint64_t address) {
  return "0x" + llvm::utohexstr(address, /*LowerCase=*/true);
}

llvm::Expected<std::unique_ptr<CudaDriver>>
CudaDriver::load(llvm::StringRef library) {
  std::string name = library.str();
  // RTLD_LOCAL keeps the driver's symbols out of the global namespace, where
  // they could clash with a libcuda another library (PyTorch) opened.
  void *handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    return fail("no CUDA driver: " + name + " could not be loaded: " +
                (reason ? reason : "unknown reason"));
  }
  CudaEntryPoints api;
  const char *missing = nullptr;
  forEachEntryPoint(api, [&](const char *symbol, auto &slot) {
    if (missing)
      return;
    void *address = dlsym(handle, symbol);
    if (!address) {
      missing = symbol;
      return;
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  });
  if (missing) {
    dlclose(handle);
    return fail("no CUDA driver: " + name + " has no entry point " + missing +
                " (a driver too old for attn, or not NVIDIA's)");
  }
  return fromEntryPoints(api);
}

llvm::Expected<std::unique_ptr<CudaDriver>>
CudaDriver::fromEntryPoints(const CudaEntryPoints &entryPoints) {
  CudaEntryPoints api = entryPoints;
  const char *missing = nullptr;
  forEachEntryPoint(api, [&](const char *symbol, auto &slot) {
    if (!missing && !slot)
      missing = symbol;
  });
  if (missing)
    return fail(llvm::Twine("the CUDA driver's entry point ") + missing +
                " is not set");
  std::unique_ptr<CudaDriver> driver(new CudaDriver(api));
  if (llvm::Error error = driver->check(api.cuInit(0), "cuInit",
                                        "initializing the CUDA driver"))
    return std::move(error);
  return std::move(driver);
}

CudaDriver::~CudaDriver() {
  // Errors are ignored: at process exit the driver may already be shut
  // down, and it reports that instead of crashing.
  for (auto [device, context] : retainedContexts)
    (void)api.cuDevicePrimaryCtxRelease(device);
}

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr;
  if (api.cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    return "CUresult " + std::to_string(result) + ", unknown to this driver";
  const char *description = nullptr;
  if (api.cuGetErrorString(result, &description) != CUDA_SUCCESS ||
      !description)
    return name;
  return std::string(name) + ": " + description;
}

llvm::Error CudaDriver::check(CUresult result, llvm::StringRef call,
                              const llvm::Twine &doing) const {
  if (result == CUDA_SUCCESS)
    return llvm::Error::success();
  return fail(call + " failed (" + describe(result) + ") " + doing);
}

llvm::Error CudaDriver::setDevice(int ordinal) {
  std::lock_guard<std::mutex> lock(retainedMutex);
  CUdevice device = 0;
  if (llvm::Error error =
          check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet",
                "getting device " + llvm::Twine(ordinal)))
    return error;
  auto it = llvm::find_if(retainedContexts,
                          [&](auto &entry) { return entry.first == device; });
  CUcontext context = nullptr;
  if (it != retainedContexts.end()) {
    context = it->second;
  } else {
    if (llvm::Error error = check(
            api.cuDevicePrimaryCtxRetain(&context, device),
            "cuDevicePrimaryCtxRetain",
            "retaining the primary context of device " + llvm::Twine(ordinal)))
      return error;
    retainedContexts.push_back({device, context});
  }
  return check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent",
               "making the primary context of device " + llvm::Twine(ordinal) +
                   " current");
}

llvm::Expected<int> CudaDriver::getCurrentDevice() {
  CUcontext context = nullptr;
  if (llvm::Error error =
          check(api.cuCtxGetCurrent(&context), "cuCtxGetCurrent",
                "looking up the calling thread's CUDA context"))
    return std::move(error);
  if (!context)
    return fail("no CUDA context is current on the calling thread: select a "
                "device first");
  // A CUdevice is the device's ordinal, as the CUDA runtime also assumes.
  CUdevice device = 0;
  if (llvm::Error error =
          check(api.cuCtxGetDevice(&device), "cuCtxGetDevice",
                "looking up the device of the current CUDA context"))
    return std::move(error);
  return device;
}

llvm::Expected<int> CudaDriver::getDeviceAttribute(int ordinal, int attribute,
                                                   llvm::StringRef what) {
  CUdevice device = 0;
  if (llvm::Error error =
          check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet",
                "getting device " + llvm::Twine(ordinal)))
    return std::move(error);
  int value = 0;
  if (llvm::Error error =
          check(api.cuDeviceGetAttribute(&value, attribute, device),
                "cuDeviceGetAttribute",
                "reading the " + what + " of device " + llvm::Twine(ordinal)))
    return std::move(error);
  return value;
}

llvm::Expected<ComputeCapability>
CudaDriver::getComputeCapability(int ordinal) {
  ComputeCapability capability;
  for (auto [attribute, field] :
       {std::make_pair(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                       &capability.major),
        std::make_pair(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                       &capability.minor)}) {
    llvm::Expected<int> value =
        getDeviceAttribute(ordinal, attribute, "compute capability");
    if (!value)
      return value.takeError();
    *field = *value;
  }
  return capability;
}

llvm::Expected<CUdeviceptr> CudaDriver::allocate(size_t bytes) {
  CUdeviceptr pointer = 0;
  if (llvm::Error error =
          check(api.cuMemAlloc(&pointer, bytes), "cuMemAlloc_v2",
                "allocating " + llvm::Twine(bytes) + " bytes of device memory"))
    return std::move(error);
  return pointer;
}

llvm::Error CudaDriver::free(CUdeviceptr pointer) {
  return check(api.cuMemFree(pointer), "cuMemFree_v2",
               "freeing device memory at " + hex(pointer));
}

llvm::Error CudaDriver::copyToDevice(CUdeviceptr destination,
                                     const void *source, size_t bytes) {
  return check(api.cuMemcpyHtoD(destination, source, bytes), "cuMemcpyHtoD_v2",
               "copying " + llvm::Twine(bytes) +
                   " bytes from the host to device memory at " +
                   hex(destination));
}

llvm::Error CudaDriver::copyToHost(void *destination, CUdeviceptr source,
                                   size_t bytes) {
  return check(api.cuMemcpyDtoH(destination, source, bytes), "cuMemcpyDtoH_v2",
               "copying " + llvm::Twine(bytes) +
                   " bytes from device memory at " + hex(source) +
                   " to the host");
}

llvm::Error CudaDriver::fill(CUdeviceptr destination, uint8_t value,
                             size_t bytes) {
  return check(api.cuMemsetD8(destination, value, bytes), "cuMemsetD8_v2",
               "setting " + llvm::Twine(bytes) + " bytes of device memory at " +
                   hex(destination));
}

llvm::Error CudaDriver::fillRows(CUdeviceptr destination, size_t pitch,
                                 uint8_t value, size_t width, size_t height) {
  return check(api.cuMemsetD2D8(destination, pitch, value, width, height),
               "cuMemsetD2D8_v2",
               "setting " + llvm::Twine(width) + " bytes of each of " +
                   llvm::Twine(height) + " rows of device memory at " +
                   hex(destination));
}

llvm::Expected<PointerInfo> CudaDriver::queryPointer(uint64_t pointer) {
  unsigned memoryType = 0;
  CUresult result = api.cuPointerGetAttribute(
      &memoryType, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, pointer);
  // The driver's answer for an address it never allocated or registered.
  if (result == CUDA_ERROR_INVALID_VALUE)
    return PointerInfo{};
  if (llvm::Error error = check(result, "cuPointerGetAttribute",
                                "asking which memory " + hex(pointer) + " is"))
    return std::move(error);
  if (memoryType == CU_MEMORYTYPE_HOST)
    return PointerInfo{PointerInfo::Memory::Host, -1};
  if (memoryType != CU_MEMORYTYPE_DEVICE)
    return PointerInfo{};
  int ordinal = -1;
  if (llvm::Error error =
          check(api.cuPointerGetAttribute(
                    &ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, pointer),
                "cuPointerGetAttribute",
                "asking which device the memory at " + hex(pointer) + " is on"))
    return std::move(error);
  return PointerInfo{PointerInfo::Memory::Device, ordinal};
}

llvm::Expected<CUmodule> CudaDriver::loadModule(llvm::StringRef image,
                                                const llvm::Twine &what) {
  // The driver reads PTX up to its terminating NUL, which a StringRef need
  // not have; str() copies the bytes (a cubin's too) and adds one.
  std::string data = image.str();
  std::string log(16384, '\0');
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log.data(), reinterpret_cast<void *>(log.size())};
  CUmodule module = nullptr;
  CUresult result =
      api.cuModuleLoadDataEx(&module, data.c_str(), 2, options, values);
  if (result == CUDA_SUCCESS)
    return module;
  // The driver writes back how many bytes of the log it filled.
  size_t logBytes =
      std::min(reinterpret_cast<uintptr_t>(values[1]), uintptr_t(log.size()));
  llvm::StringRef jitLog =
      llvm::StringRef(log.data(), logBytes).split('\0').first.trim();
  std::string message =
      ("cuModuleLoadDataEx failed (" + describe(result) + ") loading " + what)
          .str();
  if (!jitLog.empty())
    message += ("; the JIT says: " + jitLog).str();
  return fail(message);
}

llvm::Expected<CUfunction> CudaDriver::getFunction(CUmodule module,
                                                   llvm::StringRef name) {
  std::string symbol = name.str();
  CUfunction function = nullptr;
  if (llvm::Error error =
          check(api.cuModuleGetFunction(&function, module, symbol.c_str()),
                "cuModuleGetFunction",
                "looking up kernel '" + name + "' in its module"))
    return std::move(error);
  return function;
}

llvm::Error CudaDriver::unloadModule(CUmodule module) {
  return check(api.cuModuleUnload(module), "cuModuleUnload",
               "unloading a kernel module");
}

llvm::Expected<int> CudaDriver::getFunctionAttribute(CUfunction function,
                                                     int attribute,
                                                     llvm::StringRef name) {
  int value = 0;
  if (llvm::Error error =
          check(api.cuFuncGetAttribute(&value, attribute, function),
                "cuFuncGetAttribute",
                "reading attribute " + llvm::Twine(attribute) + " of kernel '" +
                    name + "'"))
    return std::move(error);
  return value;
}

llvm::Error CudaDriver::launch(CUfunction function, llvm::StringRef name,
                               const LaunchGeometry &geometry, void **params,
                               CUstream stream) {
  if (geometry.empty())
    return llvm::Error::success();

  // The driver would answer these with a bare CUDA_ERROR_INVALID_VALUE or
  // CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES; say which limit the launch breaks.
  llvm::Expected<int> maxThreads = getFunctionAttribute(
      function, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, name);
  if (!maxThreads)
    return maxThreads.takeError();
  uint64_t threads =
      uint64_t(geometry.block[0]) * geometry.block[1] * geometry.block[2];
  if (threads > uint64_t(*maxThreads))
    return fail("kernel '" + name + "' is launched with " +
                llvm::Twine(threads) + " threads per block, more than the " +
                llvm::Twine(*maxThreads) +
                " it can run (its registers or launch bounds limit it)");

  llvm::Expected<int> maxDynamicShared = getFunctionAttribute(
      function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, name);
  if (!maxDynamicShared)
    return maxDynamicShared.takeError();
  if (geometry.sharedBytes > unsigned(*maxDynamicShared)) {
    llvm::Expected<int> device = getCurrentDevice();
    if (!device)
      return device.takeError();
    llvm::Expected<int> optIn = getDeviceAttribute(
        *device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
        "shared memory per block");
    if (!optIn)
      return optIn.takeError();
    llvm::Expected<int> staticShared = getFunctionAttribute(
        function, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, name);
    if (!staticShared)
      return staticShared.takeError();
    if (uint64_t(geometry.sharedBytes) + uint64_t(*staticShared) >
        uint64_t(*optIn))
      return fail("kernel '" + name + "' needs " +
                  llvm::Twine(geometry.sharedBytes) +
                  " bytes of dynamic shared memory besides its " +
                  llvm::Twine(*staticShared) + " static bytes, more than the " +
                  llvm::Twine(*optIn) + " bytes a block can have on device " +
                  llvm::Twine(*device));
    if (llvm::Error error =
            check(api.cuFuncSetAttribute(
                      function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                      int(geometry.sharedBytes)),
                  "cuFuncSetAttribute",
                  "allowing kernel '" + name + "' " +
                      llvm::Twine(geometry.sharedBytes) +
                      " bytes of dynamic shared memory"))
      return error;
    // A kernel past the default 48 KB would otherwise get the driver's
    // default split of L1 and shared memory, which fits fewer of its blocks
    // on an SM (on an H200, 3 blocks of 51 KB in 168 KB instead of 4 in
    // 228 KB).
    if (llvm::Error error = check(
            api.cuFuncSetAttribute(
                function, CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT,
                CU_SHAREDMEM_CARVEOUT_MAX_SHARED),
            "cuFuncSetAttribute",
            "preferring shared memory for kernel '" + name + "'"))
      return error;
  }

  return check(
      api.cuLaunchKernel(function, geometry.grid[0], geometry.grid[1],
                         geometry.grid[2], geometry.block[0], geometry.block[1],
                         geometry.block[2], geometry.sharedBytes, stream,
                         params, /*extra=*/nullptr),
      "cuLaunchKernel",
      "launching kernel '" + name + "' on a grid of (" +
          llvm::Twine(geometry.grid[0]) + ", " + llvm::Twine(geometry.grid[1]) +
          ", " + llvm::Twine(geometry.grid[2]) + ") blocks of (" +
          llvm::Twine(geometry.block[0]) + ", " +
          llvm::Twine(geometry.block[1]) + ", " +
          llvm::Twine(geometry.block[2]) + ") threads");
}

llvm::Error CudaDriver::synchronize(CUstream stream) {
  return check(api.cuStreamSynchronize(stream), "cuStreamSynchronize",
               "waiting for the work queued on the stream (a kernel may have "
               "failed while running)");
}
