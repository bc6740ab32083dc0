//===- HostTensorTest.cpp - Host tensors, .npy files, fills, comparison ---===//
//
/// \file
/// Checks the host tensor library `attn-run` uses: f16/bf16 encoding and its
/// rounding, integer and i1 conversion, deep copies, `.npy` round trips and
/// hand-made files (accepted and rejected), deterministic fills and their
/// statistics, comparison with NaNs and infinities, and the memref descriptor
/// layout.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/HostTensor.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir::attn::runtime;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Returns the raw 16 bits of element `index` of an f16 or bf16 tensor.
uint16_t rawBits16(const HostTensor &tensor, int64_t index) {
  uint16_t bits;
  std::memcpy(&bits, static_cast<const uint8_t *>(tensor.getData()) + 2 * index,
              2);
  return bits;
}

/// Stores `value` in a one-element tensor of `type` and reads it back.
double roundTrip(ElementType type, double value) {
  HostTensor tensor(type, {1});
  tensor.set(0, value);
  return tensor.get(0);
}

/// Returns the value in `expected`, failing the test on an error.
template <typename T> T unwrap(llvm::Expected<T> expected) {
  if (!expected) {
    ADD_FAILURE() << llvm::toString(expected.takeError());
    return T();
  }
  return std::move(*expected);
}

/// Returns the error message of `expected`, failing the test on success.
template <typename T> std::string errorMessage(llvm::Expected<T> expected) {
  if (expected) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(expected.takeError());
}

/// A fixture with a fresh temporary directory.
class HostTensorFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("attn-host-tensor", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string pathTo(llvm::StringRef name) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  /// Writes a .npy file of version `major`.0 with `header` (padded here so
  /// the data is 64-byte aligned) followed by `data`.
  std::string writeRawNpy(llvm::StringRef name, unsigned major,
                          std::string header, llvm::StringRef data) {
    size_t prefixSize = major == 1 ? 10 : 12;
    while ((prefixSize + header.size() + 1) % 64)
      header.push_back(' ');
    header.push_back('\n');
    std::string bytes = "\x93NUMPY";
    bytes.push_back(static_cast<char>(major));
    bytes.push_back('\0');
    uint32_t length = header.size();
    for (size_t i = 0; i < prefixSize - 8; ++i)
      bytes.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
    bytes += header;
    bytes += data.str();
    std::string path = pathTo(name);
    std::error_code errorCode;
    llvm::raw_fd_ostream os(path, errorCode);
    EXPECT_FALSE(errorCode) << errorCode.message();
    os << bytes;
    return path;
  }

  llvm::SmallString<128> dir;
};

TEST(HostTensorTest, ElementTypes) {
  EXPECT_EQ(getByteWidth(ElementType::F64), 8u);
  EXPECT_EQ(getByteWidth(ElementType::BF16), 2u);
  EXPECT_EQ(getByteWidth(ElementType::I1), 1u);
  EXPECT_EQ(getByteWidth(ElementType::I32), 4u);
  EXPECT_EQ(stringify(ElementType::BF16), "bf16");
  EXPECT_EQ(stringify(ElementType::I1), "i1");
  for (ElementType type :
       {ElementType::F32, ElementType::F64, ElementType::F16, ElementType::BF16,
        ElementType::I1, ElementType::I8, ElementType::I32, ElementType::I64})
    EXPECT_EQ(parseElementType(stringify(type)), type);
  EXPECT_FALSE(parseElementType("f8"));
}

TEST(HostTensorTest, ConstructionIsZeroFilledAndRowMajor) {
  HostTensor tensor(ElementType::F16, {2, 3, 4});
  EXPECT_EQ(tensor.getRank(), 3);
  EXPECT_EQ(tensor.getNumElements(), 24);
  EXPECT_EQ(tensor.getSizeInBytes(), 48u);
  EXPECT_EQ(tensor.getStrides(), (llvm::SmallVector<int64_t>{12, 4, 1}));
  for (int64_t i = 0; i < tensor.getNumElements(); ++i)
    EXPECT_EQ(tensor.get(i), 0.0);

  HostTensor scalar(ElementType::I32, {});
  EXPECT_EQ(scalar.getRank(), 0);
  EXPECT_EQ(scalar.getNumElements(), 1);
  EXPECT_TRUE(HostTensor().getShape().empty());
  EXPECT_EQ(HostTensor().getNumElements(), 0);
}

TEST(HostTensorTest, HalfFloatsRoundTripRepresentableValues) {
  // Normal, subnormal, extreme and special values of each format.
  for (double value : {0.0, 1.0, -2.5, 0.333251953125, 65504.0, -0x1p-14,
                       0x1p-24, 3 * 0x1p-24, kInf, -kInf})
    EXPECT_EQ(roundTrip(ElementType::F16, value), value) << value;
  for (double value : {0.0, 1.0, -3.140625, 0x1.fep127, 0x1p-126, 0x1p-133,
                       -5 * 0x1p-133, kInf, -kInf})
    EXPECT_EQ(roundTrip(ElementType::BF16, value), value) << value;
  EXPECT_TRUE(std::isnan(roundTrip(ElementType::F16, kNaN)));
  EXPECT_TRUE(std::isnan(roundTrip(ElementType::BF16, kNaN)));
  EXPECT_TRUE(std::signbit(roundTrip(ElementType::BF16, -0.0)));

  // Known encodings.
  HostTensor half(ElementType::F16, {3});
  half.set(0, 1.0);
  half.set(1, -2.0);
  half.set(2, 65504.0);
  EXPECT_EQ(rawBits16(half, 0), 0x3c00);
  EXPECT_EQ(rawBits16(half, 1), 0xc000);
  EXPECT_EQ(rawBits16(half, 2), 0x7bff);
  HostTensor brain(ElementType::BF16, {2});
  brain.set(0, 1.0);
  brain.set(1, -3.140625);
  EXPECT_EQ(rawBits16(brain, 0), 0x3f80);
  EXPECT_EQ(rawBits16(brain, 1), 0xc049);
}

TEST(HostTensorTest, HalfFloatsRoundToNearestEven) {
  // f16 has 10 mantissa bits: 1 + 2^-11 is halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(roundTrip(ElementType::F16, 1 + 0x1p-11), 1.0);
  EXPECT_EQ(roundTrip(ElementType::F16, 1 + 3 * 0x1p-11), 1 + 0x1p-9);
  EXPECT_EQ(roundTrip(ElementType::F16, 1 + 0x1p-11 + 0x1p-30), 1 + 0x1p-10);
  EXPECT_EQ(roundTrip(ElementType::F16, -(1 + 0x1p-11)), -1.0);
  // Subnormal halfway cases and overflow.
  EXPECT_EQ(roundTrip(ElementType::F16, 0x1p-25), 0.0);
  EXPECT_EQ(roundTrip(ElementType::F16, 3 * 0x1p-25), 0x1p-23);
  EXPECT_EQ(roundTrip(ElementType::F16, 65519.0), 65504.0);
  EXPECT_EQ(roundTrip(ElementType::F16, 65520.0), kInf);
  // bf16 has 7 mantissa bits.
  EXPECT_EQ(roundTrip(ElementType::BF16, 1 + 0x1p-8), 1.0);
  EXPECT_EQ(roundTrip(ElementType::BF16, 1 + 3 * 0x1p-8), 1 + 0x1p-6);
  // Rounding once from the double: going through f32 would drop 2^-40 and
  // then round the tie down to 1.
  EXPECT_EQ(roundTrip(ElementType::BF16, 1 + 0x1p-8 + 0x1p-40), 1 + 0x1p-7);
  EXPECT_EQ(roundTrip(ElementType::BF16, 0x1.ffp127), kInf);
}

TEST(HostTensorTest, IntegerAndBoolConversion) {
  EXPECT_EQ(roundTrip(ElementType::I32, 2.7), 2.0);
  EXPECT_EQ(roundTrip(ElementType::I32, -2.7), -2.0);
  EXPECT_EQ(roundTrip(ElementType::I8, 300.0), 127.0);
  EXPECT_EQ(roundTrip(ElementType::I8, -300.0), -128.0);
  EXPECT_EQ(roundTrip(ElementType::I8, kNaN), 0.0);
  EXPECT_EQ(roundTrip(ElementType::I64, 1e30),
            static_cast<double>(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(roundTrip(ElementType::I64, -0x1p40 - 0.5), -0x1p40);
  EXPECT_EQ(roundTrip(ElementType::I1, 0.25), 1.0);
  EXPECT_EQ(roundTrip(ElementType::I1, -3.0), 1.0);
  EXPECT_EQ(roundTrip(ElementType::I1, -0.0), 0.0);
  HostTensor flag(ElementType::I1, {1});
  flag.set(0, 5.0);
  EXPECT_EQ(*static_cast<const uint8_t *>(flag.getData()), 1);
}

TEST(HostTensorTest, CopiesAreDeepAndConvertToConverts) {
  HostTensor original(ElementType::F32, {4});
  for (int64_t i = 0; i < 4; ++i)
    original.set(i, 1.5 * i);
  HostTensor copy = original;
  EXPECT_NE(copy.getData(), original.getData());
  copy.set(0, 42.0);
  EXPECT_EQ(original.get(0), 0.0);
  HostTensor assigned;
  assigned = original;
  EXPECT_EQ(assigned.get(3), 4.5);

  HostTensor moved = std::move(copy);
  EXPECT_EQ(moved.get(0), 42.0);
  EXPECT_EQ(copy.getNumElements(), 0);

  HostTensor converted = original.convertTo(ElementType::I32);
  EXPECT_EQ(converted.getElementType(), ElementType::I32);
  EXPECT_EQ(converted.getShape(), original.getShape());
  EXPECT_EQ(converted.get(3), 4.0);
  EXPECT_EQ(original.convertTo(ElementType::BF16).get(1), 1.5);
}

TEST_F(HostTensorFileTest, NpyRoundTripsEveryType) {
  struct Case {
    ElementType type;
    llvm::SmallVector<int64_t> shape;
  };
  Case cases[] = {{ElementType::F32, {2, 3, 4}},
                  {ElementType::F64, {5}},
                  {ElementType::F16, {3, 2}},
                  {ElementType::I1, {7}},
                  {ElementType::I8, {2, 2}},
                  {ElementType::I32, {1, 4, 3}},
                  {ElementType::I64, {}},
                  {ElementType::F32, {2, 0, 3}},
                  {ElementType::F32, {1, 2, 3, 4, 5}}};
  int fileIndex = 0;
  for (const Case &c : cases) {
    HostTensor tensor(c.type, c.shape);
    fillUniform(tensor, /*seed=*/fileIndex, -100.0, 100.0);
    std::string path = pathTo("t" + std::to_string(fileIndex++) + ".npy");
    ASSERT_FALSE(bool(writeNpy(path, tensor)));
    // NumPy puts the data at a multiple of 64 bytes.
    uint64_t fileSize;
    ASSERT_FALSE(llvm::sys::fs::file_size(path, fileSize));
    EXPECT_EQ((fileSize - tensor.getSizeInBytes()) % 64, 0u);

    HostTensor read = unwrap(readNpy(path));
    EXPECT_EQ(read.getElementType(), c.type) << stringify(c.type).str();
    EXPECT_EQ(read.getShape(), tensor.getShape()) << formatShape(c.shape);
    ASSERT_EQ(read.getSizeInBytes(), tensor.getSizeInBytes());
    EXPECT_EQ(
        std::memcmp(read.getData(), tensor.getData(), tensor.getSizeInBytes()),
        0)
        << stringify(c.type).str() << " " << formatShape(c.shape);
  }
}

TEST_F(HostTensorFileTest, NpyWritesBF16AsF32) {
  HostTensor tensor(ElementType::BF16, {2, 3});
  fillNormal(tensor, /*seed=*/7);
  std::string path = pathTo("bf16.npy");
  ASSERT_FALSE(bool(writeNpy(path, tensor)));
  HostTensor read = unwrap(readNpy(path));
  EXPECT_EQ(read.getElementType(), ElementType::F32);
  ASSERT_EQ(read.getNumElements(), 6);
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(read.get(i), tensor.get(i));
}

TEST_F(HostTensorFileTest, ReadsHandMadeNpyHeaders) {
  float values[] = {1.0f, -2.0f, 3.5f, 0.0f, 1e-3f, -7.25f};
  llvm::StringRef data(reinterpret_cast<const char *>(values), sizeof(values));
  std::string v1 = writeRawNpy(
      "v1.npy", 1,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data);
  HostTensor tensor = unwrap(readNpy(v1));
  EXPECT_EQ(tensor.getElementType(), ElementType::F32);
  EXPECT_EQ(tensor.getShape(), (llvm::ArrayRef<int64_t>{2, 3}));
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(tensor.get(i), static_cast<double>(values[i]));

  // Version 2.0, keys in another order, no trailing comma, fortran order on
  // a shape where it is the same as C order.
  std::string v2 =
      writeRawNpy("v2.npy", 2,
                  "{\"shape\": (6,), \"fortran_order\": True, \"descr\": "
                  "\"<f4\"}",
                  data);
  HostTensor flat = unwrap(readNpy(v2));
  EXPECT_EQ(flat.getShape(), (llvm::ArrayRef<int64_t>{6}));
  EXPECT_EQ(flat.get(5), -7.25);
}

TEST_F(HostTensorFileTest, RejectsMalformedNpyFiles) {
  std::string floats(24, '\0');
  std::string fortran = writeRawNpy(
      "fortran.npy", 1,
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats);
  std::string message = errorMessage(readNpy(fortran));
  EXPECT_NE(message.find(fortran), std::string::npos) << message;
  EXPECT_NE(message.find("Fortran-order"), std::string::npos) << message;

  std::string truncated =
      writeRawNpy("truncated.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                  llvm::StringRef(floats).drop_back(3));
  message = errorMessage(readNpy(truncated));
  EXPECT_NE(message.find(truncated), std::string::npos) << message;
  EXPECT_NE(message.find("truncated data"), std::string::npos) << message;
  EXPECT_NE(message.find("needs 24 bytes, found 21"), std::string::npos)
      << message;

  std::string dtype = writeRawNpy(
      "dtype.npy", 1,
      "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", floats);
  message = errorMessage(readNpy(dtype));
  EXPECT_NE(message.find("unsupported dtype '>f4'"), std::string::npos)
      << message;

  std::string badMagic = pathTo("bad.npy");
  {
    std::error_code errorCode;
    llvm::raw_fd_ostream os(badMagic, errorCode);
    os << "PK\x03\x04 not numpy";
  }
  message = errorMessage(readNpy(badMagic));
  EXPECT_NE(message.find("bad magic"), std::string::npos) << message;

  std::string header = writeRawNpy(
      "header.npy", 1,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", floats);
  message = errorMessage(readNpy(header));
  EXPECT_NE(message.find("malformed header"), std::string::npos) << message;

  message = errorMessage(readNpy(pathTo("missing.npy")));
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST_F(HostTensorFileTest, NpyVersionsAndHeaderLimits) {
  std::string floats(24, '\0');
  // Version 3.0 is 2.0 with a UTF-8 header.
  std::string v3 = writeRawNpy(
      "v3.npy", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
      floats);
  EXPECT_EQ(unwrap(readNpy(v3)).getShape(), (llvm::ArrayRef<int64_t>{6}));

  // The version is printed as numbers, whatever its bytes.
  std::string v4 = writeRawNpy(
      "v4.npy", 4, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
      floats);
  EXPECT_EQ(errorMessage(readNpy(v4)),
            v4 + ": .npy format version 4.0 is not supported (1.0, 2.0 and "
                 "3.0 are)");
  std::string raw = pathTo("v255.npy");
  {
    std::error_code errorCode;
    llvm::raw_fd_ostream os(raw, errorCode);
    os << "\x93NUMPY" << '\xff' << '\x07' << "rest";
  }
  EXPECT_EQ(errorMessage(readNpy(raw)),
            raw + ": .npy format version 255.7 is not supported (1.0, 2.0 "
                  "and 3.0 are)");

  // A file that ends inside its length field, or before its header does.
  std::string prefix = pathTo("prefix.npy");
  {
    std::error_code errorCode;
    llvm::raw_fd_ostream os(prefix, errorCode);
    os << "\x93NUMPY" << '\x02' << '\0' << "\x10\x00";
  }
  EXPECT_EQ(errorMessage(readNpy(prefix)),
            prefix + ": truncated header: the file ends within its 12-byte "
                     "prefix");
  std::string longHeader = pathTo("long.npy");
  {
    std::error_code errorCode;
    llvm::raw_fd_ostream os(longHeader, errorCode);
    os << "\x93NUMPY" << '\x02' << '\0' << "\xff\xff\xff\xff{'descr'";
  }
  EXPECT_EQ(errorMessage(readNpy(longHeader)),
            longHeader + ": truncated header: expected 4294967295 bytes, "
                         "found 8");

  // Dimensions whose product (or byte count) overflows, and one beyond
  // int64_t, are refused before anything is allocated.
  std::string product = writeRawNpy(
      "product.npy", 1,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
      "4294967296), }",
      floats);
  EXPECT_EQ(errorMessage(readNpy(product)),
            product + ": shape [4294967296, 4294967296] has more elements "
                      "than a 64-bit count holds");
  std::string bytes =
      writeRawNpy("bytes.npy", 1,
                  "{'descr': '<f8', 'fortran_order': False, 'shape': "
                  "(4611686018427387904,), }",
                  floats);
  EXPECT_EQ(errorMessage(readNpy(bytes)),
            bytes + ": shape [4611686018427387904] of f64 has "
                    "4611686018427387904 elements, more bytes than a 64-bit "
                    "count holds");
  std::string huge =
      writeRawNpy("huge.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': "
                  "(18446744073709551615,), }",
                  floats);
  EXPECT_EQ(errorMessage(readNpy(huge)),
            huge + ": malformed header: dimension 18446744073709551615 is too "
                   "large");
  // A huge shape the file does not hold.
  std::string missing = writeRawNpy(
      "missing-data.npy", 1,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }",
      floats);
  EXPECT_EQ(errorMessage(readNpy(missing)),
            missing + ": truncated data: shape [1099511627776] of '<f4' needs "
                      "4398046511104 bytes, found 24");
  // A zero dimension empties the tensor whatever the others hold.
  std::string empty =
      writeRawNpy("empty.npy", 1,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (0, "
                  "9223372036854775807), }",
                  "");
  EXPECT_EQ(unwrap(readNpy(empty)).getNumElements(), 0);
}

TEST(HostTensorTest, SizesAreChecked) {
  EXPECT_EQ(unwrap(getNumElements({2, 3, 4})), 24);
  EXPECT_EQ(unwrap(getNumElements({})), 1);
  EXPECT_EQ(unwrap(getNumElements({0, int64_t(1) << 62, int64_t(1) << 62})), 0);
  EXPECT_EQ(errorMessage(getNumElements({2, -3})),
            "shape [2, -3] has negative size -3 in dim 1");
  EXPECT_EQ(errorMessage(getNumElements({int64_t(1) << 40, int64_t(1) << 40})),
            "shape [1099511627776, 1099511627776] has more elements than a "
            "64-bit count holds");
  EXPECT_EQ(unwrap(getSizeInBytes(ElementType::BF16, {3, 5})), 30);
  // 2^62 elements fit in int64_t, their 4 bytes each do not: a count that
  // wrapped to 0 bytes used to make attn-run spin on a huge loop.
  EXPECT_EQ(
      errorMessage(getSizeInBytes(ElementType::F32, {1, int64_t(1) << 62})),
      "shape [1, 4611686018427387904] of f32 has 4611686018427387904 "
      "elements, more bytes than a 64-bit count holds");
}

TEST(HostTensorTest, CreateRefusesImpossibleShapes) {
  HostTensor small = unwrap(HostTensor::create(ElementType::F16, {3, 5}));
  EXPECT_EQ(small.getNumElements(), 15);
  EXPECT_EQ(small.getSizeInBytes(), 30u);
  EXPECT_EQ(small.get(14), 0.0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.getData()) % 64, 0u);

  EXPECT_EQ(errorMessage(HostTensor::create(ElementType::F32, {4, -1})),
            "shape [4, -1] has negative size -1 in dim 1");
  EXPECT_EQ(errorMessage(HostTensor::create(
                ElementType::F32, {int64_t(1) << 62, int64_t(1) << 62})),
            "shape [4611686018427387904, 4611686018427387904] has more "
            "elements than a 64-bit count holds");
  // No machine running this test holds 4 PiB: refused before allocating
  // (LLVM's allocator would abort with "out of memory").
  ASSERT_TRUE(getPhysicalMemorySize().has_value());
  std::string message = errorMessage(
      HostTensor::create(ElementType::F32, {1, 8, int64_t(1) << 40, 128}));
  EXPECT_EQ(message.rfind("a tensor of shape [1, 8, 1099511627776, 128] of "
                          "f32 needs 4.0 PiB (4503599627370496 bytes) of host "
                          "memory, more than this machine's ",
                          0),
            0u)
      << message;
  EXPECT_EQ(formatBytes(1023), "1023 bytes");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB (1536 bytes)");
  EXPECT_FALSE(static_cast<bool>(checkHostMemory(1024, "a kibibyte")));
}

TEST(HostTensorTest, FillsAreDeterministic) {
  HostTensor a(ElementType::F32, {1000}), b(ElementType::F32, {1000}),
      c(ElementType::F32, {1000});
  fillNormal(a, /*seed=*/1);
  fillNormal(b, /*seed=*/1);
  fillNormal(c, /*seed=*/2);
  EXPECT_EQ(std::memcmp(a.getData(), b.getData(), a.getSizeInBytes()), 0);
  EXPECT_NE(std::memcmp(a.getData(), c.getData(), a.getSizeInBytes()), 0);
  fillUniform(a, /*seed=*/3, -1.0, 1.0);
  fillUniform(b, /*seed=*/3, -1.0, 1.0);
  fillUniform(c, /*seed=*/4, -1.0, 1.0);
  EXPECT_EQ(std::memcmp(a.getData(), b.getData(), a.getSizeInBytes()), 0);
  EXPECT_NE(std::memcmp(a.getData(), c.getData(), a.getSizeInBytes()), 0);

  // The stream itself, computed independently from the reference
  // splitmix64 and xoshiro256** algorithms.
  HostTensor golden(ElementType::F64, {4});
  fillUniform(golden, /*seed=*/42, 0.0, 1.0);
  EXPECT_EQ(golden.get(0), 0x1.5780b2e0c2ec0p-4);
  EXPECT_EQ(golden.get(1), 0x1.84136619b444ep-2);
  EXPECT_EQ(golden.get(2), 0x1.5c2ea66473c93p-1);
  EXPECT_EQ(golden.get(3), 0x1.d9715a8e0766cp-1);
}

TEST(HostTensorTest, FillStatistics) {
  constexpr int64_t n = 100000;
  auto moments = [](const HostTensor &tensor) {
    double sum = 0, sumSquares = 0;
    for (int64_t i = 0; i < n; ++i) {
      sum += tensor.get(i);
      sumSquares += tensor.get(i) * tensor.get(i);
    }
    double mean = sum / n;
    return std::make_pair(mean, std::sqrt(sumSquares / n - mean * mean));
  };

  HostTensor normal(ElementType::F32, {n});
  fillNormal(normal, /*seed=*/123);
  auto [mean, stddev] = moments(normal);
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(stddev, 1.0, 0.02);

  fillNormal(normal, /*seed=*/5, /*mean=*/3.0, /*stddev=*/0.5);
  std::tie(mean, stddev) = moments(normal);
  EXPECT_NEAR(mean, 3.0, 0.01);
  EXPECT_NEAR(stddev, 0.5, 0.01);

  HostTensor uniform(ElementType::F64, {n});
  fillUniform(uniform, /*seed=*/9, 2.0, 4.0);
  std::tie(mean, stddev) = moments(uniform);
  EXPECT_NEAR(mean, 3.0, 0.01);
  EXPECT_NEAR(stddev, 2.0 / std::sqrt(12.0), 0.01);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(uniform.get(i), 2.0);
    ASSERT_LT(uniform.get(i), 4.0);
  }
}

TEST(HostTensorTest, CompareFindsMaxErrorAndWorstIndex) {
  HostTensor reference(ElementType::F32, {2, 3});
  HostTensor actual(ElementType::F16, {2, 3});
  double ref[] = {1.0, -8.0, 2.0, 0.5, 4.0, -1.0};
  double act[] = {1.0, -8.0, 2.25, 0.5, 3.5, -1.125};
  for (int64_t i = 0; i < 6; ++i) {
    reference.set(i, ref[i]);
    actual.set(i, act[i]);
  }
  Comparison comparison = unwrap(compare(actual, reference));
  EXPECT_EQ(comparison.maxAbsError, 0.5);
  EXPECT_EQ(comparison.worstIndex, 4);
  EXPECT_EQ(comparison.maxReferenceMagnitude, 8.0);
  EXPECT_EQ(comparison.maxRelError, 0.5 / 8.0);
  EXPECT_EQ(comparison.mismatchedNonFinite, 0);

  Comparison same = unwrap(compare(reference, reference));
  EXPECT_EQ(same.maxAbsError, 0.0);
  EXPECT_EQ(same.maxRelError, 0.0);

  std::string message =
      errorMessage(compare(actual, HostTensor(ElementType::F32, {3, 2})));
  EXPECT_EQ(message, "shape mismatch: actual [2, 3] vs reference [3, 2]");
}

TEST(HostTensorTest, CompareNonFiniteValues) {
  // Matching NaNs and infinities of one sign (the lse of an empty row).
  HostTensor reference(ElementType::F32, {4});
  HostTensor actual(ElementType::F32, {4});
  double values[] = {kNaN, -kInf, kInf, 2.0};
  for (int64_t i = 0; i < 4; ++i) {
    reference.set(i, values[i]);
    actual.set(i, values[i]);
  }
  actual.set(3, 2.5);
  Comparison matching = unwrap(compare(actual, reference));
  EXPECT_EQ(matching.mismatchedNonFinite, 0);
  EXPECT_EQ(matching.maxAbsError, 0.5);
  EXPECT_EQ(matching.worstIndex, 3);
  EXPECT_EQ(matching.maxReferenceMagnitude, 2.0);
  EXPECT_EQ(matching.maxRelError, 0.25);

  // Each kind of mismatch counts once and makes the relative error infinite.
  HostTensor wrong = actual;
  wrong.set(0, 1.0);  // NaN expected
  wrong.set(1, kInf); // -inf expected
  wrong.set(2, kNaN); // inf expected
  Comparison mismatched = unwrap(compare(wrong, reference));
  EXPECT_EQ(mismatched.mismatchedNonFinite, 3);
  EXPECT_EQ(mismatched.maxRelError, kInf);
  EXPECT_EQ(mismatched.maxAbsError, 0.5);

  HostTensor finite(ElementType::F32, {4});
  finite.set(1, -kInf);
  Comparison infiniteReference = unwrap(compare(finite, actual));
  EXPECT_EQ(infiniteReference.mismatchedNonFinite, 2);
  EXPECT_TRUE(std::isinf(infiniteReference.maxRelError));
}

TEST(HostTensorTest, CompareCountsNaNsAndFindsTheFirstMismatch) {
  HostTensor reference(ElementType::F32, {2, 3});
  HostTensor actual(ElementType::F32, {2, 3});
  for (int64_t i = 0; i < 6; ++i) {
    reference.set(i, i);
    actual.set(i, i);
  }
  reference.set(1, kNaN);
  actual.set(1, kNaN);
  actual.set(4, kNaN);
  actual.set(5, kInf);
  Comparison result = unwrap(compare(actual, reference));
  EXPECT_EQ(result.comparedFinite, 3);
  EXPECT_EQ(result.matchedNaN, 1);
  EXPECT_EQ(result.mismatchedNonFinite, 2);
  EXPECT_EQ(result.firstMismatch, 4);
  EXPECT_EQ(formatPosition(actual.getShape(), result.firstMismatch), "[1, 1]");
  EXPECT_EQ(result.maxRelError, kInf);

  // NaN on both sides everywhere (all-NaN inputs): nothing was compared, and
  // a relative error of 0 would pass any tolerance.
  HostTensor nans(ElementType::F32, {2, 3});
  for (int64_t i = 0; i < 6; ++i)
    nans.set(i, kNaN);
  Comparison nothing = unwrap(compare(nans, nans));
  EXPECT_EQ(nothing.comparedFinite, 0);
  EXPECT_EQ(nothing.matchedNaN, 6);
  EXPECT_EQ(nothing.mismatchedNonFinite, 0);
  EXPECT_EQ(nothing.firstMismatch, -1);
  EXPECT_TRUE(std::isnan(nothing.maxRelError));
  EXPECT_FALSE(nothing.maxRelError <= 1.0);

  // Matching infinities alone (the lse of rows that keep no key) compare
  // nothing either, but hold no NaN: they pass.
  HostTensor empty(ElementType::F32, {2});
  empty.set(0, -kInf);
  empty.set(1, -kInf);
  EXPECT_EQ(unwrap(compare(empty, empty)).maxRelError, 0.0);
}

TEST(HostTensorTest, FormatPosition) {
  EXPECT_EQ(formatPosition({2, 3, 4}, 0), "[0, 0, 0]");
  EXPECT_EQ(formatPosition({2, 3, 4}, 23), "[1, 2, 3]");
  EXPECT_EQ(formatPosition({2, 3, 4}, 13), "[1, 0, 1]");
  EXPECT_EQ(formatPosition({}, 0), "[]");
}

TEST(HostTensorTest, MemRefDescriptorLayout) {
  HostTensor tensor(ElementType::F32, {2, 3, 4, 5});
  llvm::SmallVector<int64_t> descriptor = tensor.getMemRefDescriptor();
  ASSERT_EQ(descriptor.size(), 2u + 1 + 4 + 4);
  auto data =
      static_cast<int64_t>(reinterpret_cast<intptr_t>(tensor.getData()));
  EXPECT_EQ(descriptor[0], data);
  EXPECT_EQ(descriptor[1], data);
  EXPECT_EQ(descriptor[1] % 64, 0);
  EXPECT_EQ(descriptor[2], 0);
  EXPECT_EQ(llvm::ArrayRef(descriptor).slice(3, 4),
            (llvm::ArrayRef<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(llvm::ArrayRef(descriptor).slice(7, 4),
            (llvm::ArrayRef<int64_t>{60, 20, 5, 1}));

  HostTensor scalar(ElementType::I8, {});
  EXPECT_EQ(scalar.getMemRefDescriptor().size(), 3u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(scalar.getData()) % 64, 0u);
}

TEST(HostTensorTest, FormatShape) {
  EXPECT_EQ(formatShape({2, 4, 100, 64}), "[2, 4, 100, 64]");
  EXPECT_EQ(formatShape({7}), "[7]");
  EXPECT_EQ(formatShape({}), "[]");
}

} // namespace
