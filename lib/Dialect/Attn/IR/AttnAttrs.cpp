//===- AttnAttrs.cpp - attn named masks -----------------------------------===//
//
/// \file
/// The named mask attributes: their verifiers, their reference predicate
/// (`isVisible`) and their sound tile classification (`classifyBlock`).
/// Tiles are half-open, [queryBegin, queryEnd) x [keyBegin, keyEnd), and
/// non-empty.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnEnums.cpp.inc"
#include "attn/Dialect/Attn/IR/AttnInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Custom assembly
//===----------------------------------------------------------------------===//

/// Parses `grid = [..], kernel = [..]` followed by the optional
/// `dilation = [..]` and `causal_axes = [..]`, in any order.
static ParseResult parseNeighborhoodParams(AsmParser &parser,
                                           SmallVector<int64_t> &grid,
                                           SmallVector<int64_t> &kernel,
                                           SmallVector<int64_t> &dilation,
                                           SmallVector<int64_t> &causalAxes) {
  llvm::StringMap<SmallVector<int64_t> *> fields = {
      {"grid", &grid},
      {"kernel", &kernel},
      {"dilation", &dilation},
      {"causal_axes", &causalAxes}};
  llvm::StringSet<> seen;
  auto parseField = [&]() -> ParseResult {
    SMLoc loc = parser.getCurrentLocation();
    std::string name;
    if (parser.parseKeywordOrString(&name))
      return failure();
    auto it = fields.find(name);
    if (it == fields.end())
      return parser.emitError(loc) << "unknown neighborhood parameter '" << name
                                   << "'; expected grid, kernel, dilation or "
                                      "causal_axes";
    if (!seen.insert(name).second)
      return parser.emitError(loc)
             << "neighborhood parameter '" << name << "' given twice";
    SmallVector<int64_t> *values = it->second;
    return failure(parser.parseEqual() ||
                   parser.parseCommaSeparatedList(
                       AsmParser::Delimiter::Square, [&]() -> ParseResult {
                         return parser.parseInteger(values->emplace_back());
                       }));
  };
  SMLoc start = parser.getCurrentLocation();
  if (parser.parseCommaSeparatedList(parseField))
    return failure();
  if (!seen.contains("grid") || !seen.contains("kernel"))
    return parser.emitError(start) << "neighborhood needs 'grid' and 'kernel'";
  return success();
}

static void printNeighborhoodParams(AsmPrinter &printer, ArrayRef<int64_t> grid,
                                    ArrayRef<int64_t> kernel,
                                    ArrayRef<int64_t> dilation,
                                    ArrayRef<int64_t> causalAxes) {
  auto printField = [&](StringRef name, ArrayRef<int64_t> values) {
    printer << name << " = [";
    llvm::interleaveComma(values, printer);
    printer << "]";
  };
  printField("grid", grid);
  printer << ", ";
  printField("kernel", kernel);
  if (!dilation.empty()) {
    printer << ", ";
    printField("dilation", dilation);
  }
  if (!causalAxes.empty()) {
    printer << ", ";
    printField("causal_axes", causalAxes);
  }
}

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
}

/// How far right of the top-left diagonal an aligned diagonal sits.
static int64_t diagonalShift(const MaskContext &context,
                             DiagonalAlignment align) {
  return align == DiagonalAlignment::bottom_right
             ? context.numKeys - context.numQueries
             : 0;
}

static int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static LogicalResult
verifyMaskList(function_ref<InFlightDiagnostic()> emitError,
               ArrayRef<Attribute> masks, StringRef what) {
  if (masks.empty())
    return emitError() << what << " needs at least one mask";
  for (Attribute mask : masks)
    if (!isa<MaskAttrInterface>(mask))
      return emitError() << what << " accepts only named masks, got " << mask;
  return success();
}

static LogicalResult
verifyMaskListForOp(ArrayRef<Attribute> masks, const MaskOpInfo &info,
                    function_ref<InFlightDiagnostic()> emitError) {
  for (Attribute mask : masks)
    if (failed(cast<MaskAttrInterface>(mask).verifyForOp(info, emitError)))
      return failure();
  return success();
}

/// Checks that a mask's token count or offset `value`, named `what`, lies
/// within [-kMaxMaskExtent, kMaxMaskExtent] (see kMaxMaskExtent).
static LogicalResult
verifyMaskExtent(function_ref<InFlightDiagnostic()> emitError, StringRef what,
                 int64_t value) {
  if (value >= -kMaxMaskExtent && value <= kMaxMaskExtent)
    return success();
  return emitError() << what << " must lie within [-" << kMaxMaskExtent << ", "
                     << kMaxMaskExtent << "] (2^30 tokens), got " << value;
}

//===----------------------------------------------------------------------===//
// CausalAttr
//===----------------------------------------------------------------------===//

LogicalResult CausalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t offset, DiagonalAlignment) {
  return verifyMaskExtent(emitError, "causal offset", offset);
}

bool CausalAttr::isVisible(const MaskContext &context, int64_t, int64_t,
                           int64_t query, int64_t key) const {
  return key <= query + diagonalShift(context, getAlign()) + getOffset();
}

BlockKind CausalAttr::classifyBlock(const MaskContext &context,
                                    const MaskBlock &block) const {
  int64_t diagonal = diagonalShift(context, getAlign()) + getOffset();
  if (block.keyEnd - 1 <= block.queryBegin + diagonal)
    return BlockKind::Full;
  if (block.keyBegin > block.queryEnd - 1 + diagonal)
    return BlockKind::Empty;
  return BlockKind::Partial;
}

LogicalResult
CausalAttr::verifyForOp(const MaskOpInfo &,
                        function_ref<InFlightDiagnostic()>) const {
  return success();
}

//===----------------------------------------------------------------------===//
// SlidingWindowAttr
//===----------------------------------------------------------------------===//

LogicalResult
SlidingWindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t left, int64_t right, DiagonalAlignment) {
  if (left < 0 || right < 0)
    return emitError()
           << "sliding window sizes must be non-negative, got left = " << left
           << " and right = " << right;
  if (failed(verifyMaskExtent(emitError, "sliding window left", left)))
    return failure();
  return verifyMaskExtent(emitError, "sliding window right", right);
}

bool SlidingWindowAttr::isVisible(const MaskContext &context, int64_t, int64_t,
                                  int64_t query, int64_t key) const {
  int64_t center = query + diagonalShift(context, getAlign());
  return center - getLeft() <= key && key <= center + getRight();
}

BlockKind SlidingWindowAttr::classifyBlock(const MaskContext &context,
                                           const MaskBlock &block) const {
  int64_t shift = diagonalShift(context, getAlign());
  int64_t firstRow = block.queryBegin + shift;
  int64_t lastRow = block.queryEnd - 1 + shift;
  int64_t lastKey = block.keyEnd - 1;
  // Consecutive rows' windows overlap, so the union over the tile's rows is
  // the single interval [firstRow - left, lastRow + right].
  if (lastKey < firstRow - getLeft() || block.keyBegin > lastRow + getRight())
    return BlockKind::Empty;
  if (lastRow - getLeft() <= block.keyBegin && lastKey <= firstRow + getRight())
    return BlockKind::Full;
  return BlockKind::Partial;
}

LogicalResult
SlidingWindowAttr::verifyForOp(const MaskOpInfo &,
                               function_ref<InFlightDiagnostic()>) const {
  return success();
}

//===----------------------------------------------------------------------===//
// SinksAttr
//===----------------------------------------------------------------------===//

LogicalResult SinksAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t count) {
  if (count <= 0)
    return emitError() << "sink count must be positive, got " << count;
  return verifyMaskExtent(emitError, "sink count", count);
}

bool SinksAttr::isVisible(const MaskContext &, int64_t, int64_t, int64_t,
                          int64_t key) const {
  return key < getCount();
}

BlockKind SinksAttr::classifyBlock(const MaskContext &,
                                   const MaskBlock &block) const {
  if (block.keyEnd <= getCount())
    return BlockKind::Full;
  if (block.keyBegin >= getCount())
    return BlockKind::Empty;
  return BlockKind::Partial;
}

LogicalResult SinksAttr::verifyForOp(const MaskOpInfo &,
                                     function_ref<InFlightDiagnostic()>) const {
  return success();
}

//===----------------------------------------------------------------------===//
// BlockDiagonalAttr
//===----------------------------------------------------------------------===//

LogicalResult
BlockDiagonalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t size) {
  if (size <= 0)
    return emitError() << "block_diagonal size must be positive, got " << size;
  return verifyMaskExtent(emitError, "block_diagonal size", size);
}

bool BlockDiagonalAttr::isVisible(const MaskContext &, int64_t, int64_t,
                                  int64_t query, int64_t key) const {
  return floorDiv(query, getSize()) == floorDiv(key, getSize());
}

BlockKind BlockDiagonalAttr::classifyBlock(const MaskContext &,
                                           const MaskBlock &block) const {
  int64_t size = getSize();
  int64_t firstQ = floorDiv(block.queryBegin, size);
  int64_t lastQ = floorDiv(block.queryEnd - 1, size);
  int64_t firstK = floorDiv(block.keyBegin, size);
  int64_t lastK = floorDiv(block.keyEnd - 1, size);
  if (lastQ < firstK || lastK < firstQ)
    return BlockKind::Empty;
  if (firstQ == lastQ && firstK == lastK)
    return BlockKind::Full;
  return BlockKind::Partial;
}

LogicalResult
BlockDiagonalAttr::verifyForOp(const MaskOpInfo &,
                               function_ref<InFlightDiagnostic()>) const {
  return success();
}

//===----------------------------------------------------------------------===//
// DocumentAttr
//===----------------------------------------------------------------------===//

bool DocumentAttr::isVisible(const MaskContext &context, int64_t batch, int64_t,
                             int64_t query, int64_t key) const {
  assert(context.sameSegment && "#attn.document evaluated without segment ids");
  return context.sameSegment && context.sameSegment(batch, query, key);
}

BlockKind DocumentAttr::classifyBlock(const MaskContext &,
                                      const MaskBlock &) const {
  return BlockKind::Partial;
}

LogicalResult
DocumentAttr::verifyForOp(const MaskOpInfo &info,
                          function_ref<InFlightDiagnostic()> emitError) const {
  if (!info.hasSegmentIds)
    return emitError() << "#attn.document needs the op's segment_ids(...) "
                          "operands";
  return success();
}

//===----------------------------------------------------------------------===//
// PrefixLMAttr
//===----------------------------------------------------------------------===//

LogicalResult PrefixLMAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t prefix) {
  if (prefix <= 0)
    return emitError() << "prefix_lm prefix must be positive, got " << prefix;
  return verifyMaskExtent(emitError, "prefix_lm prefix", prefix);
}

bool PrefixLMAttr::isVisible(const MaskContext &context, int64_t, int64_t,
                             int64_t query, int64_t key) const {
  return key < getPrefix() ||
         key <= query + diagonalShift(context, DiagonalAlignment::bottom_right);
}

BlockKind PrefixLMAttr::classifyBlock(const MaskContext &context,
                                      const MaskBlock &block) const {
  int64_t shift = diagonalShift(context, DiagonalAlignment::bottom_right);
  if (block.keyEnd <= getPrefix() ||
      block.keyEnd - 1 <= block.queryBegin + shift)
    return BlockKind::Full;
  if (block.keyBegin >= getPrefix() &&
      block.keyBegin > block.queryEnd - 1 + shift)
    return BlockKind::Empty;
  return BlockKind::Partial;
}

LogicalResult
PrefixLMAttr::verifyForOp(const MaskOpInfo &,
                          function_ref<InFlightDiagnostic()>) const {
  return success();
}

//===----------------------------------------------------------------------===//
// StridedShardAttr
//===----------------------------------------------------------------------===//

LogicalResult
StridedShardAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         int64_t stride, int64_t block) {
  if (stride <= 0 || block <= 0)
    return emitError() << "strided_shard stride and block must be positive, "
                          "got stride = "
                       << stride << " and block = " << block;
  if (failed(verifyMaskExtent(emitError, "strided_shard stride", stride)))
    return failure();
  return verifyMaskExtent(emitError, "strided_shard block", block);
}

bool StridedShardAttr::isVisible(const MaskContext &, int64_t, int64_t head,
                                 int64_t, int64_t key) const {
  return floorDiv(key, getBlock()) % getStride() == head % getStride();
}

BlockKind StridedShardAttr::classifyBlock(const MaskContext &,
                                          const MaskBlock &block) const {
  int64_t stride = getStride();
  if (stride == 1)
    return BlockKind::Full;
  int64_t first = floorDiv(block.keyBegin, getBlock());
  int64_t last = floorDiv(block.keyEnd - 1, getBlock());
  int64_t shard = block.head % stride;
  if (first == last)
    return first % stride == shard ? BlockKind::Full : BlockKind::Empty;
  for (int64_t b = first; b <= last && b < first + stride; ++b)
    if (b % stride == shard)
      return BlockKind::Partial;
  return BlockKind::Empty;
}

LogicalResult
StridedShardAttr::verifyForOp(const MaskOpInfo &,
                              function_ref<InFlightDiagnostic()>) const {
  return success();
}

//===----------------------------------------------------------------------===//
// PerHeadAttr
//===----------------------------------------------------------------------===//

LogicalResult PerHeadAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<Attribute> patterns,
                                  ArrayRef<int64_t> heads) {
  if (failed(verifyMaskList(emitError, patterns, "per_head")))
    return failure();
  if (heads.empty())
    return emitError() << "per_head needs one pattern index per query head";
  for (auto [head, index] : llvm::enumerate(heads))
    if (index < 0 || index >= static_cast<int64_t>(patterns.size()))
      return emitError() << "per_head index " << index << " of head " << head
                         << " is out of range; there are " << patterns.size()
                         << " patterns";
  return success();
}

MaskAttrInterface PerHeadAttr::getPatternOf(int64_t head) const {
  return cast<MaskAttrInterface>(getPatterns()[getHeads()[head]]);
}

bool PerHeadAttr::isVisible(const MaskContext &context, int64_t batch,
                            int64_t head, int64_t query, int64_t key) const {
  return getPatternOf(head).isVisible(context, batch, head, query, key);
}

BlockKind PerHeadAttr::classifyBlock(const MaskContext &context,
                                     const MaskBlock &block) const {
  return getPatternOf(block.head).classifyBlock(context, block);
}

LogicalResult
PerHeadAttr::verifyForOp(const MaskOpInfo &info,
                         function_ref<InFlightDiagnostic()> emitError) const {
  if (static_cast<int64_t>(getHeads().size()) != info.numQueryHeads)
    return emitError() << "per_head assigns " << getHeads().size()
                       << " heads but the op has " << info.numQueryHeads
                       << " query heads";
  return verifyMaskListForOp(getPatterns(), info, emitError);
}

//===----------------------------------------------------------------------===//
// NeighborhoodAttr
//===----------------------------------------------------------------------===//

LogicalResult
NeighborhoodAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         ArrayRef<int64_t> grid, ArrayRef<int64_t> kernel,
                         ArrayRef<int64_t> dilation,
                         ArrayRef<int64_t> causalAxes) {
  size_t rank = grid.size();
  if (rank < 1 || rank > 3)
    return emitError() << "neighborhood grid must have 1, 2 or 3 axes, got "
                       << rank;
  if (kernel.size() != rank)
    return emitError() << "neighborhood kernel must have " << rank
                       << " entries (one per grid axis), got " << kernel.size();
  if (!dilation.empty() && dilation.size() != rank)
    return emitError() << "neighborhood dilation must have " << rank
                       << " entries (one per grid axis), got "
                       << dilation.size();
  for (size_t axis = 0; axis < rank; ++axis) {
    int64_t d = dilation.empty() ? 1 : dilation[axis];
    if (grid[axis] <= 0 || kernel[axis] <= 0 || d <= 0)
      return emitError() << "neighborhood grid, kernel and dilation must be "
                            "positive on axis "
                         << axis;
    if (failed(verifyMaskExtent(emitError, "neighborhood grid extent",
                                grid[axis])) ||
        failed(
            verifyMaskExtent(emitError, "neighborhood kernel", kernel[axis])) ||
        failed(verifyMaskExtent(emitError, "neighborhood dilation", d)))
      return failure();
    if (kernel[axis] * d > grid[axis])
      return emitError() << "neighborhood kernel * dilation ("
                         << kernel[axis] * d << ") exceeds grid extent ("
                         << grid[axis] << ") on axis " << axis;
  }
  // The grid holds the whole sequence, so its product is a token count too;
  // each extent is at most 2^30, so the product of three fits in 128 bits
  // but not 64: multiply step by step against the bound.
  int64_t tokens = 1;
  for (int64_t extent : grid) {
    if (extent > kMaxMaskExtent / tokens)
      return emitError() << "neighborhood grid holds more than "
                         << kMaxMaskExtent << " (2^30) tokens";
    tokens *= extent;
  }
  llvm::SmallSet<int64_t, 3> seen;
  for (int64_t axis : causalAxes)
    if (axis < 0 || axis >= static_cast<int64_t>(rank) ||
        !seen.insert(axis).second)
      return emitError() << "neighborhood causal_axes must be distinct axes in "
                            "[0, "
                         << rank << "), got " << axis;
  return success();
}

int64_t NeighborhoodAttr::getDilationOf(unsigned axis) const {
  return getDilation().empty() ? 1 : getDilation()[axis];
}

bool NeighborhoodAttr::isCausalAxis(unsigned axis) const {
  return llvm::is_contained(getCausalAxes(), static_cast<int64_t>(axis));
}

/// Whether key coordinate `y` is in the neighborhood of query coordinate
/// `x` on one axis of extent `extent`.
static bool inNeighborhood(int64_t x, int64_t y, int64_t extent, int64_t kernel,
                           int64_t dilation, bool causal) {
  if (x % dilation != y % dilation)
    return false;
  int64_t u = x / dilation, w = y / dilation;
  if (causal)
    return std::max<int64_t>(u - kernel + 1, 0) <= w && w <= u;
  int64_t groupLength = (extent - x % dilation + dilation - 1) / dilation;
  int64_t start = std::clamp<int64_t>(
      u - kernel / 2, 0, std::max<int64_t>(groupLength - kernel, 0));
  return start <= w && w < start + kernel;
}

bool NeighborhoodAttr::isVisible(const MaskContext &, int64_t, int64_t,
                                 int64_t query, int64_t key) const {
  ArrayRef<int64_t> grid = getGrid();
  // Row-major: the last axis varies fastest.
  for (int axis = grid.size() - 1; axis >= 0; --axis) {
    int64_t x = query % grid[axis], y = key % grid[axis];
    if (!inNeighborhood(x, y, grid[axis], getKernel()[axis],
                        getDilationOf(axis), isCausalAxis(axis)))
      return false;
    query /= grid[axis];
    key /= grid[axis];
  }
  return true;
}

BlockKind NeighborhoodAttr::classifyBlock(const MaskContext &,
                                          const MaskBlock &) const {
  // Sound but coarse: tiles of a flattened grid are classified at run time.
  return BlockKind::Partial;
}

LogicalResult NeighborhoodAttr::verifyForOp(
    const MaskOpInfo &info,
    function_ref<InFlightDiagnostic()> emitError) const {
  int64_t tokens = 1;
  for (int64_t extent : getGrid())
    tokens *= extent;
  for (auto [name, length] :
       {std::pair{"query", info.numQueries}, std::pair{"key", info.numKeys}})
    if (length && *length != tokens)
      return emitError() << "neighborhood grid holds " << tokens
                         << " tokens but the " << name << " sequence length is "
                         << *length;
  return success();
}

//===----------------------------------------------------------------------===//
// AndAttr / OrAttr
//===----------------------------------------------------------------------===//

LogicalResult AndAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              ArrayRef<Attribute> masks) {
  return verifyMaskList(emitError, masks, "#attn.and");
}

bool AndAttr::isVisible(const MaskContext &context, int64_t batch, int64_t head,
                        int64_t query, int64_t key) const {
  return llvm::all_of(getMasks(), [&](Attribute mask) {
    return cast<MaskAttrInterface>(mask).isVisible(context, batch, head, query,
                                                   key);
  });
}

BlockKind AndAttr::classifyBlock(const MaskContext &context,
                                 const MaskBlock &block) const {
  BlockKind result = BlockKind::Full;
  for (Attribute mask : getMasks()) {
    BlockKind kind =
        cast<MaskAttrInterface>(mask).classifyBlock(context, block);
    if (kind == BlockKind::Empty)
      return BlockKind::Empty;
    if (kind == BlockKind::Partial)
      result = BlockKind::Partial;
  }
  return result;
}

LogicalResult
AndAttr::verifyForOp(const MaskOpInfo &info,
                     function_ref<InFlightDiagnostic()> emitError) const {
  return verifyMaskListForOp(getMasks(), info, emitError);
}

LogicalResult OrAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                             ArrayRef<Attribute> masks) {
  return verifyMaskList(emitError, masks, "#attn.or");
}

bool OrAttr::isVisible(const MaskContext &context, int64_t batch, int64_t head,
                       int64_t query, int64_t key) const {
  return llvm::any_of(getMasks(), [&](Attribute mask) {
    return cast<MaskAttrInterface>(mask).isVisible(context, batch, head, query,
                                                   key);
  });
}

BlockKind OrAttr::classifyBlock(const MaskContext &context,
                                const MaskBlock &block) const {
  BlockKind result = BlockKind::Empty;
  for (Attribute mask : getMasks()) {
    BlockKind kind =
        cast<MaskAttrInterface>(mask).classifyBlock(context, block);
    if (kind == BlockKind::Full)
      return BlockKind::Full;
    if (kind == BlockKind::Partial)
      result = BlockKind::Partial;
  }
  return result;
}

LogicalResult
OrAttr::verifyForOp(const MaskOpInfo &info,
                    function_ref<InFlightDiagnostic()> emitError) const {
  return verifyMaskListForOp(getMasks(), info, emitError);
}
