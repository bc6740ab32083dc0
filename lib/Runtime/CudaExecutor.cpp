//===- CudaExecutor.cpp - Run GPU kernels on host tensors -----------------===//
//
/// \file
/// Device buffers for host tensors, the NaN poison, the workspace, and one
/// checked launch per run.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/CudaExecutor.h"
#include "llvm/Support/FormatVariadic.h"
#include <chrono>

using namespace mlir::attn::runtime;

llvm::Expected<DeviceKernel>
mlir::attn::runtime::describeDeviceKernel(const GPUKernelInfo &kernel) {
  DeviceKernel device;
  device.entry = kernel.name;
  KernelSignature callerArgs = kernel.signature;
  if (!callerArgs.args.empty() &&
      callerArgs.args.back().role == KernelArgRole::Workspace)
    callerArgs.args.pop_back();
  auto specs = describeArguments(callerArgs, kernel.launch.alignedRows);
  if (!specs)
    return specs.takeError();
  device.args = std::move(*specs);
  bool perRow = kernel.launch.order == GridOrder::QueryBlocksHeadsBatch;
  device.launch.heads = kernel.heads;
  device.launch.threads = kernel.launch.threads;
  device.launch.blockQueries = perRow ? kernel.launch.blockQueries : 0;
  device.launch.sharedBytes = kernel.launch.sharedBytes;
  device.launch.order =
      perRow ? KernelManifestLaunch::GridOrder::QueryBlocksHeadsBatch
             : KernelManifestLaunch::GridOrder::HeadsBatch;
  device.launch.valueSplits = perRow ? 1 : kernel.launch.valueSplits;
  device.launch.segmentWords = perRow ? 0 : kernel.launch.segmentWords;
  device.launch.chunk = perRow ? 0 : kernel.launch.chunk;
  device.launch.transformGroupChunks =
      perRow ? 0 : kernel.launch.transformGroupChunks;
  device.launch.chainsPerSplit = perRow ? 1 : kernel.launch.chainsPerSplit;
  device.launch.transformWords = perRow ? 0 : kernel.launch.transformWords;
  device.workspaceWords = kernel.launch.workspaceWords;
  return device;
}

CudaExecutor::CudaExecutor(std::unique_ptr<CudaDriver> driver)
    : driver(std::move(driver)) {
  cache = std::make_unique<KernelCache>(*this->driver);
}

CudaExecutor::~CudaExecutor() {
  // The cache unloads its modules through the driver: release it first.
  cache.reset();
}

llvm::Expected<std::unique_ptr<CudaExecutor>> CudaExecutor::create(int device) {
  auto driver = CudaDriver::load();
  if (!driver)
    return driver.takeError();
  if (llvm::Error error = (*driver)->setDevice(device))
    return std::move(error);
  return std::unique_ptr<CudaExecutor>(new CudaExecutor(std::move(*driver)));
}

namespace {
/// Device buffers freed on every path out of a run.
struct DeviceBuffers {
  CudaDriver &driver;
  llvm::SmallVector<cuda::CUdeviceptr> pointers;

  ~DeviceBuffers() {
    for (cuda::CUdeviceptr pointer : pointers)
      llvm::consumeError(driver.free(pointer));
  }
  llvm::Expected<cuda::CUdeviceptr> allocate(size_t bytes) {
    // A zero-byte allocation is refused by the driver; empty tensors still
    // get a valid (never read) pointer.
    auto pointer = driver.allocate(std::max<size_t>(bytes, 16));
    if (pointer)
      pointers.push_back(*pointer);
    return pointer;
  }
};
} // namespace

llvm::Expected<double> CudaExecutor::run(const KernelKey &key,
                                         llvm::StringRef ptx,
                                         const DeviceKernel &kernel,
                                         llvm::MutableArrayRef<HostTensor> args,
                                         int repeats) {
  if (args.size() != kernel.args.size())
    return llvm::createStringError(
        llvm::formatv("{0} takes {1} arguments, {2} given", kernel.entry,
                      kernel.args.size(), args.size())
            .str());
  if (args.empty() || args[0].getRank() != 4)
    return llvm::createStringError("the first argument must be the query "
                                   "[B, H, Nq, D]");
  // Everything that can be refused from the shapes alone is, before the
  // kernel is loaded or any device memory allocated: the grid's limits,
  // the 32-bit element offsets, and the workspace's size.
  int64_t batch = args[0].getShape()[0], numQueries = args[0].getShape()[2];
  if (args.size() > 1 && args[1].getShape().size() == 4)
    if (llvm::Error error =
            checkSequenceLengths(numQueries, args[1].getShape()[2]))
      return std::move(error);
  auto geometry = computeGrid(kernel.launch, batch, numQueries);
  if (!geometry)
    return geometry.takeError();
  for (auto [index, spec] : llvm::enumerate(kernel.args))
    if (llvm::Error error =
            checkElementOffsets(spec.name, args[index].getShape()))
      return std::move(error);
  int64_t workspaceWords = getLaunchWorkspaceWords(
      kernel.launch, kernel.workspaceWords, batch, numQueries);
  llvm::SmallVector<int64_t> workspaceShape = {batch, kernel.launch.heads,
                                               workspaceWords};
  std::optional<int64_t> workspaceBytes;
  // A chunk-parallel kernel takes its workspace even when it has no words
  // at these sizes (one segment).
  if (workspaceWords > 0 || kernel.launch.segmentWords > 0) {
    if (llvm::Error error = checkElementOffsets("workspace", workspaceShape))
      return std::move(error);
    workspaceBytes =
        llvm::cantFail(getSizeInBytes(ElementType::F32, workspaceShape));
  }

  auto function = cache->lookupOrLoad(
      key, [&]() -> llvm::Expected<std::string> { return ptx.str(); });
  if (!function)
    return function.takeError();
  auto device = driver->getCurrentDevice();
  if (!device)
    return device.takeError();

  DeviceBuffers buffers{*driver, {}};
  llvm::SmallVector<DeviceTensor> deviceArgs;
  llvm::SmallVector<ArgumentSpec> specs(kernel.args);
  llvm::SmallVector<llvm::SmallVector<int64_t>> shapes;
  for (auto [index, spec] : llvm::enumerate(kernel.args)) {
    HostTensor &tensor = args[index];
    if (tensor.getElementType() != spec.type)
      return llvm::createStringError(
          llvm::formatv("{0}: the kernel takes {1}, the host tensor holds {2}",
                        spec.name, stringify(spec.type),
                        stringify(tensor.getElementType()))
              .str());
    auto pointer = buffers.allocate(tensor.getSizeInBytes());
    if (!pointer)
      return pointer.takeError();
    // Outputs start as NaN so that an element the kernel misses shows; a
    // counter starts as the host's zeros.
    llvm::Error copied =
        spec.isOutput && !spec.accumulates
            ? driver->fill(*pointer, 0xFF, tensor.getSizeInBytes())
            : driver->copyToDevice(*pointer, tensor.getData(),
                                   tensor.getSizeInBytes());
    if (copied)
      return std::move(copied);
    DeviceTensor view;
    view.pointer = *pointer;
    view.type = spec.type;
    view.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    view.strides = tensor.getStrides();
    view.device = *device;
    deviceArgs.push_back(view);
    shapes.push_back(view.shape);
  }

  if (workspaceBytes) {
    auto pointer = buffers.allocate(static_cast<size_t>(*workspaceBytes));
    if (!pointer)
      return pointer.takeError();
    // The flags of a chunk-parallel kernel start at zero; its boundaries and
    // inverses are written before they are read.
    auto [firstFlag, endFlags] =
        getLaunchWorkspaceFlags(kernel.launch, batch, numQueries);
    if (endFlags > firstFlag)
      if (llvm::Error error = driver->fillRows(
              *pointer + 4 * firstFlag, 4 * workspaceWords, 0,
              4 * (endFlags - firstFlag), batch * kernel.launch.heads))
        return std::move(error);
    DeviceTensor workspace;
    workspace.pointer = *pointer;
    workspace.type = ElementType::F32;
    workspace.shape = workspaceShape;
    // Below kMaxElementOffset, checked above.
    workspace.strides = {workspaceShape[1] * workspaceShape[2],
                         workspaceShape[2], 1};
    workspace.device = *device;
    deviceArgs.push_back(workspace);
    shapes.push_back(workspace.shape);
    ArgumentSpec spec;
    spec.name = "workspace";
    spec.type = ElementType::F32;
    spec.isOutput = true;
    specs.push_back(spec);
  }

  double totalMs = 0;
  for (int run = 0; run < std::max(repeats, 1); ++run) {
    auto start = std::chrono::steady_clock::now();
    if (!geometry->empty())
      if (llvm::Error error =
              launchChecked(*driver, *function, kernel.entry, specs, shapes,
                            deviceArgs, *geometry, /*stream=*/nullptr))
        return std::move(error);
    if (llvm::Error error = driver->synchronize(nullptr))
      return std::move(error);
    totalMs += std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - start)
                   .count();
  }

  for (auto [index, spec] : llvm::enumerate(kernel.args))
    if (spec.isOutput)
      if (llvm::Error error = driver->copyToHost(args[index].getData(),
                                                 deviceArgs[index].pointer,
                                                 args[index].getSizeInBytes()))
        return std::move(error);
  return totalMs / std::max(repeats, 1);
}
