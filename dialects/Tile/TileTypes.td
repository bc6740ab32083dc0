//===- TileTypes.td - attn_tile types ---------------------*- tablegen -*-===//
//
// The tile type: a 1-D or 2-D block of elements with an optional layout.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TILE_TYPES
#define ATTN_DIALECT_TILE_TYPES

include "TileAttrs.td"

def Tile_TileType : Tile_Type<"Tile", "tile"> {
  let summary = "a tile of an attention algorithm";
  let description = [{
    `!attn_tile.tile<64x128xbf16>` is a 64 x 128 block of bf16 values;
    `!attn_tile.tile<64xf32>` a vector of 64. The optional layout says how
    a GPU strategy places the elements on threads:

    ```mlir
    !attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>>
    !attn_tile.tile<64xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>
    !attn_tile.tile<64x128xbf16, #attn_tile.shared>
    ```

    Sizes are static and positive; elements are f32, f16 or bf16.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "Type":$elementType,
                        OptionalParameter<"Attribute">:$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    TypeBuilderWithInferredContext<(ins "ArrayRef<int64_t>":$shape,
        "Type":$elementType, CArg<"Attribute", "{}">:$layout), [{
      return $_get(elementType.getContext(), shape, elementType, layout);
    }]>
  ];
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    int64_t getNumElements() const { return getRows() * getColumns(); }
    /// This tile's shape and layout with another element type.
    TileType withElementType(Type elementType) const;
    /// This tile's shape and element type with another layout.
    TileType withLayout(Attribute layout) const;
    int64_t getRows() const { return getShape()[0]; }
    int64_t getColumns() const { return getShape().size() == 2 ? getShape()[1] : 1; }
  }];
}

#endif // ATTN_DIALECT_TILE_TYPES
