//===- KernelShapes.cpp - Concrete shapes of kernel arguments -------------===//
//
/// \file
/// Every dynamic dimension of a kernel argument is the batch, the query
/// length or the key length, by the argument's role and the dimension's
/// position; captured tensors get theirs from the shapes given by name.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/KernelShapes.h"
#include "attn/Runtime/HostTensor.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::runtime;

namespace {
enum class Symbol { None, Batch, Queries, Keys, QueryBlocks };
} // namespace

/// Which problem size dimension `dim` of an argument of `role` and `rank`
/// holds.
static Symbol symbolOf(KernelArgRole role, int64_t rank, int64_t dim) {
  switch (role) {
  case KernelArgRole::Gate:
    // A per-head gate is [H]; per-token and per-key gates are [B, H, N, ...].
    if (rank == 1)
      return Symbol::None;
    [[fallthrough]];
  case KernelArgRole::Query:
  case KernelArgRole::Output:
  case KernelArgRole::LogSumExp:
  case KernelArgRole::Beta:
    return dim == 0 ? Symbol::Batch : dim == 2 ? Symbol::Queries : Symbol::None;
  case KernelArgRole::Key:
  case KernelArgRole::Value:
    return dim == 0 ? Symbol::Batch : dim == 2 ? Symbol::Keys : Symbol::None;
  case KernelArgRole::QuerySegmentIds:
    return dim == 0 ? Symbol::Batch : Symbol::Queries;
  case KernelArgRole::KeySegmentIds:
    return dim == 0 ? Symbol::Batch : Symbol::Keys;
  case KernelArgRole::InitialState:
  case KernelArgRole::FinalState:
  case KernelArgRole::Workspace:
    return dim == 0 ? Symbol::Batch : Symbol::None;
  case KernelArgRole::KvNumBlocks:
  case KernelArgRole::KvIndices:
  case KernelArgRole::FullKvNumBlocks:
  case KernelArgRole::FullKvIndices:
    // [B, H, query blocks, list length]; the list length is free.
    return dim == 0   ? Symbol::Batch
           : dim == 2 ? Symbol::QueryBlocks
                      : Symbol::None;
  case KernelArgRole::Capture:
  case KernelArgRole::FeatureWeights:
    return Symbol::None;
  }
  llvm_unreachable("unknown role");
}

static const char *describe(Symbol symbol) {
  switch (symbol) {
  case Symbol::Batch:
    return "batch";
  case Symbol::Queries:
    return "query length";
  case Symbol::Keys:
    return "key length";
  case Symbol::QueryBlocks:
    return "number of query blocks";
  case Symbol::None:
    return "size";
  }
  llvm_unreachable("unknown symbol");
}

llvm::Expected<SmallVector<SmallVector<int64_t>>>
mlir::attn::runtime::resolveArgumentShapes(Operation *spec,
                                           const KernelSignature &signature,
                                           const ProblemSizes &sizes) {
  std::optional<int64_t> values[] = {
      std::nullopt, sizes.batch, sizes.numQueries, sizes.numKeys, std::nullopt};
  // The block mask's lists have ceil(Nq / BQ) query blocks and, unless
  // given, ceil(Nk / BK) entries.
  std::optional<ArrayRef<int64_t>> blockSize;
  if (auto attention = dyn_cast<AttentionOp>(spec))
    blockSize = attention.getBlockSize();
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError(message);
  };

  // Static dims of the spec fix sizes; given sizes must agree with them.
  for (const KernelArg &arg : signature.args) {
    for (auto [dim, size] : llvm::enumerate(arg.type.getShape())) {
      Symbol symbol = symbolOf(arg.role, arg.type.getRank(), dim);
      if (symbol == Symbol::None || ShapedType::isDynamic(size))
        continue;
      std::optional<int64_t> &value = values[static_cast<int>(symbol)];
      if (value && *value != size)
        return error(llvm::formatv(
            "{0} {1} contradicts the spec: {2} has static {0} {3}",
            describe(symbol), *value, arg.name, size));
      value = size;
    }
  }
  // Self-attention ops have one sequence length.
  if (isa<LinearAttentionOp, HybridOp>(spec)) {
    auto &queries = values[static_cast<int>(Symbol::Queries)];
    auto &keys = values[static_cast<int>(Symbol::Keys)];
    if (queries && keys && *queries != *keys)
      return error(llvm::formatv("{0} needs equal query and key lengths, got "
                                 "{1} and {2}",
                                 spec->getName(), *queries, *keys));
    if (!queries)
      queries = keys;
    if (!keys)
      keys = queries;
  }
  // Sizes implied by the shapes given by name (inputs read from files).
  for (const KernelArg &arg : signature.args) {
    auto given = sizes.argumentShapes.find(arg.name);
    if (given == sizes.argumentShapes.end())
      continue;
    if (given->second.size() != arg.type.getShape().size())
      return error(llvm::formatv("{0} has rank {1}, the spec needs rank {2}",
                                 arg.name, given->second.size(),
                                 arg.type.getShape().size()));
    for (auto [dim, size] : llvm::enumerate(given->second)) {
      Symbol symbol = symbolOf(arg.role, arg.type.getRank(), dim);
      if (symbol == Symbol::None)
        continue;
      std::optional<int64_t> &value = values[static_cast<int>(symbol)];
      if (value && *value != size)
        return error(llvm::formatv("{0} has {1} {2} in dim {3}, but the {1} "
                                   "is {4}",
                                   arg.name, describe(symbol), size, dim,
                                   *value));
      value = size;
    }
  }

  std::optional<int64_t> &queryBlocks =
      values[static_cast<int>(Symbol::QueryBlocks)];
  if (blockSize && values[static_cast<int>(Symbol::Queries)]) {
    int64_t expected = llvm::divideCeil(
        *values[static_cast<int>(Symbol::Queries)], (*blockSize)[0]);
    if (queryBlocks && *queryBlocks != expected)
      return error(llvm::formatv("the block mask has {0} query blocks, but "
                                 "the query length needs {1}",
                                 *queryBlocks, expected));
    queryBlocks = expected;
  }

  SmallVector<SmallVector<int64_t>> shapes;
  for (const KernelArg &arg : signature.args) {
    SmallVector<int64_t> shape(arg.type.getShape());
    auto given = sizes.argumentShapes.find(arg.name);
    for (auto [dim, size] : llvm::enumerate(shape)) {
      Symbol symbol = symbolOf(arg.role, arg.type.getRank(), dim);
      if (symbol != Symbol::None) {
        std::optional<int64_t> value = values[static_cast<int>(symbol)];
        if (!value)
          return error(llvm::formatv("the {0} is not given (needed by {1})",
                                     describe(symbol), arg.name));
        if (*value < 0)
          return error(llvm::formatv("the {0} must be non-negative, got {1}",
                                     describe(symbol), *value));
        size = *value;
        continue;
      }
      if (given != sizes.argumentShapes.end()) {
        int64_t actual = given->second[dim];
        if (!ShapedType::isDynamic(size) && actual != size)
          return error(llvm::formatv("{0} has size {1} in dim {2}, the spec "
                                     "needs {3}",
                                     arg.name, actual, dim, size));
        size = actual;
        continue;
      }
      bool isList = arg.role == KernelArgRole::KvIndices ||
                    arg.role == KernelArgRole::FullKvIndices;
      if (ShapedType::isDynamic(size) && isList && blockSize &&
          values[static_cast<int>(Symbol::Keys)]) {
        size = llvm::divideCeil(*values[static_cast<int>(Symbol::Keys)],
                                (*blockSize)[1]);
        continue;
      }
      if (ShapedType::isDynamic(size))
        return error(llvm::formatv("dim {0} of {1} is dynamic; give its shape",
                                   dim, arg.name));
    }
    shapes.push_back(std::move(shape));
  }

  // Masks check the lengths they depend on (a neighborhood grid must hold
  // the whole sequence).
  if (auto attention = dyn_cast<AttentionOp>(spec)) {
    if (MaskAttrInterface mask = attention.getMaskAttr()) {
      MaskOpInfo info;
      info.numQueryHeads = attention.getQuery().getType().getDimSize(1);
      info.numQueries = values[static_cast<int>(Symbol::Queries)];
      info.numKeys = values[static_cast<int>(Symbol::Keys)];
      info.hasSegmentIds = static_cast<bool>(attention.getQuerySegmentIds());
      std::string message;
      bool failedCheck = false;
      ScopedDiagnosticHandler handler(spec->getContext(), [&](Diagnostic &d) {
        message = d.str();
        failedCheck = true;
        return success();
      });
      if (failed(mask.verifyForOp(info, [&] { return spec->emitOpError(); })) ||
          failedCheck)
        return error(message);
    }
  }
  return shapes;
}

llvm::Error
mlir::attn::runtime::checkBlockMask(const KernelSignature &signature,
                                    ArrayRef<HostTensor> args, int64_t numKeys,
                                    int64_t blockKeys) {
  int counts = signature.find(KernelArgRole::KvNumBlocks);
  if (counts < 0)
    return llvm::Error::success();
  int64_t numKeyBlocks = llvm::divideCeil(numKeys, blockKeys);
  int lists[2][2] = {{counts, signature.find(KernelArgRole::KvIndices)},
                     {signature.find(KernelArgRole::FullKvNumBlocks),
                      signature.find(KernelArgRole::FullKvIndices)}};
  ArrayRef<int64_t> shape = args[lists[0][1]].getShape();
  int64_t rows = shape[0] * shape[1] * shape[2];
  std::vector<int64_t> seenAt(numKeyBlocks, -1);
  for (int64_t row = 0; row < rows; ++row) {
    for (auto [countArg, indexArg] : lists) {
      const HostTensor &count = args[countArg];
      const HostTensor &indices = args[indexArg];
      int64_t length = indices.getShape()[3];
      int64_t n = static_cast<int64_t>(count.get(row));
      const std::string &name = signature.args[countArg].name;
      if (n < 0 || n > length)
        return llvm::createStringError(llvm::formatv(
            "{0} holds {1} at flat position {2}; it must lie in [0, {3}]", name,
            n, row, length));
      for (int64_t e = 0; e < n; ++e) {
        int64_t block = static_cast<int64_t>(indices.get(row * length + e));
        const std::string &listName = signature.args[indexArg].name;
        if (block < 0 || block >= numKeyBlocks)
          return llvm::createStringError(llvm::formatv(
              "{0} lists key block {1} (flat query block {2}); key blocks lie "
              "in [0, {3})",
              listName, block, row, numKeyBlocks));
        if (seenAt[block] == row)
          return llvm::createStringError(llvm::formatv(
              "key block {0} is listed twice for flat query block {1} "
              "(in {2} or the other list)",
              block, row, listName));
        seenAt[block] = row;
      }
    }
  }
  return llvm::Error::success();
}

std::optional<ElementType> mlir::attn::runtime::toElementType(Type type) {
  if (type.isF32())
    return ElementType::F32;
  if (type.isF64())
    return ElementType::F64;
  if (type.isF16())
    return ElementType::F16;
  if (type.isBF16())
    return ElementType::BF16;
  if (type.isInteger(1))
    return ElementType::I1;
  if (type.isInteger(8))
    return ElementType::I8;
  if (type.isInteger(32))
    return ElementType::I32;
  if (type.isInteger(64))
    return ElementType::I64;
  return std::nullopt;
}

llvm::StringRef mlir::attn::runtime::getDimensionName(KernelArgRole role,
                                                      int64_t rank,
                                                      int64_t dim) {
  switch (symbolOf(role, rank, dim)) {
  case Symbol::None:
    return "";
  case Symbol::Batch:
    return "B";
  case Symbol::Queries:
    return "Nq";
  case Symbol::Keys:
    return "Nk";
  case Symbol::QueryBlocks:
    return "QB";
  }
  llvm_unreachable("unknown symbol");
}
