//===- TileDialect.cpp - attn_tile dialect, layouts and types -------------===//
//
/// \file
/// Registers the attn_tile dialect, and parses, prints and verifies its
/// layouts and the tile type.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Tile/IR/TileDialect.h"
#include "attn/Dialect/Tile/IR/TileOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn::tile;

#include "attn/Dialect/Tile/IR/TileDialect.cpp.inc"
#include "attn/Dialect/Tile/IR/TileEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Tile/IR/TileAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "attn/Dialect/Tile/IR/TileTypes.cpp.inc"

void TileDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Tile/IR/TileOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}

void TileDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Tile/IR/TileAttrs.cpp.inc"
      >();
}

void TileDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "attn/Dialect/Tile/IR/TileTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

LogicalResult
MmaLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      ArrayRef<int64_t> warps) {
  if (warps.size() != 2)
    return emitError() << "expected warps = [rows, columns], got "
                       << warps.size() << " entries";
  if (llvm::any_of(warps, [](int64_t w) { return w < 1 || w > 32; }))
    return emitError() << "warps per dimension must lie in [1, 32]";
  if (warps[0] * warps[1] > 32)
    return emitError() << "a block has at most 32 warps, got "
                       << warps[0] * warps[1];
  return success();
}

int64_t MmaLayoutAttr::getNumWarps() const {
  return getWarps()[0] * getWarps()[1];
}

LogicalResult
OperandLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          unsigned index, MmaLayoutAttr parent) {
  if (index > 1)
    return emitError() << "operand index must be 0 (A) or 1 (B), got " << index;
  return success();
}

LogicalResult
SliceLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        unsigned dim, Attribute parent) {
  if (dim > 1)
    return emitError() << "slice dim must be 0 or 1, got " << dim;
  if (!isa<MmaLayoutAttr, OperandLayoutAttr>(parent))
    return emitError() << "a slice's parent must be an #attn_tile.mma or "
                          "#attn_tile.operand layout";
  return success();
}

//===----------------------------------------------------------------------===//
// TileType
//===----------------------------------------------------------------------===//

Type TileType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  Attribute layout;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false) ||
      parser.parseType(elementType))
    return {};
  if (succeeded(parser.parseOptionalComma()) && parser.parseAttribute(layout))
    return {};
  if (parser.parseGreater())
    return {};
  return parser.getChecked<TileType>(parser.getContext(), shape, elementType,
                                     layout);
}

void TileType::print(AsmPrinter &printer) const {
  printer << "<";
  for (int64_t size : getShape())
    printer << size << "x";
  printer << getElementType();
  if (getLayout())
    printer << ", " << getLayout();
  printer << ">";
}

LogicalResult TileType::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int64_t> shape, Type elementType,
                               Attribute layout) {
  if (shape.empty() || shape.size() > 2)
    return emitError() << "a tile has 1 or 2 dimensions, got " << shape.size();
  if (llvm::any_of(shape, [](int64_t s) { return s < 1 || s > (1 << 20); }))
    return emitError() << "tile sizes must lie in [1, 2^20]";
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return emitError() << "tile elements must be f32, f16 or bf16, got "
                       << elementType;
  if (!layout)
    return success();
  if (isa<SharedLayoutAttr>(layout))
    return success();
  if (auto mma = dyn_cast<MmaLayoutAttr>(layout)) {
    if (shape.size() != 2)
      return emitError() << "an #attn_tile.mma tile has 2 dimensions";
    if (shape[0] % (16 * mma.getWarps()[0]) ||
        shape[1] % (8 * mma.getWarps()[1]))
      return emitError() << "an #attn_tile.mma tile's rows must be a multiple "
                            "of 16 per row of warps and its columns of 8 per "
                            "column of warps";
    return success();
  }
  if (auto operand = dyn_cast<OperandLayoutAttr>(layout)) {
    if (shape.size() != 2)
      return emitError() << "an #attn_tile.operand tile has 2 dimensions";
    if (elementType.isF32())
      return emitError() << "an #attn_tile.operand tile holds f16 or bf16";
    ArrayRef<int64_t> warps = operand.getParent().getWarps();
    bool fits = operand.getIndex() == 0
                    ? shape[0] % (16 * warps[0]) == 0 && shape[1] % 16 == 0
                    : shape[0] % 16 == 0 && shape[1] % (8 * warps[1]) == 0;
    if (!fits)
      return emitError() << "an #attn_tile.operand tile's k dimension must be "
                            "a multiple of 16 and its other dimension fit its "
                            "parent's warps";
    return success();
  }
  if (auto slice = dyn_cast<SliceLayoutAttr>(layout)) {
    if (shape.size() != 1)
      return emitError() << "an #attn_tile.slice tile has 1 dimension";
    return success();
  }
  return emitError() << "unknown tile layout " << layout;
}

TileType TileType::withElementType(Type elementType) const {
  return TileType::get(getContext(), getShape(), elementType, getLayout());
}

TileType TileType::withLayout(Attribute layout) const {
  return TileType::get(getContext(), getShape(), getElementType(), layout);
}
