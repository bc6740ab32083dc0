//===- TileBase.td - attn_tile dialect definition ---------*- tablegen -*-===//
//
// The attn_tile dialect: the tile level between the attn spec ops and the
// per-target strategies.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TILE_BASE
#define ATTN_DIALECT_TILE_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tile_Dialect : Dialect {
  let name = "attn_tile";
  let cppNamespace = "::mlir::attn::tile";
  let summary = "Tiles of attention algorithms, and the layouts that place them";
  let description = [{
    The `attn_tile` dialect states *how* an attention algorithm runs, once,
    for every target: tile loads and stores with zero fill past the sequence
    ends, tile matmuls, elementwise maps whose region sees each element's
    (row, column), row reductions, and the chunk operations of linear
    attention (log-gate prefix sums, decay masks, the delta rule's UT solve
    and the state update).

    Tiles are values (`!attn_tile.tile<64x128xf32>`). State that flows from
    one tile step to the next, such as a recurrent state, is an explicit
    operand and result, carried by `scf.for`.

    A tile's type may carry a layout attribute that says which thread of a
    GPU block holds which element (`#attn_tile.mma`, `#attn_tile.operand`,
    `#attn_tile.slice`, `#attn_tile.shared`). A tile without a layout is
    target independent. Each strategy (the CPU's loops, `mma.sync`) lowers
    the ops whose layouts it understands and refuses the rest.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

class Tile_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tile_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

class Tile_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tile_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

#endif // ATTN_DIALECT_TILE_BASE
