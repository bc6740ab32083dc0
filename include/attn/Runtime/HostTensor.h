//===- HostTensor.h - Dense host tensors for running kernels ----*- C++ -*-===//
//
/// \file
/// A small host-side tensor library for `attn-run`, which runs compiled
/// attention kernels on the CPU through MLIR's ExecutionEngine: dense
/// row-major tensors with 64-byte aligned storage and the memref descriptor
/// MLIR's C interface expects, element conversion (f16 and bf16 rounded to
/// nearest even), `.npy` reading and writing, deterministic random fills that
/// do not depend on the C++ library, and the comparison of a result with a
/// reference that treats matching NaNs and infinities as equal.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_HOSTTENSOR_H
#define ATTN_RUNTIME_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mlir::attn::runtime {

/// The element types a host tensor can hold.
enum class ElementType { F32, F64, F16, BF16, I1, I8, I32, I64 };

/// Returns the bytes one element takes. I1 is stored as one byte, as MLIR
/// lowers `memref<...xi1>`.
size_t getByteWidth(ElementType type);

/// Returns the MLIR spelling of `type`: "f32", "bf16", "i1", ...
llvm::StringRef stringify(ElementType type);

/// Parses the MLIR spelling of an element type; std::nullopt if unknown.
std::optional<ElementType> parseElementType(llvm::StringRef name);

/// Returns the number of elements of a tensor of `shape`; an error for a
/// negative dimension or a count beyond int64_t. Sizes come from users
/// (--sizes, .npy headers, the C API), so every product is checked.
llvm::Expected<int64_t> getNumElements(llvm::ArrayRef<int64_t> shape);

/// Returns the bytes a dense tensor of `type` and `shape` takes; an error as
/// getNumElements gives, or for a byte count beyond int64_t.
llvm::Expected<int64_t> getSizeInBytes(ElementType type,
                                       llvm::ArrayRef<int64_t> shape);

/// Returns the physical memory of this machine in bytes; std::nullopt where
/// the system does not say.
std::optional<uint64_t> getPhysicalMemorySize();

/// Fails when `bytes` of host memory, needed for `what`, exceed this
/// machine's physical memory: such an allocation cannot succeed, or succeeds
/// only to be killed when its pages are touched.
llvm::Error checkHostMemory(uint64_t bytes, const llvm::Twine &what);

/// Formats a byte count for messages: "4.0 TiB (4398046511104 bytes)".
std::string formatBytes(uint64_t bytes);

/// A dense row-major host tensor with 64-byte aligned storage. Copies are
/// deep; a default-constructed tensor has rank 0, no elements and no storage.
class HostTensor {
public:
  HostTensor() = default;
  /// Creates a zero-filled tensor of `type` and `shape`, for shapes the
  /// caller knows to be small. An impossible shape or a failed allocation is
  /// a fatal error naming the shape and the bytes; use create() for shapes
  /// that come from users.
  HostTensor(ElementType type, llvm::ArrayRef<int64_t> shape);

  /// Creates a zero-filled tensor of `type` and `shape`, or returns an error
  /// that names the shape: a negative dimension, an element or byte count
  /// beyond int64_t, more bytes than the machine's physical memory, or an
  /// allocation that fails. Nothing is allocated before the checks pass.
  static llvm::Expected<HostTensor> create(ElementType type,
                                           llvm::ArrayRef<int64_t> shape);

  HostTensor(const HostTensor &other);
  HostTensor &operator=(const HostTensor &other);
  HostTensor(HostTensor &&other) noexcept;
  HostTensor &operator=(HostTensor &&other) noexcept;
  ~HostTensor() = default;

  ElementType getElementType() const { return elementType; }
  llvm::ArrayRef<int64_t> getShape() const { return shape; }
  int64_t getRank() const { return static_cast<int64_t>(shape.size()); }
  int64_t getNumElements() const { return numElements; }

  /// Returns the row-major strides, in elements.
  llvm::SmallVector<int64_t> getStrides() const;

  void *getData() { return storage.get(); }
  const void *getData() const { return storage.get(); }
  size_t getSizeInBytes() const {
    return static_cast<size_t>(numElements) * getByteWidth(elementType);
  }

  /// Returns element `linearIndex` as a double; every element type converts
  /// exactly (f16 and bf16 are decoded bit by bit, i64 beyond 2^53 rounds).
  double get(int64_t linearIndex) const;

  /// Stores `value` at `linearIndex`, converted to the element type: f32
  /// rounds to nearest even, as do f16 and bf16 (directly from the double, so
  /// there is no double rounding; overflow gives infinity, NaN stays NaN);
  /// integers truncate toward zero and saturate, NaN giving 0; I1 stores 1
  /// for any nonzero value (NaN included) and 0 for zero.
  void set(int64_t linearIndex, double value);

  /// Returns a copy converted to `type`, element by element through
  /// get/set.
  HostTensor convertTo(ElementType type) const;

  /// Returns the descriptor MLIR's C interface (`llvm.emit_c_interface`)
  /// expects for a strided memref of this tensor's rank, as 64-bit words:
  /// {allocated pointer, aligned pointer, offset, sizes[rank],
  /// strides[rank]}. The tensor must outlive the descriptor, and the
  /// descriptor is invalidated by assigning to the tensor.
  llvm::SmallVector<int64_t> getMemRefDescriptor();

private:
  /// Frees storage from std::aligned_alloc.
  struct AlignedDeleter {
    void operator()(uint8_t *pointer) const;
  };

  ElementType elementType = ElementType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  int64_t numElements = 0;
  std::unique_ptr<uint8_t[], AlignedDeleter> storage;
};

/// Reads a `.npy` file: format versions 1.0, 2.0 and 3.0, C order, little
/// endian, with dtype `<f4`, `<f8`, `<f2`, `|b1`, `|i1`, `<i4` or `<i8` (`=`
/// and `|` accepted for `<`). The error names the file and what is wrong with
/// it.
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);

/// Writes `tensor` as a `.npy` file (version 1.0, or 2.0 for huge headers).
/// F32, F64, F16, I1, I8, I32 and I64 are written as themselves; BF16, which
/// NumPy lacks, is widened exactly to `<f4`.
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);

/// Fills `tensor`, in linear index order, with normal samples of `mean` and
/// `stddev` drawn by Box-Muller from a xoshiro256** stream seeded through
/// splitmix64. The stream of 64-bit words and of doubles in [0, 1) is
/// bit-identical on every platform and C++ library; the samples also go
/// through `std::log`, `std::cos` and `std::sin`, so a libm that rounds those
/// differently can move a sample by an ulp of a double.
void fillNormal(HostTensor &tensor, uint64_t seed, double mean = 0.0,
                double stddev = 1.0);

/// Fills `tensor`, in linear index order, with uniform samples
/// low + (high - low) * u for u in [0, 1) from the stream of fillNormal.
void fillUniform(HostTensor &tensor, uint64_t seed, double low, double high);

/// The comparison of a result with a reference of the same shape.
struct Comparison {
  /// max |actual - reference| over positions where both are finite.
  double maxAbsError = 0;
  /// Positions where both sides are finite: what maxAbsError is over.
  int64_t comparedFinite = 0;
  /// Positions where both sides are NaN: they match, but say nothing of the
  /// kernel's arithmetic.
  int64_t matchedNaN = 0;
  /// max |reference| over finite reference elements.
  double maxReferenceMagnitude = 0;
  /// maxAbsError / max(maxReferenceMagnitude, smallest normal double);
  /// infinity when mismatchedNonFinite is nonzero; NaN when the two sides
  /// are NaN at some position and finite together at none, so that a check
  /// that compared nothing (all-NaN inputs) does not pass.
  double maxRelError = 0;
  /// Positions where either side is not finite and the two differ: exactly
  /// one side is NaN, or the infinities differ (in sign, or one side is
  /// finite). Two NaNs, or two infinities of one sign, match.
  int64_t mismatchedNonFinite = 0;
  /// Linear index of the first such mismatch; -1 when there is none.
  int64_t firstMismatch = -1;
  /// Linear index of the max abs error; -1 when no position has two finite
  /// values.
  int64_t worstIndex = -1;
};

/// Compares `actual` with `reference`, elementwise through get(); the element
/// types may differ. Fails when the shapes differ.
llvm::Expected<Comparison> compare(const HostTensor &actual,
                                   const HostTensor &reference);

/// Formats a shape as "[2, 4, 100, 64]"; rank 0 gives "[]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// Formats row-major linear index `linearIndex` of a tensor of `shape` as
/// its multi-index: "[1, 0, 7, 3]".
std::string formatPosition(llvm::ArrayRef<int64_t> shape, int64_t linearIndex);

} // namespace mlir::attn::runtime

#endif // ATTN_RUNTIME_HOSTTENSOR_H
