//===- MmaFragments.cpp - m16n8k16 MMA fragments --------------------------===//
//
/// \file
/// ldmatrix loads, operand registers and the m16n8k16 MMA, shared by the
/// tensor-core attention kernel and the mma.sync strategy of the tile level.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/MmaFragments.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::attn;

Value mlir::attn::getMmaOperand(OpBuilder &b, Location loc, Value pair) {
  auto type = cast<VectorType>(pair.getType());
  if (!type.getElementType().isBF16())
    return pair;
  return LLVM::BitcastOp::create(b, loc, b.getI32Type(), pair);
}

std::array<Value, 4> mlir::attn::loadMatrices(OpBuilder &b, Location loc,
                                              Value tile, Value row,
                                              Value column, bool transpose) {
  Type element = cast<MemRefType>(tile.getType()).getElementType();
  Value matrices = nvgpu::LdMatrixOp::create(
      b, loc, VectorType::get({4, 2}, element), tile, ValueRange{row, column},
      transpose, /*numTiles=*/4);
  std::array<Value, 4> out;
  for (int64_t i = 0; i < 4; ++i)
    out[i] = vector::ExtractOp::create(b, loc, matrices, i);
  return out;
}

/// D = A B + C for one m16n8kK tile of `type` operands with an f32
/// accumulator, A row-major and B column-major.
static MmaFragment emitFloatAccumulatorMma(OpBuilder &b, Location loc,
                                           NVVM::MMATypes type, int64_t k,
                                           ValueRange a, ValueRange bOperand,
                                           ValueRange c) {
  Type f32 = b.getF32Type();
  auto result =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  Value d = NVVM::MmaOp::create(
      b, loc, result, a, bOperand, c, {16, 8, static_cast<int>(k)},
      std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  MmaFragment out;
  for (int64_t i = 0; i < 4; ++i)
    out[i] = LLVM::ExtractValueOp::create(b, loc, d, i);
  return out;
}

MmaFragment mlir::attn::emitMma(OpBuilder &b, Location loc, Type element,
                                ArrayRef<Value> a, Value b0, Value b1,
                                ArrayRef<Value> c) {
  NVVM::MMATypes type =
      element.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  return emitFloatAccumulatorMma(b, loc, type, /*k=*/16, a, ValueRange{b0, b1},
                                 c);
}

MmaFragment mlir::attn::emitTf32Mma(OpBuilder &b, Location loc,
                                    ArrayRef<Value> a, ArrayRef<Value> bOperand,
                                    ArrayRef<Value> c) {
  return emitFloatAccumulatorMma(b, loc, NVVM::MMATypes::tf32, /*k=*/8, a,
                                 bOperand, c);
}

Value mlir::attn::getUnitStrideRows(OpBuilder &b, Location loc, Value memory,
                                    ValueRange leading) {
  auto type = cast<MemRefType>(memory.getType());
  int64_t rank = type.getRank();
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, memory);
  Value offset = metadata.getOffset();
  for (int64_t d = 0; d + 2 < rank; ++d)
    offset = arith::AddIOp::create(
        b, loc, offset,
        arith::MulIOp::create(b, loc, leading[d], metadata.getStrides()[d]));
  auto layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                       {ShapedType::kDynamic, 1});
  auto view = MemRefType::get({ShapedType::kDynamic, type.getShape().back()},
                              type.getElementType(), layout);
  SmallVector<OpFoldResult> sizes = {metadata.getSizes()[rank - 2],
                                     b.getIndexAttr(type.getShape().back())};
  SmallVector<OpFoldResult> strides = {metadata.getStrides()[rank - 2],
                                       b.getIndexAttr(1)};
  return memref::ReinterpretCastOp::create(
      b, loc, view, metadata.getBaseBuffer(), offset, sizes, strides);
}

Value mlir::attn::getWorkspaceView(OpBuilder &b, Location loc, Value workspace,
                                   Value bi, Value h, OpFoldResult start,
                                   OpFoldResult rows,
                                   ArrayRef<int64_t> rowShape, Type element) {
  if (!element)
    element = b.getF32Type();
  // Elements per f32 word: 1, or 2 of a 16-bit type.
  int64_t perWord = 32 / element.getIntOrFloatBitWidth();
  assert(perWord * element.getIntOrFloatBitWidth() == 32 &&
         "a workspace view holds 32- or 16-bit elements");
  int64_t rowWords = 1;
  for (int64_t extent : rowShape)
    rowWords *= extent;
  assert(rowWords % perWord == 0 && "a view's rows fill whole words");
  rowWords /= perWord;
  std::optional<int64_t> staticRows = getConstantIntValue(rows);
  OpFoldResult words =
      staticRows ? OpFoldResult(b.getIndexAttr(*staticRows * rowWords))
                 : OpFoldResult(arith::MulIOp::create(
                       b, loc, cast<Value>(rows),
                       arith::ConstantIndexOp::create(b, loc, rowWords)));
  SmallVector<OpFoldResult> offsets = {bi, h, start};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                     words};
  SmallVector<OpFoldResult> unit(3, b.getIndexAttr(1));
  auto sourceType = cast<MemRefType>(workspace.getType());
  MemRefType flatType = memref::SubViewOp::inferRankReducedResultType(
      {staticRows ? *staticRows * rowWords : ShapedType::kDynamic}, sourceType,
      offsets, sizes, unit);
  Value flat = memref::SubViewOp::create(b, loc, flatType, workspace, offsets,
                                         sizes, unit);
  SmallVector<int64_t> shape = {staticRows.value_or(ShapedType::kDynamic)};
  llvm::append_range(shape, rowShape);
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  auto type = MemRefType::get(
      shape, element,
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides));
  SmallVector<OpFoldResult> viewSizes = {rows}, viewStrides;
  for (int64_t extent : rowShape)
    viewSizes.push_back(b.getIndexAttr(extent));
  for (int64_t stride : strides)
    viewStrides.push_back(b.getIndexAttr(stride));
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, flat);
  if (perWord == 1)
    return memref::ReinterpretCastOp::create(b, loc, type, flat,
                                             OpFoldResult(metadata.getOffset()),
                                             viewSizes, viewStrides);
  // 16-bit elements: the workspace's base buffer as one of that type, and
  // the offset in its elements. No memref op changes the element type; the
  // cast is between two descriptors that lower to the same LLVM struct
  // (opaque pointers), which reconcile-unrealized-casts folds away once
  // memrefs are lowered.
  Value base = metadata.getBaseBuffer();
  auto baseType = cast<MemRefType>(base.getType());
  Value typedBase = UnrealizedConversionCastOp::create(
                        b, loc,
                        MemRefType::get(baseType.getShape(), element,
                                        MemRefLayoutAttrInterface{},
                                        baseType.getMemorySpace()),
                        ValueRange{base})
                        .getResult(0);
  Value offset =
      arith::MulIOp::create(b, loc, metadata.getOffset(),
                            arith::ConstantIndexOp::create(b, loc, perWord));
  return memref::ReinterpretCastOp::create(
      b, loc, type, typedBase, OpFoldResult(offset), viewSizes, viewStrides);
}

Value mlir::attn::getDynamicSharedView(OpBuilder &b, Location loc,
                                       MemRefType type, Value byteOffset) {
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  Value dynamic = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface{}, workgroup));
  return memref::ViewOp::create(b, loc, type, dynamic, byteOffset,
                                ValueRange{});
}
