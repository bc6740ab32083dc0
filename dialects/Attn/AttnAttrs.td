//===- AttnAttrs.td - attn enums and attributes -----------*- tablegen -*-===//
//
// Enums for the normalizations, feature maps, gates and update rules, and
// the named masks with their and/or combinators.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTRS
#define ATTN_DIALECT_ATTN_ATTRS

include "AttnBase.td"
include "AttnInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

class Attn_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

// Enum attributes print as `#attn.<mnemonic><case>`, e.g.
// `#attn.normalization<softmax>`.
class Attn_EnumAttr<EnumAttrInfo info, string mnemonic>
    : EnumAttr<Attn_Dialect, info, mnemonic> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_Normalization : Attn_I32Enum<"Normalization",
    "how scores become attention weights", [
  I32EnumAttrCase<"softmax", 0>,
  I32EnumAttrCase<"sigmoid", 1>,
  I32EnumAttrCase<"l1", 2>,
  I32EnumAttrCase<"relu", 3>]>;
def Attn_NormalizationAttr
    : Attn_EnumAttr<Attn_Normalization, "normalization">;

def Attn_DiagonalAlignment : Attn_I32Enum<"DiagonalAlignment",
    "where the main diagonal sits when Nq != Nk", [
  I32EnumAttrCase<"bottom_right", 0>,
  I32EnumAttrCase<"top_left", 1>]>;

def Attn_FeatureMap : Attn_I32Enum<"FeatureMap",
    "named feature map of linear attention", [
  I32EnumAttrCase<"identity", 0>,
  I32EnumAttrCase<"elu_plus_one", 1>,
  I32EnumAttrCase<"relu", 2>,
  I32EnumAttrCase<"taylor2", 3>,
  I32EnumAttrCase<"hedgehog", 4>]>;
def Attn_FeatureMapAttr
    : Attn_EnumAttr<Attn_FeatureMap, "feature_map">;

def Attn_LinearNormalization : Attn_I32Enum<"LinearNormalization",
    "how the linear-attention numerator is normalized", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"denominator", 1>,
  I32EnumAttrCase<"rms_norm", 2>]>;
def Attn_LinearNormalizationAttr
    : Attn_EnumAttr<Attn_LinearNormalization, "linear_normalization">;

def Attn_GateKind : Attn_I32Enum<"GateKind",
    "shape of the log-space decay gate", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"per_head", 1>,
  I32EnumAttrCase<"per_token", 2>,
  I32EnumAttrCase<"per_key", 3>]>;
def Attn_GateKindAttr : Attn_EnumAttr<Attn_GateKind, "gate">;

def Attn_UpdateRule : Attn_I32Enum<"UpdateRule",
    "how a token updates the recurrent state", [
  I32EnumAttrCase<"additive", 0>,
  I32EnumAttrCase<"delta", 1>]>;
def Attn_UpdateRuleAttr : Attn_EnumAttr<Attn_UpdateRule, "update">;

def Attn_HybridCombine : Attn_I32Enum<"HybridCombine",
    "how the softmax and linear terms of a hybrid combine", [
  I32EnumAttrCase<"shared_denominator", 0>,
  I32EnumAttrCase<"weighted_sum", 1>]>;
def Attn_HybridCombineAttr
    : Attn_EnumAttr<Attn_HybridCombine, "combine">;

//===----------------------------------------------------------------------===//
// Named masks
//===----------------------------------------------------------------------===//

// A named mask. With `keyRanges`, the mask builds its own key ranges
// (MaskKeyRanges.cpp); otherwise tiled kernels treat every tile as partial.
class Attn_MaskAttr<string name, string attrMnemonic, bit keyRanges = 0>
    : Attn_Attr<name, attrMnemonic, [
        DeclareAttrInterfaceMethods<Attn_MaskAttrInterface,
                                    !if(keyRanges, ["buildKeyRanges"], [])>]>;

def Attn_AnyMask : Attr<
    CPred<"::llvm::isa<::mlir::attn::MaskAttrInterface>($_self)">,
    "named mask attribute"> {
  let storageType = "::mlir::attn::MaskAttrInterface";
  let returnType = "::mlir::attn::MaskAttrInterface";
  let convertFromStorage = "$_self";
}

def Attn_CausalAttr : Attn_MaskAttr<"Causal", "causal", /*keyRanges=*/1> {
  let summary = "causal mask with a diagonal offset";
  let description = [{
    `#attn.causal` keeps key `j` for query `i` when `j <= i + shift + offset`,
    where `shift = Nk - Nq` for `align = bottom_right` (the default: the
    last query sees the last key, as in FlashAttention-2) and `shift = 0`
    for `align = top_left` (PyTorch's `is_causal`). `offset` moves the
    diagonal right (positive) or left (negative).

    Tile `[i0, i1) x [j0, j1)` is full when `j1 - 1 <= i0 + shift + offset`
    and empty when `j0 > i1 - 1 + shift + offset`.

    ```mlir
    #attn.causal
    #attn.causal<offset = -1, align = top_left>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "0">:$offset,
    DefaultValuedParameter<"::mlir::attn::DiagonalAlignment",
      "::mlir::attn::DiagonalAlignment::bottom_right">:$align);
  let assemblyFormat = "(`<` struct(params)^ `>`)?";
  let genVerifyDecl = 1;
}

def Attn_SlidingWindowAttr : Attn_MaskAttr<"SlidingWindow", "sliding_window", /*keyRanges=*/1> {
  let summary = "band of keys around the (aligned) diagonal";
  let description = [{
    `#attn.sliding_window<left = L, right = R>` keeps key `j` for query `i`
    when `i' - L <= j <= i' + R`, with `i' = i + shift` and `shift` as in
    `#attn.causal` (`align` defaults to `bottom_right`). `left` and `right`
    are non-negative; `right` defaults to 0, so a plain window is also causal.

    ```mlir
    #attn.sliding_window<left = 1024>
    #attn.sliding_window<left = 3, right = 3>
    ```
  }];
  let parameters = (ins
    "int64_t":$left,
    DefaultValuedParameter<"int64_t", "0">:$right,
    DefaultValuedParameter<"::mlir::attn::DiagonalAlignment",
      "::mlir::attn::DiagonalAlignment::bottom_right">:$align);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_SinksAttr : Attn_MaskAttr<"Sinks", "sinks", /*keyRanges=*/1> {
  let summary = "the first keys, visible to every query";
  let description = [{
    `#attn.sinks<count = S>` keeps key `j` when `j < S` (attention sinks,
    StreamingLLM). It is usually or-ed with a window and and-ed with causal.

    ```mlir
    #attn.and<[#attn.causal, #attn.or<[#attn.sinks<count = 4>,
                                       #attn.sliding_window<left = 1020>]>]>
    ```
  }];
  let parameters = (ins "int64_t":$count);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_BlockDiagonalAttr : Attn_MaskAttr<"BlockDiagonal", "block_diagonal", /*keyRanges=*/1> {
  let summary = "attention within fixed-size blocks";
  let description = [{
    `#attn.block_diagonal<size = B>` keeps key `j` for query `i` when
    `floor(i / B) == floor(j / B)` (DiagAttention).

    ```mlir
    #attn.block_diagonal<size = 64>
    ```
  }];
  let parameters = (ins "int64_t":$size);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_DocumentAttr : Attn_MaskAttr<"Document", "document"> {
  let summary = "attention within documents given by segment ids";
  let description = [{
    `#attn.document` keeps key `j` for query `i` of batch `b` when
    `query_segment_ids[b, i] == key_segment_ids[b, j]`. The op must carry
    the `segment_ids(...)` operands. The mask reads run-time data, so every
    tile classifies as partial at compile time.

    ```mlir
    #attn.and<[#attn.causal, #attn.document]>
    ```
  }];
}

def Attn_PrefixLMAttr : Attn_MaskAttr<"PrefixLM", "prefix_lm", /*keyRanges=*/1> {
  let summary = "bidirectional prefix followed by a causal suffix";
  let description = [{
    `#attn.prefix_lm<prefix = P>` keeps key `j` for query `i` when `j < P`
    or `j <= i + Nk - Nq`. It equals `#attn.or<[#attn.causal,
    #attn.sinks<count = P>]>`, which `attn-simplify-masks` rewrites it to.

    ```mlir
    #attn.prefix_lm<prefix = 128>
    ```
  }];
  let parameters = (ins "int64_t":$prefix);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_StridedShardAttr : Attn_MaskAttr<"StridedShard", "strided_shard"> {
  let summary = "per-head strided shards of the context";
  let description = [{
    `#attn.strided_shard<stride = S, block = K>` keeps key `j` for query
    head `h` when `floor(j / K) mod S == h mod S`: the keys are cut into
    blocks of `K` tokens dealt round-robin to `S` shards, and head `h` reads
    shard `h mod S`. Over any `S` consecutive heads the shards cover the
    whole context (Heterogeneous Context Sharding among Attention Heads).
    `block` defaults to 1.

    ```mlir
    #attn.strided_shard<stride = 4, block = 64>
    ```
  }];
  let parameters = (ins "int64_t":$stride,
                        DefaultValuedParameter<"int64_t", "1">:$block);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_PerHeadAttr : Attn_MaskAttr<"PerHead", "per_head", /*keyRanges=*/1> {
  let summary = "a per-head choice among mask patterns";
  let description = [{
    `#attn.per_head<[P0, P1, ...], heads = [a0, a1, ...]>` applies pattern
    `P[a_h]` to query head `h`. `heads` has one entry per query head of the
    op, each an index into the pattern list (DuoAttention's streaming and
    retrieval heads, MoA's per-head windows).

    ```mlir
    #attn.per_head<[#attn.causal,
                    #attn.and<[#attn.causal, #attn.sliding_window<left = 256>]>],
                   heads = [0, 1, 1, 0]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute">:$patterns,
                        ArrayRefParameter<"int64_t">:$heads);
  let assemblyFormat = "`<` `[` $patterns `]` `,` `heads` `=` `[` $heads `]` `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The pattern that query head `head` uses.
    ::mlir::attn::MaskAttrInterface getPatternOf(int64_t head) const;
  }];
}

def Attn_NeighborhoodAttr : Attn_MaskAttr<"Neighborhood", "neighborhood"> {
  let summary = "neighborhood attention on a 1D/2D/3D token grid";
  let description = [{
    `#attn.neighborhood<grid = [G0, ...], kernel = [K0, ...], dilation = [D0, ...],
    causal_axes = [a, ...]>` lays the tokens out row-major on a static grid
    (the sequence length must equal the product of `grid`) and keeps key `j`
    for query `i` when, on every axis `a` with query coordinate `x` and key
    coordinate `y` (Faster Neighborhood Attention / NATTEN):

    - `x mod D == y mod D` (same dilation group), and with group positions
      `u = floor(x / D)`, `w = floor(y / D)` and group length
      `L = ceil((G - x mod D) / D)`:
    - non-causal axis: `w` lies in `[s, s + K)` with
      `s = clamp(u - floor(K / 2), 0, max(L - K, 0))`;
    - causal axis: `w` lies in `[max(u - K + 1, 0), u]`.

    `dilation` defaults to all ones and `causal_axes` to none. Each axis
    needs `K * D <= G`.

    ```mlir
    #attn.neighborhood<grid = [32, 32], kernel = [7, 7]>
    #attn.neighborhood<grid = [8, 16, 16], kernel = [3, 5, 5],
                       dilation = [1, 2, 2], causal_axes = [0]>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t">:$grid,
    ArrayRefParameter<"int64_t">:$kernel,
    OptionalArrayRefParameter<"int64_t">:$dilation,
    OptionalArrayRefParameter<"int64_t">:$causal_axes);
  let assemblyFormat = [{
    `<` custom<NeighborhoodParams>($grid, $kernel, $dilation, $causal_axes) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Dilation of axis `axis`, 1 when none is given.
    int64_t getDilationOf(unsigned axis) const;
    /// Whether axis `axis` is causal.
    bool isCausalAxis(unsigned axis) const;
  }];
}

def Attn_AndAttr : Attn_MaskAttr<"And", "and", /*keyRanges=*/1> {
  let summary = "conjunction of masks";
  let description = [{
    `#attn.and<[M0, M1, ...]>` keeps a key when every `Mk` keeps it.

    ```mlir
    #attn.and<[#attn.causal, #attn.sliding_window<left = 512>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute">:$masks);
  let assemblyFormat = "`<` `[` $masks `]` `>`";
  let genVerifyDecl = 1;
}

def Attn_OrAttr : Attn_MaskAttr<"Or", "or", /*keyRanges=*/1> {
  let summary = "disjunction of masks";
  let description = [{
    `#attn.or<[M0, M1, ...]>` keeps a key when some `Mk` keeps it.

    ```mlir
    #attn.or<[#attn.sinks<count = 4>, #attn.sliding_window<left = 1020>]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::Attribute">:$masks);
  let assemblyFormat = "`<` `[` $masks `]` `>`";
  let genVerifyDecl = 1;
}

#endif // ATTN_DIALECT_ATTN_ATTRS
