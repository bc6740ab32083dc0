//===- TileOps.h - attn_tile ops --------------------------------*- C++ -*-===//
//
/// \file
/// Declares the attn_tile ops, generated from dialects/Tile/TileOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TILE_IR_TILEOPS_H
#define ATTN_DIALECT_TILE_IR_TILEOPS_H

#include "attn/Dialect/Tile/IR/TileDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "attn/Dialect/Tile/IR/TileOps.h.inc"

#endif // ATTN_DIALECT_TILE_IR_TILEOPS_H
