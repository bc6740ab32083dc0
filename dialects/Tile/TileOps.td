//===- TileOps.td - attn_tile operations ------------------*- tablegen -*-===//
//
// Tile loads and stores, matmuls, elementwise maps with (row, column),
// row reductions and the chunk operations of linear attention.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TILE_OPS
#define ATTN_DIALECT_TILE_OPS

include "TileTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tile_FloatTile : Type<And<[CPred<"::llvm::isa<::mlir::attn::tile::TileType>($_self)">,
    CPred<"::llvm::cast<::mlir::attn::tile::TileType>($_self).getElementType().isF32() || ::llvm::cast<::mlir::attn::tile::TileType>($_self).getElementType().isF16() || ::llvm::cast<::mlir::attn::tile::TileType>($_self).getElementType().isBF16()">]>,
    "tile of f32, f16 or bf16", "::mlir::attn::tile::TileType">;
def Tile_F32Tile : Type<And<[CPred<"::llvm::isa<::mlir::attn::tile::TileType>($_self)">,
    CPred<"::llvm::cast<::mlir::attn::tile::TileType>($_self).getElementType().isF32()">]>,
    "tile of f32", "::mlir::attn::tile::TileType">;

//===----------------------------------------------------------------------===//
// Creation, loads and stores
//===----------------------------------------------------------------------===//

def Tile_SplatOp : Tile_Op<"splat", [Pure]> {
  let summary = "a tile with every element equal to one value";
  let description = [{
    `attn_tile.splat` gives a tile whose elements all equal `$value`, whose
    type is the tile's element type.

    ```mlir
    %zero = arith.constant 0.0 : f32
    %acc = attn_tile.splat %zero : f32 -> !attn_tile.tile<64x64xf32>
    ```
  }];
  let arguments = (ins AnyFloat:$value);
  let results = (outs Tile_FloatTile:$result);
  let assemblyFormat = "$value attr-dict `:` qualified(type($value)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tile_LoadOp : Tile_Op<"load", [
    MemoryEffects<[MemRead]>, AttrSizedOperandSegments]> {
  let summary = "loads a tile from memory, with zeros past the last row";
  let description = [{
    `attn_tile.load` reads a tile whose first element is
    `$source[$indices]`. A 2-D tile runs along the last two dimensions of
    the source (rows along the second to last, columns along the last); a
    1-D tile along the last. Row `r` of the tile is source row
    `indices[rank - 2] + r` (2-D) or `indices[rank - 1] + r` (1-D); rows at
    or past `$rows_below` read as zero, so a chunk or tile that runs past
    the end of a sequence needs no special case. Columns must lie inside
    the source. The tile's element type is the source's, or f32 (the
    elements are widened).

    ```mlir
    // Rows [t0, t0 + 64) of head h of sequence b; zero past n.
    %q = attn_tile.load %query[%b, %h, %t0, %c0] rows_below %n
        : memref<?x16x?x128xbf16> -> !attn_tile.tile<64x128xbf16>
    ```
  }];
  let arguments = (ins Arg<AnyMemRef, "", [MemRead]>:$source,
                       Variadic<Index>:$indices, Optional<Index>:$rows_below);
  let results = (outs Tile_FloatTile:$result);
  let assemblyFormat = [{
    $source `[` $indices `]` (`rows_below` $rows_below^)? attr-dict `:`
    qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tile_StoreOp : Tile_Op<"store", [
    MemoryEffects<[MemWrite]>, AttrSizedOperandSegments]> {
  let summary = "stores a tile to memory, up to a last row";
  let description = [{
    `attn_tile.store` writes `$tile` at `$dest[$indices]`, placed as
    `attn_tile.load` reads it. Rows at or past `$rows_below` are not
    written. f32 elements are rounded to the destination's element type.

    ```mlir
    attn_tile.store %o, %out[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x128xf32> -> memref<?x16x?x128xbf16>
    ```
  }];
  let arguments = (ins Tile_FloatTile:$tile,
                       Arg<AnyMemRef, "", [MemWrite]>:$dest,
                       Variadic<Index>:$indices, Optional<Index>:$rows_below);
  let assemblyFormat = [{
    $tile `,` $dest `[` $indices `]` (`rows_below` $rows_below^)? attr-dict
    `:` qualified(type($tile)) `->` qualified(type($dest))
  }];
  let hasVerifier = 1;
}

def Tile_ConvertLayoutOp : Tile_Op<"convert_layout", [Pure]> {
  let summary = "moves a tile to another layout";
  let description = [{
    `attn_tile.convert_layout` returns `$source` with the layout of the
    result type: the same shape, the same element type and the same
    values, held by other threads (through shared memory, or, from an
    `#attn_tile.mma` accumulator to the A operand of the next matmul, by
    renaming registers).

    ```mlir
    %a = attn_tile.convert_layout %p
        : !attn_tile.tile<64x64xbf16, #mma> -> !attn_tile.tile<64x64xbf16, #operand_a>
    ```
  }];
  let arguments = (ins Tile_FloatTile:$source);
  let results = (outs Tile_FloatTile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tile_MatmulOp : Tile_Op<"matmul", [Pure,
    AllTypesMatch<["acc", "result"]>]> {
  let summary = "accumulates the product of two tiles";
  let description = [{
    `attn_tile.matmul` computes `acc + op(lhs) op(rhs)` in f32, where
    `op(x)` is `x` or, with `transpose_lhs` / `transpose_rhs`, its
    transpose: `[M, K] x [K, N] -> [M, N]`. The operands have one element
    type (f32, f16 or bf16); `acc` and the result are f32.

    ```mlir
    // S = Q K^T
    %s = attn_tile.matmul %q, %k, %zero {transpose_rhs}
        : !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x128xbf16>,
          !attn_tile.tile<64x64xf32>
    ```
  }];
  let arguments = (ins Tile_FloatTile:$lhs, Tile_FloatTile:$rhs,
                       Tile_F32Tile:$acc, UnitAttr:$transpose_lhs,
                       UnitAttr:$transpose_rhs);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $acc attr-dict `:` qualified(type($lhs)) `,` qualified(type($rhs)) `,`
    qualified(type($acc))
  }];
  let hasVerifier = 1;
}

def Tile_MapOp : Tile_Op<"map", [
    RecursiveMemoryEffects, SingleBlock]> {
  let summary = "applies a region to every element of a tile";
  let description = [{
    `attn_tile.map` computes each element of its result by running `$body`
    on that element's row, its column (2-D results only) and the matching
    element of every input. An input of the result's shape gives its
    element at (row, column). A 1-D input of a 2-D result is broadcast:
    `broadcast[n] = 0` makes input `n` a vector over the rows (entry `row`),
    `broadcast[n] = 1` a vector over the columns (entry `column`);
    `broadcast[n] = -1` (the default) is a full-shape input. All inputs and
    the result have one layout (a broadcast input the matching
    `#attn_tile.slice`). This is how the user's regions (score_mod,
    mask_mod, feature maps, gates) and the algorithms' own elementwise
    steps run on tiles, with each element's coordinates derived from the
    layout.

    ```mlir
    // a_ij exp(p_i - p_j) where j <= i, else 0
    %d = attn_tile.map %a, %p, %p {broadcast = array<i64: -1, 0, 1>}
        : (!attn_tile.tile<64x64xf32>, !attn_tile.tile<64xf32>,
           !attn_tile.tile<64xf32>) -> !attn_tile.tile<64x64xf32> {
    ^bb0(%i: index, %j: index, %x: f32, %pi: f32, %pj: f32):
      ...
      attn_tile.yield %y : f32
    }
    ```
  }];
  let arguments = (ins Variadic<Tile_FloatTile>:$inputs,
                       OptionalAttr<DenseI64ArrayAttr>:$broadcast);
  let results = (outs Tile_FloatTile:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, $result) $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let builders = [
    // The body's block (the coordinates, then one element per input) is
    // made here; `body` gives the value it yields. `broadcast` holds -1, 0
    // or 1 per input; all -1 (or empty) leaves the attribute unset.
    OpBuilder<(ins "::mlir::attn::tile::TileType":$result,
                   "::mlir::ValueRange":$inputs,
                   "::llvm::ArrayRef<int64_t>":$broadcast,
                   "::llvm::function_ref<::mlir::Value(::mlir::OpBuilder &, "
                   "::mlir::Location, ::mlir::ValueRange, "
                   "::mlir::ValueRange)>":$body)>
  ];
  let extraClassDeclaration = [{
    /// -1, 0 or 1 for input `n` (see the description).
    int64_t getBroadcastDim(unsigned n);
    /// The block arguments of the row and column (null for a 1-D result).
    BlockArgument getRowArgument() { return getBody().getArgument(0); }
    BlockArgument getColumnArgument();
    /// The block arguments of the inputs' elements.
    Block::BlockArgListType getElementArguments();
  }];
}

def Tile_YieldOp : Tile_Op<"yield", [
    Pure, Terminator, ReturnLike, HasParent<"MapOp">]> {
  let summary = "yields an element of an attn_tile.map";
  let description = [{
    `attn_tile.yield` ends the body of an `attn_tile.map` with the value of
    one result element.
  }];
  let arguments = (ins AnyFloat:$value);
  let assemblyFormat = "$value attr-dict `:` qualified(type($value))";
}

def Tile_ReduceOp : Tile_Op<"reduce", [Pure]> {
  let summary = "reduces each row of a tile";
  let description = [{
    `attn_tile.reduce` combines the elements of each row of a 2-D f32 tile
    with `add` or `max`, giving a 1-D tile of the rows. Its layout is
    `#attn_tile.slice<dim = 1, parent = L>` for a source of layout `L`.

    ```mlir
    %m = attn_tile.reduce <max> %s
        : !attn_tile.tile<64x64xf32> -> !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_ReductionKindAttr:$kind, Tile_F32Tile:$source);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $kind $source attr-dict `:` qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Softmax attention: the online softmax and its finalization
//===----------------------------------------------------------------------===//

def Tile_OnlineSoftmaxOp : Tile_Op<"online_softmax", [Pure,
    AllTypesMatch<["max", "sum", "new_max", "new_sum", "correction"]>,
    AllTypesMatch<["scores", "probs"]>]> {
  let summary = "one key tile's step of the online softmax, state explicit";
  let description = [{
    `attn_tile.online_softmax` takes a tile of scores `X` (`[M, N]` f32,
    `-inf` where a key is masked), a positive `scale` (1 unless given) and
    the running row maximum `m` and row sum `l` (`[M]`) of the key tiles
    before. With `S = scale X` it gives
    - `m' = max(m, max_j S_ij)`;
    - `P_ij = exp(S_ij - m')`, exactly 0 where `X_ij = -inf`;
    - the correction `c = exp(m - m')`, exactly 0 where `m = -inf` (no key
      kept yet);
    - `l' = c l + sum_j P_ij`.
    The accumulator's step, `acc' = diag(c) acc + P V`, is a map and a
    matmul of the caller's. Starting from `m = -inf`, `l = 0`, a row with
    no key kept ends with `l = 0` (see `attn_tile.finalize`). The scale lets
    a program hand over raw `Q K^T` products when nothing else needs the
    scaled scores: a strategy folds it into the exponent, `exp2(X c - m'
    log2(e))` with `c = scale log2(e)`, one multiply-add per element.

    ```mlir
    %p, %m1, %l1, %c = attn_tile.online_softmax %s, %m0, %l0 {scale = 0.125 : f32}
        : !attn_tile.tile<64x64xf32>, !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$scores, Tile_F32Tile:$max,
                       Tile_F32Tile:$sum,
                       DefaultValuedAttr<F32Attr, "1.0f">:$scale);
  let results = (outs Tile_F32Tile:$probs, Tile_F32Tile:$new_max,
                      Tile_F32Tile:$new_sum, Tile_F32Tile:$correction);
  let assemblyFormat = [{
    $scores `,` $max `,` $sum attr-dict `:` qualified(type($scores)) `,`
    qualified(type($max))
  }];
  let hasVerifier = 1;
}

def Tile_FinalizeOp : Tile_Op<"finalize", [Pure,
    AllTypesMatch<["accumulator", "result"]>]> {
  let summary = "divides each row of the accumulator by its sum";
  let description = [{
    `attn_tile.finalize` gives `O_ij = acc_ij / l_i`, and exactly 0 for a
    row whose sum `l_i` is 0 (a row that kept no key, or whose weights
    sum to zero): the last step of softmax and of l1 normalization. (The
    sigmoid and relu normalizations use the accumulator as it is.)

    ```mlir
    %o = attn_tile.finalize %acc, %l
        : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$accumulator, Tile_F32Tile:$sum);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $accumulator `,` $sum attr-dict `:` qualified(type($accumulator)) `,`
    qualified(type($sum))
  }];
  let hasVerifier = 1;
}

def Tile_LogSumExpOp : Tile_Op<"log_sum_exp", [Pure,
    AllTypesMatch<["max", "sum", "result"]>]> {
  let summary = "the log-sum-exp of each row from its online-softmax state";
  let description = [{
    `attn_tile.log_sum_exp` gives `m_i + log(l_i)` from the final running
    maximum and sum of `attn_tile.online_softmax`: the log of the row's
    softmax denominator, `-inf` for a row with `l_i = 0` (no key kept). A
    NaN sum gives NaN.

    ```mlir
    %lse = attn_tile.log_sum_exp %m, %l : !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$max, Tile_F32Tile:$sum);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $max `,` $sum attr-dict `:` qualified(type($max))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Feature maps of linear attention that are not elementwise
//===----------------------------------------------------------------------===//

def Tile_Taylor2FeaturesOp : Tile_Op<"taylor2_features", [Pure]> {
  let summary = "Based's second-order Taylor feature map of each row";
  let description = [{
    `attn_tile.taylor2_features` maps each row `x` (`D` entries) of a
    `[C, D]` tile to `phi(x) = [1, x, vec(x x^T) / sqrt(2)]`, a row of
    `1 + D + D^2`: entry 0 is 1, entry `1 + a` is `x_a`, and entry
    `1 + D + a D + c` is `x_a x_c / sqrt(2)` (docs/semantics.md), so that
    `phi(x) . phi(y) = 1 + x . y + (x . y)^2 / 2`.

    ```mlir
    %f = attn_tile.taylor2_features %x
        : !attn_tile.tile<64x16xf32> -> !attn_tile.tile<64x273xf32>
    ```
  }];
  let arguments = (ins Tile_FloatTile:$source);
  let results = (outs Tile_FloatTile:$result);
  let assemblyFormat = [{
    $source attr-dict `:` qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tile_SoftmaxFeaturesOp : Tile_Op<"softmax_features", [Pure]> {
  let summary = "Hedgehog's feature map from each row's projection";
  let description = [{
    `attn_tile.softmax_features` maps each row `y` (`M` entries) of a
    `[C, M]` f32 tile to `[softmax(y), softmax(-y)]`, a row of `2 M`, with
    `softmax(z)_m = exp(z_m - max z) / sum_m' exp(z_m' - max z)`. With
    `y = x W` (an `attn_tile.matmul` by the head's feature weights) it is
    Hedgehog's feature map (docs/semantics.md).

    ```mlir
    %f = attn_tile.softmax_features %y
        : !attn_tile.tile<64x64xf32> -> !attn_tile.tile<64x128xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$source);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $source attr-dict `:` qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Chunk operations of linear attention
//===----------------------------------------------------------------------===//

def Tile_ExtractRowsOp : Tile_Op<"extract_rows", [Pure]> {
  let summary = "consecutive rows of a tile";
  let description = [{
    `attn_tile.extract_rows` gives rows `[offset, offset + R)` of a tile as
    a tile of `R` rows, with the source's columns, element type and layout.
    A lagged chunk (the linear term of a shared-denominator hybrid) takes
    its queries' log decays from the prefix sums over the lag and the
    chunk this way.

    ```mlir
    %rows = attn_tile.extract_rows %p {offset = 64}
        : !attn_tile.tile<128xf32> -> !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_FloatTile:$source, I64Attr:$offset);
  let results = (outs Tile_FloatTile:$result);
  let assemblyFormat = [{
    $source attr-dict `:` qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tile_CumsumOp : Tile_Op<"cumsum", [Pure, SameOperandsAndResultType]> {
  let summary = "inclusive prefix sums down the rows of a tile";
  let description = [{
    `attn_tile.cumsum` gives `p[r] = sum_{s <= r} g[s]` for a 1-D tile, and
    the same down each column of a 2-D tile. On the log gates of a chunk it
    gives the log decay from the chunk's start: the decay from key `j` to
    query `i` is `exp(p[i] - p[j])`.

    ```mlir
    %p = attn_tile.cumsum %g : !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$source);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source))";
}

def Tile_DecayMaskOp : Tile_Op<"decay_mask", [Pure, AttrSizedOperandSegments]> {
  let summary = "the causal decay mask of a chunk";
  let description = [{
    `attn_tile.decay_mask` gives the `[R, C]` tile
    `d_ij = exp(row_logs[i] - column_logs[j])` where `j - i <= diagonal`
    and 0 elsewhere. Without log operands the kept entries are 1 (an
    ungated causal mask). `diagonal = 0` (the default) keeps the diagonal,
    `-1` keeps the strictly lower triangle (the delta rule's
    `tril(., -1)`).

    ```mlir
    %d = attn_tile.decay_mask %p, %p
        : (!attn_tile.tile<64xf32>, !attn_tile.tile<64xf32>) -> !attn_tile.tile<64x64xf32>
    %causal = attn_tile.decay_mask : () -> !attn_tile.tile<64x64xf32>
    ```
  }];
  let arguments = (ins Optional<Tile_F32Tile>:$row_logs,
                       Optional<Tile_F32Tile>:$column_logs,
                       DefaultValuedAttr<I64Attr, "0">:$diagonal);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    ($row_logs^ `,` $column_logs)? attr-dict `:`
    functional-type(operands, $result)
  }];
  let hasVerifier = 1;
}

def Tile_UTSolveOp : Tile_Op<"ut_solve", [Pure, SameOperandsAndResultType]> {
  let summary = "the delta rule's UT transform (I + strict_lower(A))^-1";
  let description = [{
    `attn_tile.ut_solve` inverts the unit lower-triangular matrix
    `I + tril(A, -1)` of a square f32 tile: `T = (I + L)^-1`, where `L`
    keeps the entries of `A` strictly below the diagonal. With
    `A = diag(beta) K K^T` this is the T of the delta rule's WY/UT form
    (`W = T diag(beta) K`, `U = T diag(beta) V`). Entries of `A` on and
    above the diagonal are not read.

    ```mlir
    %t = attn_tile.ut_solve %a : !attn_tile.tile<64x64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$source);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source))";
  let hasVerifier = 1;
}

def Tile_DecayedScoresOp : Tile_Op<"decayed_scores", [Pure]> {
  let summary = "a chunk's scores under a gate per key feature";
  let description = [{
    `attn_tile.decayed_scores` gives the `[C, C]` tile
    `s_ij = sum_f q_if k_jf exp(logs_if - key_logs_jf)` where
    `j - i <= diagonal`, and 0 elsewhere: the intra-chunk scores of linear
    attention whose gate decays each key feature on its own (GLA), with
    `logs` the prefix sums of the chunk's log gates (`attn_tile.cumsum`).
    `key_logs` defaults to `logs`; it differs when the queries lag behind
    the keys (a shared-denominator hybrid), and then only the CPU strategy
    lowers the op.
    Every kept term's exponent is `<= 0`, so no factor overflows however
    strong the gates; a strategy that factors the exponential (as
    `exp(logs_i) exp(-logs_j)`) must keep that property.

    ```mlir
    %s = attn_tile.decayed_scores %q, %k, %p
        : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>,
          !attn_tile.tile<64x128xf32> -> !attn_tile.tile<64x64xf32>
    ```
  }];
  let arguments = (ins Tile_FloatTile:$queries, Tile_FloatTile:$keys,
                       Tile_F32Tile:$logs, Optional<Tile_F32Tile>:$key_logs,
                       DefaultValuedAttr<I64Attr, "0">:$diagonal);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $queries `,` $keys `,` $logs (`key_logs` $key_logs^)? attr-dict `:`
    qualified(type($queries)) `,` qualified(type($keys)) `,`
    qualified(type($logs)) (`,` qualified(type($key_logs))^)? `->`
    qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tile_StateUpdateOp : Tile_Op<"state_update", [Pure,
    AllTypesMatch<["state", "result"]>]> {
  let summary = "the recurrent state after one chunk";
  let description = [{
    `attn_tile.state_update` carries the state `S` (`[F, Dv]`, f32) of
    linear attention over one chunk of `C` tokens with keys `K` (`[C, F]`)
    and values `V` (`[C, Dv]`):

    ```
    S' = diag(exp(p_last)) S + sum_j diag(exp(p_last - p_j)) k_j v_j^T
    ```

    where `p` (`log_decay`) holds the prefix sums of the chunk's log gates,
    one per token (`[C]`, a gate per head or token) or one per token and
    key feature (`[C, F]`), and `p_last` is its last row. Without
    `log_decay` there is no decay: `S' = S + K^T V`. Tokens past the
    sequence's end must have zero keys and zero log gates, so that they add
    nothing and decay nothing.

    ```mlir
    %s1 = attn_tile.state_update %s0, %k, %v log_decay %p
        : !attn_tile.tile<128x128xf32>, !attn_tile.tile<64x128xbf16>,
          !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$state, Tile_FloatTile:$keys,
                       Tile_FloatTile:$values,
                       Optional<Tile_F32Tile>:$log_decay);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $state `,` $keys `,` $values (`log_decay` $log_decay^)? attr-dict `:`
    qualified(type($state)) `,` qualified(type($keys)) `,`
    qualified(type($values)) (`,` qualified(type($log_decay))^)?
  }];
  let hasVerifier = 1;
}

def Tile_DecayStateOp : Tile_Op<"decay_state", [Pure,
    AllTypesMatch<["state", "result"]>]> {
  let summary = "the recurrent state decayed over one chunk, nothing added";
  let description = [{
    `attn_tile.decay_state` is the decay of `attn_tile.state_update` alone:
    `S' = diag(exp(p_last)) S`, with `p` (`log_decay`) the prefix sums of a
    chunk's log gates, one per token (`[C]`) or one per token and key
    feature (`[C, F]`, where `S` is `[F, Dv]`). Started from ones and
    carried over the chunks of a segment of a sequence, it gives the
    segment's total decay: the chunk-parallel form of linear attention
    combines segments by `S_next = D o S + L` (docs/design/tile-level.md).

    ```mlir
    %d1 = attn_tile.decay_state %d0 log_decay %p
        : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64xf32>
    ```
  }];
  let arguments = (ins Tile_F32Tile:$state, Tile_F32Tile:$log_decay);
  let results = (outs Tile_F32Tile:$result);
  let assemblyFormat = [{
    $state `log_decay` $log_decay attr-dict `:` qualified(type($state)) `,`
    qualified(type($log_decay))
  }];
  let hasVerifier = 1;
}

#endif // ATTN_DIALECT_TILE_OPS
