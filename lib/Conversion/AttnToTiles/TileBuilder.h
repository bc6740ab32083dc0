//===- TileBuilder.h - builds the ops of a tile program --------*- C++ -*-===//
//
/// \file
/// The helper the tile programs (AttentionTileProgram.cpp,
/// LinearTileProgram.cpp, HybridTileProgram.cpp) build their attn_tile ops
/// with.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOTILES_TILEBUILDER_H
#define ATTN_LIB_CONVERSION_ATTNTOTILES_TILEBUILDER_H

#include "LinearTileProgram.h"
#include "attn/Conversion/KernelBuilder.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::attn {

/// Builds the attn_tile ops of one tile program.
struct TileBuilder {
  OpBuilder &b;
  Location loc;
  const Kernel &kernel;
  TileLayouts layouts;

  tile::TileType tileOf(ArrayRef<int64_t> shape, Type element,
                        Attribute layout = {}) {
    return tile::TileType::get(b.getContext(), shape, element, layout);
  }
  Type f32() { return b.getF32Type(); }

  /// An attn_tile.map of `inputs` to a tile of `result`, whose body is
  /// `body(b, coordinates, elements)`; `broadcast` as the op says.
  Value map(tile::TileType result, ValueRange inputs,
            ArrayRef<int64_t> broadcast,
            function_ref<Value(OpBuilder &, ValueRange, ValueRange)> body) {
    return tile::MapOp::create(
        b, loc, result, inputs, broadcast,
        [&](OpBuilder &nb, Location, ValueRange coordinates,
            ValueRange elements) { return body(nb, coordinates, elements); });
  }
  /// `x` with elements of type `element` (rounded or widened).
  Value withElementType(Value x, Type element) {
    auto type = cast<tile::TileType>(x.getType());
    if (type.getElementType() == element)
      return x;
    SmallVector<int64_t> full(1, -1);
    return map(type.withElementType(element), x, full,
               [&](OpBuilder &nb, ValueRange, ValueRange v) {
                 return convertFloat(nb, loc, v[0], element);
               });
  }
  /// `x` in `layout` (no op when it is there already).
  Value withLayout(Value x, Attribute layout) {
    auto type = cast<tile::TileType>(x.getType());
    if (type.getLayout() == layout)
      return x;
    return tile::ConvertLayoutOp::create(b, loc, type.withLayout(layout), x);
  }
  /// `x` as the left operand of a matmul over `element`: an accumulator
  /// becomes the A operand in registers.
  Value lhsOperand(Value x, Type element) {
    x = withElementType(x, element);
    auto type = cast<tile::TileType>(x.getType());
    if (layouts.accumulator && type.getLayout() == layouts.accumulator)
      return withLayout(x, tile::OperandLayoutAttr::get(
                               b.getContext(), /*index=*/0,
                               cast<tile::MmaLayoutAttr>(layouts.accumulator)));
    return x;
  }
  /// `x` as the right operand of a matmul over `element`: in memory.
  Value rhsOperand(Value x, Type element) {
    return withLayout(withElementType(x, element), layouts.loaded);
  }
  Value zeros(tile::TileType type) {
    Value zero = arith::ConstantOp::create(
        b, loc, b.getFloatAttr(type.getElementType(), 0.0));
    return tile::SplatOp::create(b, loc, type, zero);
  }
  Value load(tile::TileType type, Value memory, ValueRange indices,
             Value bound) {
    return tile::LoadOp::create(b, loc, type, memory, indices, bound);
  }
};

} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOTILES_TILEBUILDER_H
