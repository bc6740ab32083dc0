//===- MmaFragments.h - m16n8k16 MMA fragments ------------------*- C++ -*-===//
//
/// \file
/// The pieces of the m16n8k16 tensor-core MMA (mma.sync, sm_80 and later)
/// that every kernel using it shares: ldmatrix.x4 loads, 16-bit operand
/// registers and the MMA itself, and the memory views its loads take (rows
/// of unit stride for cp.async, tiles of dynamic shared memory).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_MMAFRAGMENTS_H
#define ATTN_CONVERSION_MMAFRAGMENTS_H

#include "mlir/IR/Builders.h"
#include <array>

namespace mlir::attn {

/// Four registers of one thread: an A operand, or an f32 accumulator.
using MmaFragment = std::array<Value, 4>;

/// A pair of 16-bit values as mma.sync takes it: vector<2xf16> as it is, or
/// two bf16 as one i32 (NVVM's bf16 MMA has integer operands).
Value getMmaOperand(OpBuilder &b, Location loc, Value pair);

/// ldmatrix.x4 of the shared memref `tile`, this lane giving the address
/// (row, column): the four 8x8 matrices' register pairs, as vectors of two
/// of the tile's element type.
std::array<Value, 4> loadMatrices(OpBuilder &b, Location loc, Value tile,
                                  Value row, Value column, bool transpose);

/// D = A B + C for one m16n8k16 tile: A row-major 16x16 (four operand
/// registers), B column-major 16x8 (two), C and D f32 16x8 (four).
MmaFragment emitMma(OpBuilder &b, Location loc, Type element, ArrayRef<Value> a,
                    Value b0, Value b1, ArrayRef<Value> c);

/// D = A B + C for one m16n8k8 tile of tf32 operands (as i32 bits): A
/// row-major 16x8 (four registers), B column-major 8x8 (two), C and D f32
/// 16x8 (four).
MmaFragment emitTf32Mma(OpBuilder &b, Location loc, ArrayRef<Value> a,
                        ArrayRef<Value> bOperand, ArrayRef<Value> c);

/// A 2-D view [rows, columns] with unit column stride of the last two
/// dimensions of `memory`, at `leading` (one index per leading dimension):
/// what cp.async and vector loads read (the runtime checks the unit
/// innermost stride: GPULaunch::alignedRows).
Value getUnitStrideRows(OpBuilder &b, Location loc, Value memory,
                        ValueRange leading);

/// A view of `type` (workgroup memory) at `byteOffset` of the block's
/// dynamic shared memory.
Value getDynamicSharedView(OpBuilder &b, Location loc, MemRefType type,
                           Value byteOffset);

/// A row-major view [rows, rowShape...] of `element`s (f32 if null, or a
/// 16-bit float, two a word) from word `start` of the slice [bi, h, :] of
/// an f32 workspace [B, H, words]. The runtime allocates the workspace
/// contiguous, so the view's strides are static (loads and stores fold
/// them); its offset is dynamic.
Value getWorkspaceView(OpBuilder &b, Location loc, Value workspace, Value bi,
                       Value h, OpFoldResult start, OpFoldResult rows,
                       ArrayRef<int64_t> rowShape, Type element = {});

} // namespace mlir::attn

#endif // ATTN_CONVERSION_MMAFRAGMENTS_H
