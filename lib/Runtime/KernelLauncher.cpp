//===- KernelLauncher.cpp - Host logic of launching attn kernels ----------===//
//
/// \file
/// The argument checks run in the order checkArguments documents and stop at
/// the first failure, so a message always names one argument and one
/// problem. Byte reaches are computed with overflow checks before any
/// pointer arithmetic, since the strides come from the user. An output's own
/// elements are proven distinct by the mixed-radix argument: visiting its
/// dimensions by increasing stride, each stride must exceed the furthest
/// offset the smaller ones reach.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/KernelLauncher.h"
#include "attn/Conversion/KernelBuilder.h"
#include "attn/Conversion/TiledKernels.h"
#include "attn/Dialect/Attn/IR/MaskTypes.h"
#include "attn/Runtime/KernelShapes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;

/// Returns an error with `message`. (llvm::createStringError of a lone
/// `const char *` would treat it as a format string.)
static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

/// Formats an address as 0x-prefixed lower-case hex.
static std::string hex(uint64_t address) {
  return "0x" + llvm::utohexstr(address, /*LowerCase=*/true);
}

//===----------------------------------------------------------------------===//
// Argument checks
//===----------------------------------------------------------------------===//

llvm::Expected<llvm::SmallVector<ArgumentSpec>>
mlir::attn::runtime::describeArguments(const KernelSignature &signature,
                                       bool alignedRows) {
  llvm::SmallVector<ArgumentSpec> specs;
  for (const KernelArg &arg : signature.args) {
    Type elementType = arg.type.getElementType();
    std::optional<ElementType> type = toElementType(elementType);
    if (!type) {
      std::string spelling;
      llvm::raw_string_ostream(spelling) << elementType;
      return fail(arg.name + ": element type " + spelling +
                  " has no runtime equivalent");
    }
    bool vectorized =
        alignedRows &&
        llvm::is_contained({KernelArgRole::Query, KernelArgRole::Key,
                            KernelArgRole::Value, KernelArgRole::Output},
                           arg.role);
    specs.push_back({arg.name, *type, arg.isOutput, vectorized,
                     /*accumulates=*/arg.role == KernelArgRole::IndexErrors});
  }
  return specs;
}

/// Returns true when two elements of a tensor of `shape` and non-negative
/// `strides` share an offset: visiting the dimensions of size > 1 by
/// increasing stride, each stride must exceed the furthest offset the
/// dimensions before it reach, or two indices meet. (A sufficient condition
/// for distinct elements; every dense or padded layout, in any dimension
/// order, meets it.) The reach must fit in int64_t.
static bool hasSharedElements(llvm::ArrayRef<int64_t> shape,
                              llvm::ArrayRef<int64_t> strides) {
  llvm::SmallVector<std::pair<int64_t, int64_t>> dims;
  for (auto [size, stride] : llvm::zip_equal(shape, strides))
    if (size > 1)
      dims.push_back({stride, size});
  llvm::sort(dims);
  int64_t reach = 0;
  for (auto [stride, size] : dims) {
    if (stride <= reach)
      return true;
    reach += (size - 1) * stride;
  }
  return false;
}

llvm::Error
mlir::attn::runtime::checkElementOffsets(llvm::StringRef name,
                                         llvm::ArrayRef<int64_t> shape) {
  llvm::Expected<int64_t> count = getNumElements(shape);
  if (!count)
    return fail(name + ": " + llvm::toString(count.takeError()));
  if (*count - 1 > kMaxElementOffset)
    return fail(name + ": shape " + formatShape(shape) + " has " +
                llvm::Twine(*count) +
                " elements; kernels index with 32 bits and reach at most " +
                llvm::Twine(kMaxElementOffset) + " elements (split the batch)");
  return llvm::Error::success();
}

llvm::Error mlir::attn::runtime::checkSequenceLengths(int64_t numQueries,
                                                      int64_t numKeys) {
  for (auto [length, what] :
       {std::pair{numQueries, "query"}, std::pair{numKeys, "key"}})
    if (length > kMaxMaskExtent)
      return fail(llvm::Twine("a ") + what + " length of " +
                  llvm::Twine(length) + " tokens; GPU kernels take at most " +
                  llvm::Twine(kMaxMaskExtent) +
                  " (2^30), within which masks compute in 32 bits");
  return llvm::Error::success();
}

llvm::Error mlir::attn::runtime::checkArguments(
    llvm::ArrayRef<ArgumentSpec> specs,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> expectedShapes,
    llvm::ArrayRef<DeviceTensor> args, int device, PointerQuery queryPointer) {
  if (args.size() != specs.size()) {
    llvm::SmallVector<llvm::StringRef> names;
    for (const ArgumentSpec &spec : specs)
      names.push_back(spec.name);
    return fail("the kernel takes " + llvm::Twine(specs.size()) +
                " arguments (" + llvm::join(names, ", ") + "), " +
                llvm::Twine(args.size()) + " were given");
  }
  if (expectedShapes.size() != specs.size())
    return fail(llvm::Twine(expectedShapes.size()) +
                " expected shapes were given for the kernel's " +
                llvm::Twine(specs.size()) + " arguments");

  // The bytes [first, last] each non-empty tensor covers, for the aliasing
  // check.
  llvm::SmallVector<std::optional<std::pair<uint64_t, uint64_t>>> ranges;
  for (auto [spec, tensor, expected] :
       llvm::zip_equal(specs, args, expectedShapes)) {
    auto argError = [&, &spec = spec](const llvm::Twine &what) {
      return fail(spec.name + ": " + what);
    };
    size_t rank = tensor.shape.size();
    if (tensor.strides.size() != rank)
      return argError(llvm::Twine(tensor.strides.size()) + " strides for " +
                      llvm::Twine(rank) + " dimensions");
    if (tensor.type != spec.type)
      return argError("dtype is " + stringify(tensor.type) +
                      ", the kernel needs " + stringify(spec.type));
    if (llvm::ArrayRef<int64_t>(tensor.shape) !=
        llvm::ArrayRef<int64_t>(expected))
      return argError("shape is " + formatShape(tensor.shape) +
                      ", the kernel needs " + formatShape(expected));
    // Expected shapes come from resolveArgumentShapes, which refuses
    // negative sizes, but this is public API: the reach below needs them
    // non-negative.
    for (auto [dim, size] : llvm::enumerate(tensor.shape))
      if (size < 0)
        return argError("size " + llvm::Twine(size) + " of dimension " +
                        llvm::Twine(dim) + " is negative");
    for (auto [dim, stride] : llvm::enumerate(tensor.strides))
      if (stride < 0)
        return argError("stride " + llvm::Twine(stride) + " of dimension " +
                        llvm::Twine(dim) +
                        " is negative; the kernel needs non-negative strides");
    if (spec.vectorized && rank > 0 && tensor.shape.back() > 1 &&
        tensor.strides.back() != 1)
      return argError("innermost stride is " +
                      llvm::Twine(tensor.strides.back()) +
                      ", the kernel needs 1 (it reads whole rows with vector "
                      "accesses)");

    if (llvm::is_contained(tensor.shape, 0)) {
      ranges.push_back(std::nullopt);
      continue;
    }

    // The offset of the last element, then the bytes up to its end.
    const int64_t elementBytes = getByteWidth(spec.type);
    std::optional<int64_t> reach = 0;
    for (auto [size, stride] : llvm::zip_equal(tensor.shape, tensor.strides))
      if (reach)
        reach = llvm::checkedMulAdd<int64_t>(size - 1, stride, *reach);
    std::optional<int64_t> bytes =
        reach ? llvm::checkedAdd<int64_t>(*reach, 1) : std::nullopt;
    if (bytes)
      bytes = llvm::checkedMul<int64_t>(*bytes, elementBytes);
    if (!bytes || uint64_t(*bytes) > ~tensor.pointer)
      return argError("its strides reach beyond the address space");
    // Kernels index with 32-bit arithmetic.
    if (*reach > kMaxElementOffset ||
        llvm::any_of(tensor.shape,
                     [](int64_t size) { return size > kMaxElementOffset; }))
      return argError("its last element is at offset " + llvm::Twine(*reach) +
                      "; kernels index with 32 bits and reach at most " +
                      llvm::Twine(kMaxElementOffset) +
                      " elements (split the batch)");

    if (tensor.pointer % elementBytes != 0)
      return argError("pointer " + hex(tensor.pointer) +
                      " is not aligned to its " + llvm::Twine(elementBytes) +
                      "-byte elements");
    if (spec.vectorized) {
      if (tensor.pointer % 16 != 0)
        return argError("pointer " + hex(tensor.pointer) +
                        " is not 16-byte aligned, which the kernel's vector "
                        "accesses need");
      for (size_t dim = 0; dim + 1 < rank; ++dim) {
        if (tensor.shape[dim] <= 1)
          continue;
        // Cannot overflow: the reach covers (size - 1) * stride bytes.
        int64_t strideBytes = tensor.strides[dim] * elementBytes;
        if (strideBytes % 16 != 0)
          return argError("stride " + llvm::Twine(tensor.strides[dim]) +
                          " of dimension " + llvm::Twine(dim) + " is " +
                          llvm::Twine(strideBytes) +
                          " bytes, not a multiple of the 16 that the "
                          "kernel's vector accesses need");
      }
    }

    if (tensor.device != device)
      return argError("tensor is on device " + llvm::Twine(tensor.device) +
                      ", the kernel runs on device " + llvm::Twine(device));
    llvm::Expected<PointerInfo> info = queryPointer(tensor.pointer);
    if (!info)
      return argError(llvm::toString(info.takeError()));
    if (info->memory == PointerInfo::Memory::Host)
      return argError("pointer " + hex(tensor.pointer) +
                      " is page-locked host memory, not device memory");
    if (info->memory != PointerInfo::Memory::Device)
      return argError("pointer " + hex(tensor.pointer) +
                      " is not device memory (CUDA does not know it: "
                      "pageable host memory, or no allocation)");
    if (info->device != device)
      return argError("pointer " + hex(tensor.pointer) +
                      " is memory of device " + llvm::Twine(info->device) +
                      ", the kernel runs on device " + llvm::Twine(device));

    if (spec.isOutput && hasSharedElements(tensor.shape, tensor.strides))
      return argError("strides " + formatShape(tensor.strides) + " for shape " +
                      formatShape(tensor.shape) +
                      " make elements share memory; an output needs one "
                      "location per element");
    ranges.push_back(
        std::make_pair(tensor.pointer, tensor.pointer + uint64_t(*bytes) - 1));
  }

  for (auto [index, spec] : llvm::enumerate(specs)) {
    if (!spec.isOutput || !ranges[index])
      continue;
    auto [first, last] = *ranges[index];
    for (auto [other, otherSpec] : llvm::enumerate(specs)) {
      if (other == index || !ranges[other])
        continue;
      auto [otherFirst, otherLast] = *ranges[other];
      if (first > otherLast || otherFirst > last)
        continue;
      return fail(spec.name + ": its bytes [" + hex(first) + ", " + hex(last) +
                  "] overlap those of " + otherSpec.name + " [" +
                  hex(otherFirst) + ", " + hex(otherLast) +
                  "]; an output must not share memory with an input or "
                  "another output");
    }
  }
  return llvm::Error::success();
}

llvm::Error mlir::attn::runtime::checkArguments(
    const KernelSignature &signature, bool alignedRows,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> expectedShapes,
    llvm::ArrayRef<DeviceTensor> args, int device, PointerQuery queryPointer) {
  llvm::Expected<llvm::SmallVector<ArgumentSpec>> specs =
      describeArguments(signature, alignedRows);
  if (!specs)
    return specs.takeError();
  return checkArguments(*specs, expectedShapes, args, device, queryPointer);
}

//===----------------------------------------------------------------------===//
// Kernel parameters
//===----------------------------------------------------------------------===//

llvm::SmallVector<int64_t>
mlir::attn::runtime::packMemRefParams(const DeviceTensor &tensor) {
  auto pointer = static_cast<int64_t>(tensor.pointer);
  llvm::SmallVector<int64_t> words = {pointer, pointer, /*offset=*/0};
  llvm::append_range(words, tensor.shape);
  llvm::append_range(words, tensor.strides);
  return words;
}

KernelParams::KernelParams(llvm::ArrayRef<DeviceTensor> args) {
  for (const DeviceTensor &tensor : args)
    llvm::append_range(words, packMemRefParams(tensor));
  // Taken once `words` is complete, so no reallocation moves the values.
  pointers.reserve(words.size());
  for (int64_t &word : words)
    pointers.push_back(&word);
}

//===----------------------------------------------------------------------===//
// Launch geometry
//===----------------------------------------------------------------------===//

/// The delta rule's part of the workspace at these sizes.
static DeltaWorkspace getDeltaWorkspace(const KernelManifestLaunch &launch,
                                        int64_t numQueries) {
  if (launch.transformGroupChunks <= 0 || launch.chunk <= 0)
    return {};
  int64_t chunks =
      (std::max<int64_t>(numQueries, 0) + launch.chunk - 1) / launch.chunk;
  return {launch.transformGroupChunks, chunks, launch.chunk,
          std::max<int64_t>(launch.chainsPerSplit, 1), launch.transformWords};
}

int64_t
mlir::attn::runtime::getLaunchSegments(const KernelManifestLaunch &launch,
                                       int64_t batch, int64_t numQueries) {
  if (launch.segmentWords <= 0 ||
      launch.order != KernelManifestLaunch::GridOrder::HeadsBatch)
    return 1;
  // The delta rule's output blocks start as its chain reaches their
  // segment, so it takes twice the segments: the last is shorter.
  DeltaWorkspace delta = getDeltaWorkspace(launch, numQueries);
  int64_t segments =
      chooseChunkSegments(launch.heads * batch * launch.valueSplits, numQueries,
                          launch.chunk, delta.groupChunks > 0 ? 512 : 256);
  // The delta rule's form stores its transforms per chunk in 16-bit
  // elements, two a word: where their offsets in the workspace would pass
  // 32 bits, the whole sequence runs as one segment (which needs no
  // workspace) instead.
  if (segments > 1 && delta.groupChunks > 0) {
    int64_t words = getSegmentedWorkspaceWords(
        launch.segmentWords, launch.valueSplits, segments, delta);
    if (2.0 * double(words) * double(batch) * double(launch.heads) >=
        double(std::numeric_limits<int32_t>::max()))
      return 1;
  }
  return segments;
}

int64_t
mlir::attn::runtime::getLaunchWorkspaceWords(const KernelManifestLaunch &launch,
                                             int64_t words, int64_t batch,
                                             int64_t numQueries) {
  if (launch.segmentWords <= 0)
    return words;
  return getSegmentedWorkspaceWords(
      launch.segmentWords, launch.valueSplits,
      getLaunchSegments(launch, batch, numQueries),
      getDeltaWorkspace(launch, numQueries));
}

std::pair<int64_t, int64_t> mlir::attn::runtime::getLaunchWorkspaceFlags(
    const KernelManifestLaunch &launch, int64_t batch, int64_t numQueries) {
  if (launch.segmentWords <= 0)
    return {0, 0};
  return getSegmentedWorkspaceFlags(
      launch.segmentWords, launch.valueSplits,
      getLaunchSegments(launch, batch, numQueries),
      getDeltaWorkspace(launch, numQueries));
}

llvm::Expected<LaunchGeometry>
mlir::attn::runtime::computeGrid(const KernelManifestLaunch &launch,
                                 int64_t batch, int64_t numQueries) {
  if (launch.heads <= 0)
    return fail("kernel manifest: " + llvm::Twine(launch.heads) +
                " heads; there must be at least one");
  if (launch.threads < 1 || launch.threads > 1024)
    return fail("kernel manifest: " + llvm::Twine(launch.threads) +
                " threads per block; CUDA allows 1 to 1024");
  if (launch.sharedBytes < 0 ||
      launch.sharedBytes > std::numeric_limits<unsigned>::max())
    return fail("kernel manifest: " + llvm::Twine(launch.sharedBytes) +
                " bytes of shared memory is out of range");
  if (batch < 0 || numQueries < 0)
    return fail("batch " + llvm::Twine(batch) + " and query length " +
                llvm::Twine(numQueries) + " must not be negative");

  // The extent of each grid axis, and what it counts, for the messages.
  int64_t extents[3];
  const char *meanings[3];
  switch (launch.order) {
  case KernelManifestLaunch::GridOrder::QueryBlocksHeadsBatch:
    if (launch.blockQueries <= 0)
      return fail("kernel manifest: blocks of " +
                  llvm::Twine(launch.blockQueries) +
                  " queries; a block needs at least one");
    extents[0] = numQueries / launch.blockQueries +
                 (numQueries % launch.blockQueries != 0);
    extents[1] = launch.heads;
    extents[2] = batch;
    meanings[0] = "query blocks";
    meanings[1] = "heads";
    meanings[2] = "batch";
    break;
  case KernelManifestLaunch::GridOrder::HeadsBatch:
    if (launch.valueSplits <= 0)
      return fail("kernel manifest: " + llvm::Twine(launch.valueSplits) +
                  " value splits; a kernel needs at least one");
    extents[0] = launch.heads;
    extents[1] = batch;
    // A chunk-parallel kernel: boundary blocks for all segments but the
    // last, then output blocks for every segment; the delta rule's form:
    // with more than one segment, a transform block per group of chunks, a
    // chain block per value split, then the output blocks.
    if (int64_t segments = getLaunchSegments(launch, batch, numQueries);
        launch.transformGroupChunks <= 0)
      extents[2] = launch.valueSplits * (2 * segments - 1);
    else if (segments == 1)
      extents[2] = launch.valueSplits;
    else
      extents[2] = getDeltaWorkspace(launch, numQueries).groups() +
                   launch.valueSplits *
                       (segments + std::max<int64_t>(launch.chainsPerSplit, 1));
    meanings[0] = "heads";
    meanings[1] = "batch";
    meanings[2] = launch.segmentWords > 0 ? "value splits x segment blocks"
                                          : "value splits";
    break;
  }

  static constexpr int64_t kLimits[3] = {(int64_t(1) << 31) - 1, 65535, 65535};
  static constexpr const char *kAxes[3] = {"x", "y", "z"};
  LaunchGeometry geometry;
  for (int axis = 0; axis < 3; ++axis) {
    if (extents[axis] > kLimits[axis])
      return fail("the grid would have " + llvm::Twine(extents[axis]) +
                  " blocks along " + kAxes[axis] + " (" + meanings[axis] +
                  "), more than CUDA's " + llvm::Twine(kLimits[axis]));
    geometry.grid[axis] = unsigned(extents[axis]);
  }
  geometry.block[0] = unsigned(launch.threads);
  geometry.sharedBytes = unsigned(launch.sharedBytes);
  return geometry;
}

llvm::Error mlir::attn::runtime::launchChecked(
    CudaDriver &driver, cuda::CUfunction function, llvm::StringRef name,
    llvm::ArrayRef<ArgumentSpec> specs,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> expectedShapes,
    llvm::ArrayRef<DeviceTensor> args, const LaunchGeometry &geometry,
    cuda::CUstream stream) {
  llvm::Expected<int> device = driver.getCurrentDevice();
  if (!device)
    return device.takeError();
  if (llvm::Error error = checkArguments(
          specs, expectedShapes, args, *device,
          [&](uint64_t pointer) { return driver.queryPointer(pointer); }))
    return error;
  KernelParams params(args);
  return driver.launch(function, name, geometry, params.data(), stream);
}

//===----------------------------------------------------------------------===//
// Kernel cache
//===----------------------------------------------------------------------===//

std::string KernelKey::str() const {
  std::string key;
  for (const std::string *field : {&spec, &options, &chip, &entry})
    key += std::to_string(field->size()) + ":" + *field + ";";
  return key;
}

std::string mlir::attn::runtime::fingerprintSpec(llvm::StringRef specText) {
  return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(specText)),
                     /*LowerCase=*/true);
}

KernelCache::KernelCache(CudaDriver &driver)
    : loader([&driver](llvm::StringRef ptx,
                       const KernelKey &key) -> llvm::Expected<LoadedKernel> {
        llvm::Expected<cuda::CUmodule> module = driver.loadModule(
            ptx, "kernel '" + key.entry + "' for " + key.chip);
        if (!module)
          return module.takeError();
        llvm::Expected<cuda::CUfunction> function =
            driver.getFunction(*module, key.entry);
        if (!function) {
          llvm::consumeError(driver.unloadModule(*module));
          return function.takeError();
        }
        return LoadedKernel{*module, *function};
      }),
      unloader([&driver](cuda::CUmodule module) {
        // Nothing to report to at destruction; the driver fails cleanly if
        // the context is already gone.
        llvm::consumeError(driver.unloadModule(module));
      }) {}

KernelCache::KernelCache(Loader loader, Unloader unloader)
    : loader(std::move(loader)), unloader(std::move(unloader)) {}

KernelCache::~KernelCache() {
  for (auto &entry : entries)
    if (entry.second->kernel.module)
      unloader(entry.second->kernel.module);
}

llvm::Expected<cuda::CUfunction> KernelCache::lookupOrLoad(
    const KernelKey &key,
    llvm::function_ref<llvm::Expected<std::string>()> producePtx) {
  Entry *entry;
  {
    std::lock_guard<std::mutex> lock(mutex);
    std::unique_ptr<Entry> &slot = entries[key.str()];
    if (!slot)
      slot = std::make_unique<Entry>();
    entry = slot.get();
  }
  // Held while producing and loading: a second lookup of this key waits
  // here and then finds the kernel, instead of compiling it again.
  std::lock_guard<std::mutex> lock(entry->mutex);
  if (entry->kernel.function)
    return entry->kernel.function;
  llvm::Expected<std::string> ptx = producePtx();
  if (!ptx)
    return ptx.takeError();
  llvm::Expected<LoadedKernel> loaded = loader(*ptx, key);
  if (!loaded)
    return loaded.takeError();
  if (!loaded->function) {
    if (loaded->module)
      unloader(loaded->module);
    return fail("loading kernel '" + key.entry + "' for " + key.chip +
                " gave no function");
  }
  entry->kernel = *loaded;
  return entry->kernel.function;
}
