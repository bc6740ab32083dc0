//===- KernelLauncher.h - Host logic of launching attn kernels --*- C++ -*-===//
//
/// \file
/// What the runtime does on the host around a GPU kernel launch: checking
/// the device tensors it is handed against the kernel's signature before
/// anything runs (count, dtype, shape, strides, alignment, device, aliasing),
/// packing them as the kernel's parameters, computing the grid from the
/// problem sizes, and caching loaded kernels. None of it needs a GPU: the
/// driver is reached through CudaDriver, and the pointer query and the module
/// loader can be replaced, so unit tests run on any machine.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_KERNELLAUNCHER_H
#define ATTN_RUNTIME_KERNELLAUNCHER_H

#include "attn/Runtime/CudaDriver.h"
#include "attn/Runtime/HostTensor.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mlir::attn {
struct KernelSignature;
} // namespace mlir::attn

namespace mlir::attn::runtime {

/// A view of a device buffer handed to a kernel, e.g. a PyTorch CUDA
/// tensor: `pointer` addresses element [0, ..., 0] (the storage offset is
/// already applied), `strides` are in elements.
struct DeviceTensor {
  uint64_t pointer = 0;
  ElementType type = ElementType::F32;
  llvm::SmallVector<int64_t> shape, strides;
  /// The device the caller says the tensor lives on; checked against the
  /// driver's answer.
  int device = 0;
};

/// What the runtime needs to know of one kernel argument. A KernelSignature
/// gives it (describeArguments); the compiler's manifest will too, so a
/// launch needs no MLIR context.
struct ArgumentSpec {
  /// The argument's name in the signature: "query", "lse", "capture0", ...
  std::string name;
  ElementType type = ElementType::F32;
  /// Written by the kernel.
  bool isOutput = false;
  /// Rows are moved with 16-byte vector accesses: the query, key, value and
  /// output tensors of a kernel that copies rows in 16-byte chunks (the
  /// tensor-core attention's cp.async). See checkArguments for what that
  /// requires.
  bool vectorized = false;
  /// The kernel adds to it rather than overwriting it (index_errors, which
  /// counts out-of-range reads): it must start at zero, not poisoned.
  bool accumulates = false;
};

/// Returns the ArgumentSpec of every argument of `signature`, whose query,
/// key, value and output rows are `vectorized` when the kernel copies rows in
/// 16-byte chunks (GPULaunch::alignedRows); an error for an element type
/// the runtime cannot hold.
llvm::Expected<llvm::SmallVector<ArgumentSpec>>
describeArguments(const KernelSignature &signature, bool alignedRows);

/// Asks the driver where a pointer points.
using PointerQuery = llvm::function_ref<llvm::Expected<PointerInfo>(uint64_t)>;

/// The largest element offset (and size) a kernel can address: GPU kernels
/// compute indices in 32-bit arithmetic.
inline constexpr int64_t kMaxElementOffset = (int64_t(1) << 31) - 1;

/// Fails when a dense tensor `name` of `shape` has an element past
/// kMaxElementOffset, which a kernel's 32-bit indices cannot reach, or a
/// negative size. Runs before any buffer is allocated for the tensor;
/// checkArguments checks the same of strided tensors before a launch.
llvm::Error checkElementOffsets(llvm::StringRef name,
                                llvm::ArrayRef<int64_t> shape);

/// Fails when a sequence of `numQueries` or `numKeys` tokens is longer than
/// GPU kernels take: kMaxMaskExtent (2^30), so that the masks' 32-bit
/// positions (a query index plus Nk - Nq plus an offset) cannot wrap.
llvm::Error checkSequenceLengths(int64_t numQueries, int64_t numKeys);

/// Checks the device tensors `args` against the arguments `specs` and their
/// shapes `expectedShapes` (from resolveArgumentShapes) before a launch on
/// device `device`; `queryPointer` is CudaDriver::queryPointer in production
/// and a fake in unit tests. Fails, with a message that names the argument,
/// on the first of:
///  - a count of arguments (or of shapes) other than the kernel's;
///  - as many strides as dimensions, and the kernel's element type;
///  - exactly the expected shape;
///  - no negative stride;
///  - vectorized arguments: stride 1 in the innermost dimension;
///  - strides whose reach in bytes fits in 63 bits, and in elements in
///    kMaxElementOffset (sizes too);
///  - alignment: the pointer is a multiple of the element size; for
///    vectorized arguments the pointer is 16-byte aligned and every outer
///    stride is a multiple of 16 bytes, so that every row starts 16-byte
///    aligned;
///  - the tensor says it is on `device`, and the driver agrees that the
///    pointer is device memory of `device`;
///  - outputs: no two elements share memory;
///  - outputs share no byte with an input or another output, comparing the
///    ranges from each tensor's first to its last byte (an output interleaved
///    with another tensor's columns is refused, though its elements are
///    distinct).
/// The strides of a dimension of size 1 are never used to address memory and
/// are not checked; nor are the pointer of an empty tensor, which is never
/// read (PyTorch gives empty tensors a null pointer), and its memory.
llvm::Error
checkArguments(llvm::ArrayRef<ArgumentSpec> specs,
               llvm::ArrayRef<llvm::SmallVector<int64_t>> expectedShapes,
               llvm::ArrayRef<DeviceTensor> args, int device,
               PointerQuery queryPointer);

/// checkArguments for the arguments of `signature` (describeArguments with
/// `alignedRows`).
llvm::Error
checkArguments(const KernelSignature &signature, bool alignedRows,
               llvm::ArrayRef<llvm::SmallVector<int64_t>> expectedShapes,
               llvm::ArrayRef<DeviceTensor> args, int device,
               PointerQuery queryPointer);

/// Returns the kernel parameters of one memref argument as MLIR's lowering
/// of a kernel function over memrefs to LLVM expects them (what
/// `gpu.launch_func` passes): allocated pointer, aligned pointer, offset,
/// sizes[rank], strides[rank], each one 64-bit word. Both pointers are
/// `tensor.pointer` and the offset is 0, since the pointer already addresses
/// the first element.
llvm::SmallVector<int64_t> packMemRefParams(const DeviceTensor &tensor);

/// The parameters of one launch in the form cuLaunchKernel takes: an array
/// with one pointer per kernel parameter, each to that parameter's value.
/// It owns the values, so it must outlive the launch call; it is neither
/// copied nor moved, since the pointers point into it.
class KernelParams {
public:
  /// Packs `args` in order with packMemRefParams.
  explicit KernelParams(llvm::ArrayRef<DeviceTensor> args);
  KernelParams(const KernelParams &) = delete;
  KernelParams &operator=(const KernelParams &) = delete;

  /// The `kernelParams` argument of cuLaunchKernel.
  void **data() { return pointers.data(); }
  /// The parameter values, in order.
  llvm::ArrayRef<int64_t> getWords() const { return words; }

private:
  std::vector<int64_t> words;
  std::vector<void *> pointers;
};

/// How a kernel's grid follows from the problem sizes; the compiler writes
/// it into the kernel's manifest.
struct KernelManifestLaunch {
  /// How the grid's axes map onto the work.
  enum class GridOrder {
    /// x: query blocks of `blockQueries` rows, ceil(Nq / blockQueries);
    /// y: heads; z: batch. One block per (query block, head, sequence), as
    /// in FlashAttention-2's forward kernel.
    QueryBlocksHeadsBatch,
    /// x: heads; y: batch; z: `valueSplits`. One block walks a whole
    /// sequence of one head (for its share of the value columns), as a
    /// recurrent kernel that carries a state across chunks must; Nq = 0
    /// still launches, since the final state is written.
    HeadsBatch,
  };

  /// Query rows one block handles (QueryBlocksHeadsBatch only).
  int64_t blockQueries = 0;
  /// Query heads, fixed when the kernel is compiled.
  int64_t heads = 0;
  /// Threads per block, along x.
  int64_t threads = 0;
  /// Dynamic shared memory per block, in bytes.
  int64_t sharedBytes = 0;
  GridOrder order = GridOrder::QueryBlocksHeadsBatch;
  /// Blocks along z of a HeadsBatch grid, per segment.
  int64_t valueSplits = 1;
  /// A chunk-parallel kernel (GPULaunch::segmentWords): the f32 words of
  /// one segment boundary per (sequence, head), and the tokens per chunk; 0
  /// for other kernels.
  int64_t segmentWords = 0;
  int64_t chunk = 0;
  /// The delta rule's chunk-parallel form (GPULaunch::transformGroupChunks):
  /// chunks per transform block; 0 for other kernels.
  int64_t transformGroupChunks = 0;
  /// Its chain blocks per value split (GPULaunch::chainsPerSplit).
  int64_t chainsPerSplit = 1;
  /// The f32 words of its stored transforms per chunk
  /// (GPULaunch::transformWords).
  int64_t transformWords = 0;
};

/// The segments each sequence is cut into for `batch` sequences of
/// `numQueries` tokens (chooseChunkSegments); 1 for a kernel without a
/// chunk-parallel form.
int64_t getLaunchSegments(const KernelManifestLaunch &launch, int64_t batch,
                          int64_t numQueries);

/// The f32 words per (sequence, head) of the workspace of a chunk-parallel
/// kernel at these sizes (its flags zeroed before the launch), or `words` (the
/// manifest's fixed count) for other kernels.
int64_t getLaunchWorkspaceWords(const KernelManifestLaunch &launch,
                                int64_t words, int64_t batch,
                                int64_t numQueries);

/// The words [first, second) of each (sequence, head)'s workspace slice
/// that must be zero before the launch (getSegmentedWorkspaceFlags); empty
/// for a kernel without a chunk-parallel form or with one segment.
std::pair<int64_t, int64_t>
getLaunchWorkspaceFlags(const KernelManifestLaunch &launch, int64_t batch,
                        int64_t numQueries);

/// Returns the launch geometry of a kernel described by `launch` for
/// `batch` sequences of `numQueries` queries. Fails on a manifest that makes
/// no sense (non-positive block or heads, threads outside 1..1024, negative
/// or over 4 GiB shared memory), negative sizes, and grids beyond CUDA's
/// limits (2^31 - 1 blocks along x, 65535 along y and z). A grid with a zero
/// dimension is returned as it is: LaunchGeometry::empty(), nothing to do.
llvm::Expected<LaunchGeometry> computeGrid(const KernelManifestLaunch &launch,
                                           int64_t batch, int64_t numQueries);

/// Checks `args` (checkArguments on the calling thread's current device,
/// asking `driver` about pointers), then launches `function` (named `name`)
/// with them on `stream`. Nothing is launched when a check fails.
llvm::Error
launchChecked(CudaDriver &driver, cuda::CUfunction function,
              llvm::StringRef name, llvm::ArrayRef<ArgumentSpec> specs,
              llvm::ArrayRef<llvm::SmallVector<int64_t>> expectedShapes,
              llvm::ArrayRef<DeviceTensor> args, const LaunchGeometry &geometry,
              cuda::CUstream stream);

/// What identifies a kernel in a KernelCache.
struct KernelKey {
  /// fingerprintSpec of the spec's text, or any string that changes
  /// whenever the spec does.
  std::string spec;
  /// The compile options (tile sizes, storage types, ...) as text.
  std::string options;
  /// The target chip, e.g. "sm_90a".
  std::string chip;
  /// The kernel's entry point in the module: one module may hold several.
  std::string entry;

  /// The fields joined unambiguously (each prefixed by its length), so that
  /// ("ab", "c") and ("a", "bc") differ.
  std::string str() const;
};

/// Returns the SHA-256 of `specText` in lower-case hex.
std::string fingerprintSpec(llvm::StringRef specText);

/// Loaded kernels by KernelKey. A kernel's PTX is produced and loaded once;
/// later lookups return the loaded function. Thread-safe: a lookup of a key
/// that is being loaded waits for that load, lookups of other keys proceed.
/// A failed load is not remembered, so the next lookup tries again.
///
/// A CUfunction belongs to the context it was loaded in: use one cache per
/// device, looked up with that device current. The destructor unloads every
/// module, so the driver must outlive the cache.
class KernelCache {
public:
  struct LoadedKernel {
    cuda::CUmodule module = nullptr;
    cuda::CUfunction function = nullptr;
  };
  /// Loads `ptx` and returns the kernel `key.entry` of it.
  using Loader = std::function<llvm::Expected<LoadedKernel>(
      llvm::StringRef ptx, const KernelKey &key)>;
  /// Unloads a module the loader returned.
  using Unloader = std::function<void(cuda::CUmodule)>;

  /// Loads through `driver`, into the calling thread's current context.
  explicit KernelCache(CudaDriver &driver);
  /// Loads and unloads through `loader` and `unloader` (fakes in tests).
  KernelCache(Loader loader, Unloader unloader);
  KernelCache(const KernelCache &) = delete;
  KernelCache &operator=(const KernelCache &) = delete;
  ~KernelCache();

  /// Returns the kernel of `key`, calling `producePtx` and the loader the
  /// first time.
  llvm::Expected<cuda::CUfunction>
  lookupOrLoad(const KernelKey &key,
               llvm::function_ref<llvm::Expected<std::string>()> producePtx);

private:
  /// One key's kernel; its mutex serializes the loads of that key.
  struct Entry {
    std::mutex mutex;
    LoadedKernel kernel;
  };

  Loader loader;
  Unloader unloader;
  /// Guards `entries` (not the entries themselves).
  std::mutex mutex;
  /// Entries are never removed before destruction, so an Entry found under
  /// `mutex` stays valid after it is released.
  llvm::StringMap<std::unique_ptr<Entry>> entries;
};

} // namespace mlir::attn::runtime

#endif // ATTN_RUNTIME_KERNELLAUNCHER_H
