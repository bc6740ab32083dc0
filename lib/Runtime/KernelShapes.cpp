//===- KernelShapes.cpp - Concrete shapes of kernel arguments -------------===//
//
/// \file
/// Every dynamic dimension of a kernel argument is the batch, the query
/// length or the key length, by the argument's role and the dimension's
/// position; captured tensors get theirs from the shapes given by name, or
/// from the problem sizes that index them. Where a region reads a captured
/// tensor with `tensor.extract` at one of its own block arguments b, h, i or
/// j, that dimension must hold B, Hq, Nq or Nk entries: a shorter one would
/// be read out of bounds (or clamped, which silently changes the result).
/// Every resolved shape is checked to have an element and byte count that
/// fits in 64 bits, so no caller allocates from a wrapped size.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/KernelShapes.h"
#include "attn/Runtime/HostTensor.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

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
  case KernelArgRole::IndexErrors:
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

namespace {
/// A block argument of a region that indexes the problem: b, h, i or j.
enum class RegionIndex { Batch, Head, Query, Key };

/// What the regions of an attention op read of one captured tensor.
struct CaptureReads {
  /// Some region reads an element (tensor.extract), not only its sizes.
  bool isRead = false;
  /// For each dimension, the region indices that index it directly.
  SmallVector<SmallVector<RegionIndex, 2>> indexedBy;
};
} // namespace

/// Returns what the regions of `spec` read of each captured tensor, in
/// capture order; empty for ops without captures.
static SmallVector<CaptureReads> analyzeCaptureReads(Operation *spec) {
  auto attention = dyn_cast<AttentionOp>(spec);
  if (!attention)
    return {};
  unsigned numCaptures = attention.getCaptures().size();
  SmallVector<CaptureReads> reads(numCaptures);
  for (auto [index, capture] : llvm::enumerate(attention.getCaptures()))
    reads[index].indexedBy.resize(
        cast<ShapedType>(capture.getType()).getRank());

  // Where b, h, i and j sit among each region's block arguments
  // (dialects/Attn/AttnOps.td): score_mod (s, b, h, i, j, captures...),
  // mask_mod (b, h, i, j, captures...), l1_map (s, captures...).
  std::pair<Region *, std::optional<unsigned>> regions[] = {
      {&attention.getScoreMod(), 1u},
      {&attention.getMaskMod(), 0u},
      {&attention.getL1Map(), std::nullopt}};
  for (auto &[region, firstIndexRef] : regions) {
    // A copy: lambdas cannot capture structured bindings in C++17.
    std::optional<unsigned> firstIndex = firstIndexRef;
    if (region->empty())
      continue;
    Block &block = region->front();
    if (block.getNumArguments() < numCaptures)
      continue;
    unsigned firstCapture = block.getNumArguments() - numCaptures;
    auto regionIndexOf = [&](Value value) -> std::optional<RegionIndex> {
      auto arg = dyn_cast<BlockArgument>(value);
      if (!firstIndex || !arg || arg.getOwner() != &block ||
          arg.getArgNumber() < *firstIndex ||
          arg.getArgNumber() >= *firstIndex + 4 ||
          arg.getArgNumber() >= firstCapture)
        return std::nullopt;
      return static_cast<RegionIndex>(arg.getArgNumber() - *firstIndex);
    };
    // Captured tensors are read at the region's top level only
    // (checkInlinable), but a walk costs nothing and misses nothing.
    region->walk([&](tensor::ExtractOp extract) {
      auto arg = dyn_cast<BlockArgument>(extract.getTensor());
      if (!arg || arg.getOwner() != &block || arg.getArgNumber() < firstCapture)
        return;
      CaptureReads &read = reads[arg.getArgNumber() - firstCapture];
      read.isRead = true;
      for (auto [dim, index] : llvm::enumerate(extract.getIndices()))
        if (std::optional<RegionIndex> regionIndex = regionIndexOf(index))
          if (dim < read.indexedBy.size() &&
              !llvm::is_contained(read.indexedBy[dim], *regionIndex))
            read.indexedBy[dim].push_back(*regionIndex);
    });
  }
  return reads;
}

static const char *describe(RegionIndex index) {
  switch (index) {
  case RegionIndex::Batch:
    return "the batch index b";
  case RegionIndex::Head:
    return "the head index h";
  case RegionIndex::Query:
    return "the query index i";
  case RegionIndex::Key:
    return "the key index j";
  }
  llvm_unreachable("unknown region index");
}

static const char *sizeName(RegionIndex index) {
  switch (index) {
  case RegionIndex::Batch:
    return "B";
  case RegionIndex::Head:
    return "Hq";
  case RegionIndex::Query:
    return "Nq";
  case RegionIndex::Key:
    return "Nk";
  }
  llvm_unreachable("unknown region index");
}

/// The sequence length a neighborhood mask of `spec` fixes: the product of
/// its grid (at most 2^30 tokens, which the verifier checks). std::nullopt
/// when there is none (or, unverified, it overflows).
std::optional<int64_t>
mlir::attn::runtime::getMaskSequenceLength(Operation *spec) {
  auto attention = dyn_cast_or_null<AttentionOp>(spec);
  if (!attention || !attention.getMaskAttr())
    return std::nullopt;
  std::optional<int64_t> length;
  attention.getMaskAttr().walk([&](NeighborhoodAttr neighborhood) {
    if (length)
      return;
    if (llvm::Expected<int64_t> tokens = getNumElements(neighborhood.getGrid()))
      length = *tokens;
    else
      llvm::consumeError(tokens.takeError());
  });
  return length;
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
      if (size < 0)
        return error(llvm::formatv("{0} has negative size {1} in dim {2}",
                                   arg.name, size, dim));
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

  // A neighborhood grid fixes the sequence length (the mask check below
  // refuses any other).
  if (std::optional<int64_t> length = getMaskSequenceLength(spec))
    for (Symbol symbol : {Symbol::Queries, Symbol::Keys})
      if (!values[static_cast<int>(symbol)])
        values[static_cast<int>(symbol)] = *length;
  for (Symbol symbol : {Symbol::Batch, Symbol::Queries, Symbol::Keys}) {
    std::optional<int64_t> value = values[static_cast<int>(symbol)];
    if (value && *value < 0)
      return error(llvm::formatv("the {0} must be non-negative, got {1}",
                                 describe(symbol), *value));
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

  // The size a region index ranges over, once the problem sizes are known.
  std::optional<int64_t> numQueryHeads;
  if (auto attention = dyn_cast<AttentionOp>(spec))
    numQueryHeads = attention.getQuery().getType().getDimSize(1);
  auto extentOf = [&](RegionIndex index) -> std::optional<int64_t> {
    switch (index) {
    case RegionIndex::Batch:
      return values[static_cast<int>(Symbol::Batch)];
    case RegionIndex::Head:
      return numQueryHeads;
    case RegionIndex::Query:
      return values[static_cast<int>(Symbol::Queries)];
    case RegionIndex::Key:
      return values[static_cast<int>(Symbol::Keys)];
    }
    llvm_unreachable("unknown region index");
  };
  SmallVector<CaptureReads> captureReads = analyzeCaptureReads(spec);
  unsigned captureIndex = 0;
  // The regions run once per (b, h, i, j): not at all for an empty problem,
  // which may then leave a captured tensor empty.
  bool regionsRun =
      llvm::all_of(std::initializer_list<Symbol>{Symbol::Batch, Symbol::Queries,
                                                 Symbol::Keys},
                   [&](Symbol symbol) {
                     std::optional<int64_t> value =
                         values[static_cast<int>(symbol)];
                     return !value || *value > 0;
                   });

  SmallVector<SmallVector<int64_t>> shapes;
  for (const KernelArg &arg : signature.args) {
    SmallVector<int64_t> shape(arg.type.getShape());
    auto given = sizes.argumentShapes.find(arg.name);
    const CaptureReads *reads = nullptr;
    if (arg.role == KernelArgRole::Capture &&
        captureIndex < captureReads.size())
      reads = &captureReads[captureIndex++];
    for (auto [dim, size] : llvm::enumerate(shape)) {
      // The largest extent among the region indices that index this
      // dimension of a captured tensor directly.
      std::optional<std::pair<int64_t, RegionIndex>> needed;
      if (reads && dim < reads->indexedBy.size())
        for (RegionIndex index : reads->indexedBy[dim])
          if (std::optional<int64_t> extent = extentOf(index))
            if (!needed || *extent > needed->first)
              needed = {*extent, index};
      auto checkNeeded = [&, dim = dim, &size = size]() -> llvm::Error {
        if (!needed || size >= needed->first)
          return llvm::Error::success();
        return error(llvm::formatv(
            "{0} dim {1} is indexed by {2}, so it needs at least {3} = {4} "
            "entries, got {5}",
            arg.name, dim, describe(needed->second), sizeName(needed->second),
            needed->first, size));
      };
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
        if (llvm::Error failure = checkNeeded())
          return std::move(failure);
        continue;
      }
      // A captured tensor indexed by b, h, i or j holds that many entries
      // unless its shape is given.
      if (ShapedType::isDynamic(size) && needed) {
        size = needed->first;
        continue;
      }
      if (llvm::Error failure = checkNeeded())
        return std::move(failure);
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
    if (reads && reads->isRead && regionsRun && llvm::is_contained(shape, 0))
      return error(llvm::formatv("{0} has shape {1} with no elements, but a "
                                 "region of the spec reads it with "
                                 "tensor.extract",
                                 arg.name, formatShape(shape)));
    // Callers allocate and index from these shapes: a count that wraps
    // would allocate too little, or nothing.
    // (A type without a runtime equivalent is counted as 8 bytes wide.)
    ElementType type =
        toElementType(arg.type.getElementType()).value_or(ElementType::I64);
    if (llvm::Expected<int64_t> bytes = getSizeInBytes(type, shape); !bytes) {
      llvm::consumeError(bytes.takeError());
      return error(llvm::formatv("{0} would have shape {1}: more elements "
                                 "than a 64-bit byte count holds",
                                 arg.name, formatShape(shape)));
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
  // The query block that last listed each key block: a map, not a vector
  // of numKeyBlocks entries, which absurd --sizes with no rows (b = 0)
  // would make a huge allocation for nothing.
  llvm::DenseMap<int64_t, int64_t> seenAt;
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
        auto [seen, first] = seenAt.try_emplace(block, row);
        if (!first && seen->second == row)
          return llvm::createStringError(llvm::formatv(
              "key block {0} is listed twice for flat query block {1} "
              "(in {2} or the other list)",
              block, row, listName));
        seen->second = row;
      }
    }
  }
  return llvm::Error::success();
}

llvm::Expected<int64_t> mlir::attn::runtime::getArgumentBytes(
    const KernelSignature &signature,
    ArrayRef<llvm::SmallVector<int64_t>> shapes) {
  int64_t total = 0;
  for (auto [arg, shape] : llvm::zip(signature.args, shapes)) {
    ElementType type =
        toElementType(arg.type.getElementType()).value_or(ElementType::I64);
    llvm::Expected<int64_t> bytes = getSizeInBytes(type, shape);
    if (!bytes)
      return llvm::createStringError(arg.name + ": " +
                                     llvm::toString(bytes.takeError()));
    if (llvm::AddOverflow(total, *bytes, total))
      return llvm::createStringError("the arguments together need more bytes "
                                     "than a 64-bit count holds");
  }
  return total;
}

bool mlir::attn::runtime::writesNothing(
    const KernelSignature &signature,
    ArrayRef<llvm::SmallVector<int64_t>> shapes) {
  for (auto [arg, shape] : llvm::zip(signature.args, shapes))
    if (arg.isOutput && arg.role != KernelArgRole::IndexErrors &&
        arg.role != KernelArgRole::Workspace && !llvm::is_contained(shape, 0))
      return false;
  return true;
}

llvm::Error
mlir::attn::runtime::checkIndexErrors(const KernelSignature &signature,
                                      ArrayRef<HostTensor> args) {
  int record = signature.find(KernelArgRole::IndexErrors);
  if (record < 0)
    return llvm::Error::success();
  const HostTensor &words = args[record];
  auto count = static_cast<int64_t>(words.get(0));
  if (count == 0)
    return llvm::Error::success();
  auto capture = static_cast<int64_t>(words.get(1));
  auto dim = static_cast<int64_t>(words.get(2));
  auto index = static_cast<int64_t>(words.get(3));
  std::string name = "capture" + std::to_string(capture);
  int captured = signature.find(name);
  std::string shape =
      captured < 0 ? "?" : formatShape(args[captured].getShape());
  // The count is a 32-bit counter that every out-of-range read bumps.
  return llvm::createStringError(llvm::formatv(
      "{0} read(s) of captured tensors were out of range (checked indices); "
      "the first read {1} of shape {2} at index {3} of dim {4}, which was "
      "clamped into the tensor",
      count < 0 ? "over 2^31" : std::to_string(count), name, shape, index,
      dim));
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
