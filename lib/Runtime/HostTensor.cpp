//===- HostTensor.cpp - Dense host tensors for running kernels ------------===//
//
/// \file
/// Element conversion goes through double. The 16-bit floats are encoded
/// from the double's bits by one routine parameterized by exponent and
/// mantissa width, so f16 and bf16 round once, to nearest even, with
/// subnormals, overflow to infinity and NaN handled alike. The `.npy` reader
/// parses the header's Python dict literal itself (only the three keys NumPy
/// writes) and checks the data size against the shape before copying.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/HostTensor.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SwapByteOrder.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>
#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

using namespace mlir::attn::runtime;

/// Alignment of tensor storage, in bytes.
static constexpr size_t kAlignment = 64;

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

size_t mlir::attn::runtime::getByteWidth(ElementType type) {
  switch (type) {
  case ElementType::F64:
  case ElementType::I64:
    return 8;
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::F16:
  case ElementType::BF16:
    return 2;
  case ElementType::I1:
  case ElementType::I8:
    return 1;
  }
  llvm_unreachable("unknown element type");
}

llvm::StringRef mlir::attn::runtime::stringify(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  case ElementType::I1:
    return "i1";
  case ElementType::I8:
    return "i8";
  case ElementType::I32:
    return "i32";
  case ElementType::I64:
    return "i64";
  }
  llvm_unreachable("unknown element type");
}

std::optional<ElementType>
mlir::attn::runtime::parseElementType(llvm::StringRef name) {
  for (ElementType type :
       {ElementType::F32, ElementType::F64, ElementType::F16, ElementType::BF16,
        ElementType::I1, ElementType::I8, ElementType::I32, ElementType::I64})
    if (stringify(type) == name)
      return type;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Scalar conversion
//===----------------------------------------------------------------------===//

/// Encodes `value` as a binary float of 1 sign bit, `expBits` exponent bits
/// and `manBits` mantissa bits (at most 16 bits in all), rounding to nearest
/// even.
static uint16_t encodeSmallFloat(double value, unsigned expBits,
                                 unsigned manBits) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  uint16_t sign = static_cast<uint16_t>((bits >> 63) << (expBits + manBits));
  uint64_t exponentField = (bits >> 52) & 0x7ff;
  uint64_t fraction = bits & ((uint64_t(1) << 52) - 1);
  uint16_t expMax = static_cast<uint16_t>((1u << expBits) - 1);
  uint16_t infinity = static_cast<uint16_t>(expMax << manBits);

  if (exponentField == 0x7ff) {
    if (fraction == 0)
      return sign | infinity;
    // A quiet NaN keeping the top payload bits.
    uint16_t payload = static_cast<uint16_t>(fraction >> (52 - manBits));
    return sign | infinity | payload | (1u << (manBits - 1));
  }
  // Double subnormals are far below half the smallest f16/bf16 subnormal.
  if (exponentField == 0)
    return sign;

  int64_t bias = (int64_t(1) << (expBits - 1)) - 1;
  int64_t exponent = static_cast<int64_t>(exponentField) - 1023;
  if (exponent > bias)
    return sign | infinity;

  // The significand with its implicit bit, and how many of its low bits
  // fall below the target's last mantissa bit (more for subnormals).
  uint64_t significand = fraction | (uint64_t(1) << 52);
  int64_t shift = 52 - static_cast<int64_t>(manBits);
  bool isSubnormal = exponent < 1 - bias;
  if (isSubnormal)
    shift += (1 - bias) - exponent;
  // Below half the smallest subnormal: rounds to zero.
  if (shift > 54)
    return sign;

  uint64_t rounded = significand >> shift;
  uint64_t remainder = significand & ((uint64_t(1) << shift) - 1);
  uint64_t half = uint64_t(1) << (shift - 1);
  if (remainder > half || (remainder == half && (rounded & 1)))
    ++rounded;

  // A subnormal that rounds up to the smallest normal carries into the
  // exponent field by itself.
  if (isSubnormal)
    return sign | static_cast<uint16_t>(rounded);
  // `rounded` holds the implicit bit, which adds one to the exponent field;
  // a mantissa that rounds up to 2 carries one further.
  uint64_t encoded =
      (static_cast<uint64_t>(exponent + bias - 1) << manBits) + rounded;
  if (encoded >= infinity)
    return sign | infinity;
  return sign | static_cast<uint16_t>(encoded);
}

/// Decodes a binary float of `expBits` exponent and `manBits` mantissa bits;
/// exact, since double holds every such value.
static double decodeSmallFloat(uint16_t bits, unsigned expBits,
                               unsigned manBits) {
  bool negative = (bits >> (expBits + manBits)) & 1;
  unsigned expMax = (1u << expBits) - 1;
  unsigned exponentField = (bits >> manBits) & expMax;
  unsigned fraction = bits & ((1u << manBits) - 1);
  int bias = (1 << (expBits - 1)) - 1;
  double magnitude;
  if (exponentField == expMax)
    magnitude = fraction ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  else if (exponentField == 0)
    magnitude = std::ldexp(static_cast<double>(fraction),
                           1 - bias - static_cast<int>(manBits));
  else
    magnitude = std::ldexp(static_cast<double>(fraction | (1u << manBits)),
                           static_cast<int>(exponentField) - bias -
                               static_cast<int>(manBits));
  return negative ? -magnitude : magnitude;
}

/// Converts `value` to `T` truncating toward zero and saturating; NaN gives
/// 0.
template <typename T> static T toInteger(double value) {
  if (std::isnan(value))
    return 0;
  // -min is a power of two, exact in a double, unlike max.
  constexpr double lowest = static_cast<double>(std::numeric_limits<T>::min());
  if (value >= -lowest)
    return std::numeric_limits<T>::max();
  if (value <= lowest)
    return std::numeric_limits<T>::min();
  return static_cast<T>(value);
}

/// Reads a `T` at byte offset `index * sizeof(T)` of `data`.
template <typename T> static T load(const uint8_t *data, int64_t index) {
  T value;
  std::memcpy(&value, data + index * sizeof(T), sizeof(T));
  return value;
}

/// Writes a `T` at byte offset `index * sizeof(T)` of `data`.
template <typename T> static void store(uint8_t *data, int64_t index, T value) {
  std::memcpy(data + index * sizeof(T), &value, sizeof(T));
}

//===----------------------------------------------------------------------===//
// HostTensor
//===----------------------------------------------------------------------===//

void HostTensor::AlignedDeleter::operator()(uint8_t *pointer) const {
  std::free(pointer);
}

/// Allocates zeroed, 64-byte aligned storage of at least `bytes` bytes (and
/// at least one alignment unit, so the pointer is never null); null when the
/// allocation fails. std::aligned_alloc, unlike operator new, neither throws
/// nor calls the new-handler LLVM installs, which aborts with "out of
/// memory".
static uint8_t *allocateStorage(size_t bytes) {
  if (bytes > std::numeric_limits<size_t>::max() - kAlignment)
    return nullptr;
  size_t padded = llvm::alignTo(std::max<size_t>(bytes, 1), kAlignment);
  auto *data = static_cast<uint8_t *>(std::aligned_alloc(kAlignment, padded));
  if (data)
    std::memset(data, 0, padded);
  return data;
}

llvm::Expected<int64_t>
mlir::attn::runtime::getNumElements(llvm::ArrayRef<int64_t> shape) {
  for (auto [dim, size] : llvm::enumerate(shape))
    if (size < 0)
      return llvm::createStringError("shape " + formatShape(shape) +
                                     " has negative size " + llvm::Twine(size) +
                                     " in dim " + llvm::Twine(dim));
  // A zero dimension empties the tensor, whatever the others hold.
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t count = 1;
  for (int64_t size : shape)
    if (llvm::MulOverflow(count, size, count))
      return llvm::createStringError(
          "shape " + formatShape(shape) +
          " has more elements than a 64-bit count holds");
  return count;
}

llvm::Expected<int64_t>
mlir::attn::runtime::getSizeInBytes(ElementType type,
                                    llvm::ArrayRef<int64_t> shape) {
  llvm::Expected<int64_t> count = getNumElements(shape);
  if (!count)
    return count.takeError();
  int64_t bytes;
  if (llvm::MulOverflow(*count, static_cast<int64_t>(getByteWidth(type)),
                        bytes))
    return llvm::createStringError(
        "shape " + formatShape(shape) + " of " + stringify(type) + " has " +
        llvm::Twine(*count) +
        " elements, more bytes than a 64-bit count holds");
  return bytes;
}

std::optional<uint64_t> mlir::attn::runtime::getPhysicalMemorySize() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0)
    return static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize);
#endif
  return std::nullopt;
}

std::string mlir::attn::runtime::formatBytes(uint64_t bytes) {
  static constexpr const char *kUnits[] = {"bytes", "KiB", "MiB", "GiB",
                                           "TiB",   "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit + 1 < static_cast<int>(std::size(kUnits))) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0)
    return std::to_string(bytes) + " bytes";
  return llvm::formatv("{0:f1} {1} ({2} bytes)", value, kUnits[unit], bytes)
      .str();
}

llvm::Error mlir::attn::runtime::checkHostMemory(uint64_t bytes,
                                                 const llvm::Twine &what) {
  std::optional<uint64_t> physical = getPhysicalMemorySize();
  if (!physical || bytes <= *physical)
    return llvm::Error::success();
  return llvm::createStringError(what + " needs " + formatBytes(bytes) +
                                 " of host memory, more than this machine's " +
                                 formatBytes(*physical));
}

llvm::Expected<HostTensor> HostTensor::create(ElementType type,
                                              llvm::ArrayRef<int64_t> shape) {
  llvm::Expected<int64_t> bytes =
      mlir::attn::runtime::getSizeInBytes(type, shape);
  if (!bytes)
    return bytes.takeError();
  std::string what = "a tensor of shape " + formatShape(shape) + " of " +
                     stringify(type).str();
  if (llvm::Error error = checkHostMemory(*bytes, what))
    return std::move(error);
  uint8_t *data = allocateStorage(static_cast<size_t>(*bytes));
  if (!data)
    return llvm::createStringError("out of host memory allocating " +
                                   formatBytes(*bytes) + " for " + what);
  HostTensor tensor;
  tensor.elementType = type;
  tensor.shape.assign(shape.begin(), shape.end());
  tensor.numElements =
      llvm::cantFail(mlir::attn::runtime::getNumElements(shape));
  tensor.storage.reset(data);
  return tensor;
}

HostTensor::HostTensor(ElementType type, llvm::ArrayRef<int64_t> shape) {
  llvm::Expected<HostTensor> tensor = create(type, shape);
  if (!tensor)
    llvm::report_fatal_error(llvm::Twine(llvm::toString(tensor.takeError())),
                             /*gen_crash_diag=*/false);
  *this = std::move(*tensor);
}

HostTensor::HostTensor(const HostTensor &other)
    : elementType(other.elementType), shape(other.shape),
      numElements(other.numElements) {
  if (!other.storage)
    return;
  storage.reset(allocateStorage(getSizeInBytes()));
  if (!storage)
    llvm::report_fatal_error("out of host memory copying a tensor of shape " +
                                 llvm::Twine(formatShape(shape)) + " (" +
                                 formatBytes(getSizeInBytes()) + ")",
                             /*gen_crash_diag=*/false);
  std::memcpy(storage.get(), other.storage.get(), getSizeInBytes());
}

HostTensor &HostTensor::operator=(const HostTensor &other) {
  if (this != &other)
    *this = HostTensor(other);
  return *this;
}

HostTensor::HostTensor(HostTensor &&other) noexcept
    : elementType(other.elementType), shape(std::move(other.shape)),
      numElements(other.numElements), storage(std::move(other.storage)) {
  other.shape.clear();
  other.numElements = 0;
}

HostTensor &HostTensor::operator=(HostTensor &&other) noexcept {
  if (this == &other)
    return *this;
  elementType = other.elementType;
  shape = std::move(other.shape);
  numElements = other.numElements;
  storage = std::move(other.storage);
  other.shape.clear();
  other.numElements = 0;
  return *this;
}

llvm::SmallVector<int64_t> HostTensor::getStrides() const {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = getRank() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

double HostTensor::get(int64_t linearIndex) const {
  assert(linearIndex >= 0 && linearIndex < numElements && "index out of range");
  const uint8_t *data = storage.get();
  switch (elementType) {
  case ElementType::F32:
    return load<float>(data, linearIndex);
  case ElementType::F64:
    return load<double>(data, linearIndex);
  case ElementType::F16:
    return decodeSmallFloat(load<uint16_t>(data, linearIndex), 5, 10);
  case ElementType::BF16:
    return decodeSmallFloat(load<uint16_t>(data, linearIndex), 8, 7);
  case ElementType::I1:
    return load<uint8_t>(data, linearIndex) != 0 ? 1.0 : 0.0;
  case ElementType::I8:
    return load<int8_t>(data, linearIndex);
  case ElementType::I32:
    return load<int32_t>(data, linearIndex);
  case ElementType::I64:
    return static_cast<double>(load<int64_t>(data, linearIndex));
  }
  llvm_unreachable("unknown element type");
}

void HostTensor::set(int64_t linearIndex, double value) {
  assert(linearIndex >= 0 && linearIndex < numElements && "index out of range");
  uint8_t *data = storage.get();
  switch (elementType) {
  case ElementType::F32:
    return store<float>(data, linearIndex, static_cast<float>(value));
  case ElementType::F64:
    return store<double>(data, linearIndex, value);
  case ElementType::F16:
    return store<uint16_t>(data, linearIndex, encodeSmallFloat(value, 5, 10));
  case ElementType::BF16:
    return store<uint16_t>(data, linearIndex, encodeSmallFloat(value, 8, 7));
  case ElementType::I1:
    return store<uint8_t>(data, linearIndex, value != 0.0 ? 1 : 0);
  case ElementType::I8:
    return store<int8_t>(data, linearIndex, toInteger<int8_t>(value));
  case ElementType::I32:
    return store<int32_t>(data, linearIndex, toInteger<int32_t>(value));
  case ElementType::I64:
    return store<int64_t>(data, linearIndex, toInteger<int64_t>(value));
  }
  llvm_unreachable("unknown element type");
}

HostTensor HostTensor::convertTo(ElementType type) const {
  if (type == elementType)
    return *this;
  HostTensor result(type, shape);
  for (int64_t i = 0; i < numElements; ++i)
    result.set(i, get(i));
  return result;
}

llvm::SmallVector<int64_t> HostTensor::getMemRefDescriptor() {
  auto pointer = static_cast<int64_t>(reinterpret_cast<intptr_t>(getData()));
  llvm::SmallVector<int64_t> descriptor = {pointer, pointer, /*offset=*/0};
  llvm::append_range(descriptor, shape);
  llvm::append_range(descriptor, getStrides());
  return descriptor;
}

//===----------------------------------------------------------------------===//
// .npy files
//===----------------------------------------------------------------------===//

static constexpr char kNpyMagic[] = "\x93NUMPY";
static constexpr size_t kNpyMagicSize = 6;

/// Returns the NumPy dtype string of `type` ('<f4', '|b1', ...); BF16 has
/// none.
static std::optional<llvm::StringRef> getNpyDescr(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return llvm::StringRef("<f4");
  case ElementType::F64:
    return llvm::StringRef("<f8");
  case ElementType::F16:
    return llvm::StringRef("<f2");
  case ElementType::I1:
    return llvm::StringRef("|b1");
  case ElementType::I8:
    return llvm::StringRef("|i1");
  case ElementType::I32:
    return llvm::StringRef("<i4");
  case ElementType::I64:
    return llvm::StringRef("<i8");
  case ElementType::BF16:
    return std::nullopt;
  }
  llvm_unreachable("unknown element type");
}

/// Maps a NumPy dtype string to an element type; std::nullopt if
/// unsupported. Single-byte types accept any byte order mark.
static std::optional<ElementType> parseNpyDescr(llvm::StringRef descr) {
  if (descr.size() != 3)
    return std::nullopt;
  char order = descr[0];
  llvm::StringRef code = descr.drop_front();
  if (!llvm::StringRef("<>|=").contains(order))
    return std::nullopt;
  if (code == "b1")
    return ElementType::I1;
  if (code == "i1")
    return ElementType::I8;
  // '=' is native order; the storage is little endian only on such hosts.
  bool isLittle =
      order == '<' || (order == '=' && llvm::sys::IsLittleEndianHost);
  if (!isLittle)
    return std::nullopt;
  return llvm::StringSwitch<std::optional<ElementType>>(code)
      .Case("f4", ElementType::F32)
      .Case("f8", ElementType::F64)
      .Case("f2", ElementType::F16)
      .Case("i4", ElementType::I32)
      .Case("i8", ElementType::I64)
      .Default(std::nullopt);
}

/// Reverses the bytes of every element of `bytes` in place.
static void swapElementBytes(llvm::MutableArrayRef<uint8_t> bytes,
                             size_t width) {
  if (width == 1)
    return;
  for (size_t i = 0; i + width <= bytes.size(); i += width)
    std::reverse(bytes.begin() + i, bytes.begin() + i + width);
}

namespace {
/// The fields of a `.npy` header.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  llvm::SmallVector<int64_t> shape;
};

/// Parses the Python dict literal of a `.npy` header, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
class NpyHeaderParser {
public:
  explicit NpyHeaderParser(llvm::StringRef text) : rest(text) {}

  /// Parses the whole header; the error says what is malformed.
  llvm::Expected<NpyHeader> parse() {
    NpyHeader header;
    bool seenDescr = false, seenOrder = false, seenShape = false;
    if (!consume('{'))
      return fail("expected '{'");
    while (!consume('}')) {
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key");
      if (!consume(':'))
        return fail("expected ':' after '" + key + "'");
      if (key == "descr") {
        if (!parseString(header.descr))
          return fail("'descr' must be a string (structured dtypes are not "
                      "supported)");
        seenDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(header.fortranOrder))
          return fail("'fortran_order' must be True or False");
        seenOrder = true;
      } else if (key == "shape") {
        if (llvm::Error error = parseShape(header.shape))
          return std::move(error);
        seenShape = true;
      } else {
        return fail("unknown key '" + key + "'");
      }
      // Entries are separated by commas; one may trail the last.
      if (!consume(',') && !peek('}'))
        return fail("expected ',' or '}'");
    }
    if (!rest.trim().empty())
      return fail("unexpected text after '}'");
    if (!seenDescr || !seenOrder || !seenShape)
      return fail("missing 'descr', 'fortran_order' or 'shape'");
    return header;
  }

private:
  llvm::Error fail(const llvm::Twine &what) {
    return llvm::createStringError("malformed header: " + what);
  }

  /// Consumes leading whitespace and then `c` if it comes next.
  bool consume(char c) {
    rest = rest.ltrim();
    return rest.consume_front(llvm::StringRef(&c, 1));
  }

  bool peek(char c) {
    rest = rest.ltrim();
    return rest.starts_with(llvm::StringRef(&c, 1));
  }

  /// Parses a Python string literal in single or double quotes, without
  /// escapes.
  bool parseString(std::string &value) {
    rest = rest.ltrim();
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return false;
    char quote = rest.front();
    size_t end = rest.find(quote, 1);
    if (end == llvm::StringRef::npos)
      return false;
    value = rest.slice(1, end).str();
    rest = rest.drop_front(end + 1);
    return true;
  }

  bool parseBool(bool &value) {
    rest = rest.ltrim();
    if (rest.consume_front("True")) {
      value = true;
      return true;
    }
    if (rest.consume_front("False")) {
      value = false;
      return true;
    }
    return false;
  }

  /// Parses a tuple of non-negative integers: `()`, `(5,)`, `(2, 3)`.
  llvm::Error parseShape(llvm::SmallVectorImpl<int64_t> &shape) {
    if (!consume('('))
      return fail("'shape' must be a tuple");
    while (!consume(')')) {
      rest = rest.ltrim();
      uint64_t size;
      if (rest.consumeInteger(/*Radix=*/10, size))
        return fail("'shape' must hold non-negative integers");
      if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return fail("dimension " + llvm::Twine(size) + " is too large");
      // Python 2 wrote long integers with a suffix.
      rest.consume_front("L");
      shape.push_back(static_cast<int64_t>(size));
      if (!consume(',') && !peek(')'))
        return fail("expected ',' or ')' in 'shape'");
    }
    return llvm::Error::success();
  }

  llvm::StringRef rest;
};
} // namespace

/// Prefixes `what` with the file it is about.
static llvm::Error fileError(llvm::StringRef path, const llvm::Twine &what) {
  return llvm::createStringError(llvm::Twine(path) + ": " + what);
}

llvm::Expected<HostTensor> mlir::attn::runtime::readNpy(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bufferOrError =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!bufferOrError)
    return fileError(path,
                     "cannot open: " + bufferOrError.getError().message());
  llvm::StringRef contents = (*bufferOrError)->getBuffer();

  if (contents.size() < kNpyMagicSize ||
      !contents.starts_with(llvm::StringRef(kNpyMagic, kNpyMagicSize)))
    return fileError(path, "not a .npy file (bad magic)");
  if (contents.size() < kNpyMagicSize + 2)
    return fileError(path, "truncated header");
  unsigned major = static_cast<uint8_t>(contents[kNpyMagicSize]);
  unsigned minor = static_cast<uint8_t>(contents[kNpyMagicSize + 1]);
  // 3.0 is 2.0 with a UTF-8 header; the keys and values this reader accepts
  // are ASCII either way.
  if (major < 1 || major > 3 || minor != 0)
    return fileError(path, ".npy format version " + llvm::Twine(major) + "." +
                               llvm::Twine(minor) +
                               " is not supported (1.0, 2.0 and 3.0 are)");

  // Version 1.0 stores the header length in 2 bytes, versions 2.0 and 3.0
  // in 4.
  size_t lengthSize = major == 1 ? 2 : 4;
  size_t prefixSize = kNpyMagicSize + 2 + lengthSize;
  if (contents.size() < prefixSize)
    return fileError(path, "truncated header: the file ends within its " +
                               llvm::Twine(prefixSize) + "-byte prefix");
  const char *lengthBytes = contents.data() + kNpyMagicSize + 2;
  size_t headerSize =
      major == 1
          ? llvm::support::endian::read16le(lengthBytes)
          : static_cast<size_t>(llvm::support::endian::read32le(lengthBytes));
  if (contents.size() - prefixSize < headerSize)
    return fileError(path, "truncated header: expected " +
                               llvm::Twine(headerSize) + " bytes, found " +
                               llvm::Twine(contents.size() - prefixSize));

  llvm::StringRef headerText = contents.substr(prefixSize, headerSize);
  llvm::Expected<NpyHeader> header = NpyHeaderParser(headerText).parse();
  if (!header)
    return fileError(path, llvm::toString(header.takeError()));

  std::optional<ElementType> type = parseNpyDescr(header->descr);
  if (!type)
    return fileError(path, "unsupported dtype '" + header->descr +
                               "' (expected one of <f4, <f8, <f2, |b1, |i1, "
                               "<i4, <i8)");
  // Fortran order only differs from C order with two dimensions above 1.
  if (header->fortranOrder &&
      llvm::count_if(header->shape, [](int64_t size) { return size > 1; }) > 1)
    return fileError(path, "Fortran-order arrays are not supported; save a "
                           "C-contiguous array (np.ascontiguousarray)");

  // The parser admits only non-negative dimensions; the product is checked.
  size_t width = getByteWidth(*type);
  llvm::Expected<int64_t> dataSizeOrError =
      getSizeInBytes(*type, header->shape);
  if (!dataSizeOrError)
    return fileError(path, llvm::toString(dataSizeOrError.takeError()));
  int64_t dataSize = *dataSizeOrError;

  size_t dataOffset = prefixSize + headerSize;
  auto available = static_cast<int64_t>(contents.size() - dataOffset);
  if (available < dataSize)
    return fileError(
        path, "truncated data: shape " + formatShape(header->shape) + " of '" +
                  header->descr + "' needs " + llvm::Twine(dataSize) +
                  " bytes, found " + llvm::Twine(available));
  if (available > dataSize)
    return fileError(path, llvm::Twine(available - dataSize) +
                               " unexpected bytes after the data of shape " +
                               formatShape(header->shape) + " of '" +
                               header->descr + "'");

  // The file holds every byte, so this cannot ask for more than the file's
  // size; it may still fail on a machine short of memory.
  llvm::Expected<HostTensor> tensorOrError =
      HostTensor::create(*type, header->shape);
  if (!tensorOrError)
    return fileError(path, llvm::toString(tensorOrError.takeError()));
  HostTensor tensor = std::move(*tensorOrError);
  auto *data = static_cast<uint8_t *>(tensor.getData());
  std::memcpy(data, contents.data() + dataOffset, dataSize);
  if (llvm::sys::IsBigEndianHost)
    swapElementBytes({data, static_cast<size_t>(dataSize)}, width);
  // NumPy bools are 0 or 1; keep a stray byte from reading as another value.
  if (*type == ElementType::I1)
    for (int64_t i = 0; i < dataSize; ++i)
      data[i] = data[i] != 0;
  return tensor;
}

/// Formats a shape as a Python tuple: "()", "(5,)", "(2, 3)".
static std::string formatNpyShape(llvm::ArrayRef<int64_t> shape) {
  if (shape.size() == 1)
    return "(" + std::to_string(shape.front()) + ",)";
  std::string text = "(";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os);
  os << ")";
  return text;
}

llvm::Error mlir::attn::runtime::writeNpy(llvm::StringRef path,
                                          const HostTensor &tensor) {
  // NumPy has no bf16; every bf16 value is exact in f32.
  if (tensor.getElementType() == ElementType::BF16)
    return writeNpy(path, tensor.convertTo(ElementType::F32));
  llvm::StringRef descr = *getNpyDescr(tensor.getElementType());

  std::string header =
      ("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
       formatNpyShape(tensor.getShape()) + ", }")
          .str();
  // Pad with spaces and a final newline so the data starts 64-byte aligned,
  // as NumPy does; fall back to version 2.0 if the length needs 4 bytes.
  unsigned major = 1;
  size_t prefixSize = kNpyMagicSize + 2 + 2;
  size_t headerSize =
      llvm::alignTo(prefixSize + header.size() + 1, 64) - prefixSize;
  if (headerSize > std::numeric_limits<uint16_t>::max()) {
    major = 2;
    prefixSize = kNpyMagicSize + 2 + 4;
    headerSize = llvm::alignTo(prefixSize + header.size() + 1, 64) - prefixSize;
  }
  header.resize(headerSize - 1, ' ');
  header.push_back('\n');

  std::error_code errorCode;
  llvm::raw_fd_ostream os(path, errorCode, llvm::sys::fs::OF_None);
  if (errorCode)
    return fileError(path, "cannot open for writing: " + errorCode.message());
  os.write(kNpyMagic, kNpyMagicSize);
  os << static_cast<char>(major) << '\0';
  if (major == 1)
    llvm::support::endian::write<uint16_t>(os, headerSize,
                                           llvm::endianness::little);
  else
    llvm::support::endian::write<uint32_t>(os, headerSize,
                                           llvm::endianness::little);
  os << header;

  const auto *data = static_cast<const uint8_t *>(tensor.getData());
  size_t dataSize = tensor.getSizeInBytes();
  if (llvm::sys::IsBigEndianHost) {
    std::vector<uint8_t> swapped(data, data + dataSize);
    swapElementBytes(swapped, getByteWidth(tensor.getElementType()));
    os.write(reinterpret_cast<const char *>(swapped.data()), dataSize);
  } else if (dataSize) {
    os.write(reinterpret_cast<const char *>(data), dataSize);
  }
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    os.clear_error();
    return fileError(path, "write failed: " + message);
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Random fills
//===----------------------------------------------------------------------===//

namespace {
/// xoshiro256** (Blackman and Vigna), its state seeded by splitmix64 as its
/// authors recommend. Only integer arithmetic and exact scaling, so the
/// stream is the same everywhere.
class RandomStream {
public:
  explicit RandomStream(uint64_t seed) {
    for (uint64_t &word : state)
      word = splitMix64(seed);
  }

  uint64_t next() {
    uint64_t result = rotateLeft(state[1] * 5, 7) * 9;
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotateLeft(state[3], 45);
    return result;
  }

  /// Returns a double in [0, 1) from the top 53 bits of a word.
  double nextUniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }

  /// Returns a double in (0, 1], safe to take the logarithm of.
  double nextUniformNonZero() {
    return static_cast<double>((next() >> 11) + 1) * 0x1p-53;
  }

private:
  static uint64_t rotateLeft(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
  }

  static uint64_t splitMix64(uint64_t &x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state[4];
};
} // namespace

void mlir::attn::runtime::fillNormal(HostTensor &tensor, uint64_t seed,
                                     double mean, double stddev) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  RandomStream stream(seed);
  int64_t numElements = tensor.getNumElements();
  // Box-Muller turns two uniforms into two independent normals.
  for (int64_t i = 0; i < numElements; i += 2) {
    double radius = std::sqrt(-2.0 * std::log(stream.nextUniformNonZero()));
    double angle = kTwoPi * stream.nextUniform();
    tensor.set(i, mean + stddev * (radius * std::cos(angle)));
    if (i + 1 < numElements)
      tensor.set(i + 1, mean + stddev * (radius * std::sin(angle)));
  }
}

void mlir::attn::runtime::fillUniform(HostTensor &tensor, uint64_t seed,
                                      double low, double high) {
  RandomStream stream(seed);
  double width = high - low;
  for (int64_t i = 0, e = tensor.getNumElements(); i < e; ++i)
    tensor.set(i, low + width * stream.nextUniform());
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

llvm::Expected<Comparison>
mlir::attn::runtime::compare(const HostTensor &actual,
                             const HostTensor &reference) {
  if (actual.getShape() != reference.getShape())
    return llvm::createStringError(
        "shape mismatch: actual " + formatShape(actual.getShape()) +
        " vs reference " + formatShape(reference.getShape()));
  Comparison result;
  for (int64_t i = 0, e = actual.getNumElements(); i < e; ++i) {
    double a = actual.get(i), r = reference.get(i);
    if (std::isfinite(r))
      result.maxReferenceMagnitude =
          std::max(result.maxReferenceMagnitude, std::abs(r));
    if (std::isfinite(a) && std::isfinite(r)) {
      ++result.comparedFinite;
      double error = std::abs(a - r);
      if (result.worstIndex < 0 || error > result.maxAbsError) {
        result.maxAbsError = error;
        result.worstIndex = i;
      }
      continue;
    }
    // Two NaNs match, as do two infinities of one sign.
    if (std::isnan(a) && std::isnan(r)) {
      ++result.matchedNaN;
      continue;
    }
    if (a != r && result.mismatchedNonFinite++ == 0)
      result.firstMismatch = i;
  }
  if (result.mismatchedNonFinite)
    result.maxRelError = std::numeric_limits<double>::infinity();
  else if (result.matchedNaN && !result.comparedFinite)
    result.maxRelError = std::numeric_limits<double>::quiet_NaN();
  else
    result.maxRelError =
        result.maxAbsError / std::max(result.maxReferenceMagnitude,
                                      std::numeric_limits<double>::min());
  return result;
}

std::string mlir::attn::runtime::formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os);
  os << "]";
  return text;
}

std::string mlir::attn::runtime::formatPosition(llvm::ArrayRef<int64_t> shape,
                                                int64_t linearIndex) {
  llvm::SmallVector<int64_t> position(shape.size());
  for (int64_t dim = static_cast<int64_t>(shape.size()) - 1; dim >= 0; --dim) {
    int64_t size = std::max<int64_t>(shape[dim], 1);
    position[dim] = linearIndex % size;
    linearIndex /= size;
  }
  return formatShape(position);
}
