//===- TileAttrs.td - attn_tile layouts and enums ---------*- tablegen -*-===//
//
// The layouts a tile type may carry: which thread of a GPU block holds which
// (row, column) of the tile. A strategy lowers the layouts it knows.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TILE_ATTRS
#define ATTN_DIALECT_TILE_ATTRS

include "TileBase.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tile_ReductionKind : I32EnumAttr<"ReductionKind",
    "how a row reduction combines its elements", [
  I32EnumAttrCase<"add", 0>,
  I32EnumAttrCase<"max", 1>]> {
  let cppNamespace = "::mlir::attn::tile";
  let genSpecializedAttr = 0;
}
def Tile_ReductionKindAttr : EnumAttr<Tile_Dialect, Tile_ReductionKind,
                                      "reduction"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

def Tile_MmaLayoutAttr : Tile_Attr<"MmaLayout", "mma"> {
  let summary = "the accumulator layout of the m16n8k16 tensor-core MMA";
  let description = [{
    `#attn_tile.mma<warps = [WM, WN]>` spreads an `[M, N]` f32 tile over
    `WM x WN` warps the way `mma.sync.m16n8k16` leaves its accumulator.
    Warp `w` owns the row block `(w / WN) * M / WM` and the column block
    `(w % WN) * N / WN` of sizes `M / WM` by `N / WN`; within it, the warp
    repeats a 16 x 8 pattern `repM = M / (16 WM)` times down and
    `repN = N / (8 WN)` times across. Lane `l` (group `g = l / 4`, quad
    index `q = l % 4`) holds four elements of each 16 x 8 repetition
    `(a, c)`:

    ```
    element 4 (a repN + c) + k  ->  row 16 a + g + 8 (k / 2)
                                    column 8 c + 2 q + k % 2
    ```

    For a 16 x 8 repetition, lane by (row, column):

    ```
    row 0:  l0 l0 l1 l1 l2 l2 l3 l3
    row 1:  l4 l4 l5 l5 l6 l6 l7 l7
    ...
    row 7:  l28 l28 l29 l29 l30 l30 l31 l31
    row 8:  l0 l0 l1 l1 l2 l2 l3 l3      (elements 2 and 3)
    ...
    ```

    A row is held by the four lanes of one quad, so a row reduction is a
    reduction within the thread and two shuffles.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$warps);
  let assemblyFormat = "`<` `warps` `=` `[` $warps `]` `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumWarps() const;
  }];
}

def Tile_OperandLayoutAttr : Tile_Attr<"OperandLayout", "operand"> {
  let summary = "an A or B operand of the m16n8k16 tensor-core MMA";
  let description = [{
    `#attn_tile.operand<index = 0, parent = #attn_tile.mma<...>>` is the A
    operand (`[M, K]`, 16-bit elements) of a matmul whose result has the
    layout `parent`; `index = 1` is the B operand (`[K, N]`). Each warp
    holds the rows (A) or columns (B) of its part of the result, in 16-wide
    k-steps. Lane `l` (`g = l / 4`, `q = l % 4`) holds of k-step `s`:

    ```
    A: (g, 16 s + 2 q + {0, 1}), (g + 8, ...), (g, 16 s + 8 + 2 q + {0, 1}),
       (g + 8, 16 s + 8 + 2 q + {0, 1})
    B: (16 s + 2 q + {0, 1}, g), (16 s + 8 + 2 q + {0, 1}, g)
    ```

    The accumulator of two adjacent 8-column repetitions is, element for
    element, the A operand of one k-step: converting an `#attn_tile.mma`
    tile to `index = 0` moves no data between threads.
  }];
  let parameters = (ins "unsigned":$index, "MmaLayoutAttr":$parent);
  let assemblyFormat = "`<` `index` `=` $index `,` `parent` `=` qualified($parent) `>`";
  let genVerifyDecl = 1;
}

def Tile_SliceLayoutAttr : Tile_Attr<"SliceLayout", "slice"> {
  let summary = "a row or column vector laid out along a 2-D layout";
  let description = [{
    `#attn_tile.slice<dim = 1, parent = L>` lays a 1-D tile of `M` elements
    out as the rows of the 2-D layout `L`: each thread holds the entries of
    the rows it holds in `L` (for `#attn_tile.mma`, `2 repM` entries, the
    same in the four lanes of a quad). `dim = 0` removes the rows instead:
    the vector runs along the columns of `L`. A row reduction of an `L`
    tile has the layout `slice<dim = 1, parent = L>`, and a map may
    broadcast such a vector along the dimension it removed.
  }];
  let parameters = (ins "unsigned":$dim, "Attribute":$parent);
  let assemblyFormat = "`<` `dim` `=` $dim `,` `parent` `=` qualified($parent) `>`";
  let genVerifyDecl = 1;
}

def Tile_SharedLayoutAttr : Tile_Attr<"SharedLayout", "shared"> {
  let summary = "a tile in the shared memory of a GPU block";
  let description = [{
    `#attn_tile.shared` keeps the tile in the block's shared memory, row
    major. Each row is padded by 16 bytes, so that the rows of an 8 x 8
    matrix that `ldmatrix` reads start 16 bytes apart in the banks and
    never conflict. A `[64, 128]` bf16 tile takes 64 rows of 272 bytes:

    ```
    row 0: bytes    0 ..  255 data,  256 ..  271 padding
    row 1: bytes  272 ..  527 data,  528 ..  543 padding
    ...
    ```

    1-D tiles are not padded. Every thread of the block may read any
    element; an op that writes a shared tile is bracketed by barriers.
  }];
  let parameters = (ins);
}

#endif // ATTN_DIALECT_TILE_ATTRS
