//===- AttnOps.td - attn spec-level ops -------------------*- tablegen -*-===//
//
// The spec-level ops: what an attention variant computes, on tensors.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_OPS
#define ATTN_DIALECT_ATTN_OPS

include "AttnAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

// Query/key/value tensors: rank 4, [batch, heads, seq, head_dim]. The exact
// shape rules (static heads and head dims, GQA ratios) are checked in the
// op verifiers, where the message can name the offending dimension.
class Attn_RankedTensor<list<Type> elementTypes, int rank, string summary>
    : Type<And<[RankedTensorOf<elementTypes>.predicate,
                HasAnyRankOfPred<[rank]>]>,
           summary, "::mlir::RankedTensorType">;

def Attn_QKVTensor : Attn_RankedTensor<[BF16, F16, F32], 4,
    "rank-4 tensor [batch, heads, seq, head_dim] of bf16, f16 or f32">;
def Attn_StateTensor : Attn_RankedTensor<[F32], 4,
    "rank-4 f32 tensor [batch, heads, feature_dim, value_dim]">;
def Attn_SegmentIdTensor : Attn_RankedTensor<[I32, I64], 2,
    "rank-2 tensor [batch, seq] of i32 or i64">;
def Attn_FloatTensor : RankedTensorOf<[BF16, F16, F32]>;
def Attn_BlockCountTensor : Attn_RankedTensor<[I32], 3,
    "rank-3 i32 tensor [batch, heads, query_blocks]">;
def Attn_BlockIndexTensor : Attn_RankedTensor<[I32], 4,
    "rank-4 i32 tensor [batch, heads, query_blocks, max_blocks]">;

def Attn_ChunkSizeAttr : ConfinedAttr<I64Attr, [IntPowerOf2, IntMinValue<16>,
                                                IntMaxValue<256>]>;

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention", [
    Pure, IsolatedFromAbove, AttrSizedOperandSegments]> {
  let summary = "softmax-family attention with masks and score modifications";
  let description = [{
    `attn.attention` computes, for batch `b`, query head `h`, query `i`:

    ```
    s_ij  = score_mod(scale * <q[b,h,i,:], k[b,h/gk,j,:]>, b, h, i, j)
    keep_ij = mask(b, h, i, j) and mask_mod(b, h, i, j)
    o[b,h,i,:] = sum_{j: keep_ij} p_ij * v[b,h/gv,j,:]
    ```

    with `gk = Hq / Hk`, `gv = Hq / Hv` (GQA/MQA; K and V may have different
    head counts), `scale` defaulting to `1 / sqrt(Dk)` and the weights `p_ij`
    given by `normalization`:

    - `softmax` (default): `p_ij = exp(s_ij - m_i) / sum_{keep} exp(s_ij - m_i)`;
    - `sigmoid`: `p_ij = sigmoid(s_ij + sigmoid_bias)`, no row sum;
      `sigmoid_bias` is required with `sigmoid` and rejected otherwise;
    - `l1`: `p_ij = f_ij / sum_{keep} f_ij` with `f_ij = l1_map(s_ij) >= 0`;
    - `relu`: `p_ij = max(s_ij, 0)`, no row sum.

    A row with no kept key (or a zero `l1` sum) gives output 0; its
    log-sum-exp, the optional second result `lse[b,h,i] = log sum_{keep}
    exp s_ij` over the kept keys (softmax only, fp32), is `-inf`.

    Regions, all optional, end in `attn.yield` and receive the captured
    tensors as trailing block arguments:
    - `score_mod`: `(s: f32, b, h, i, j: index, captures...) -> f32`;
    - `mask_mod`: `(b, h, i, j: index, captures...) -> i1`;
    - `l1_map`: `(s: f32, captures...) -> f32`, required with `l1`.

    `segment_ids(qs, ks)` supplies `[B, Nq]` and `[B, Nk]` integer tensors for
    `#attn.document`. Outputs have the query's element type and shape
    `[B, Hq, Nq, Dv]`.

    `block_mask(kv_num_blocks, kv_indices, full_kv_num_blocks,
    full_kv_indices)` with `block_size = array<i64: BQ, BK>` is run-time
    block sparsity in the manner of FlexAttention's BlockMask: for query
    block `qb = i / BQ` of (b, h), the first `kv_num_blocks[b,h,qb]` entries
    of `kv_indices[b,h,qb,:]` list partial key blocks and the first
    `full_kv_num_blocks[b,h,qb]` entries of `full_kv_indices[b,h,qb,:]` list
    full ones. Key `j` (block `j / BK`) is kept when its block is full, or
    when it is partial and the mask and `mask_mod` keep it; keys of unlisted
    blocks are dropped. Indices must lie in `[0, ceil(Nk / BK))`, and no block
    may be listed twice for one query block (checked by the runtime).

    ```mlir
    %o = attn.attention %q, %k, %v captures(%slopes : tensor<16xf32>)
           {mask = #attn.causal}
           : tensor<?x16x?x128xbf16>, tensor<?x4x?x128xbf16>,
             tensor<?x4x?x128xbf16> -> tensor<?x16x?x128xbf16>
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
              %sl: tensor<16xf32>):
           %m = tensor.extract %sl[%h] : tensor<16xf32>
           %ii = arith.index_cast %i : index to i64
           %jj = arith.index_cast %j : index to i64
           %d = arith.subi %jj, %ii : i64
           %df = arith.sitofp %d : i64 to f32
           %bias = arith.mulf %m, %df : f32
           %r = arith.addf %s, %bias : f32
           attn.yield %r : f32
         }
    ```
  }];
  let arguments = (ins
    Attn_QKVTensor:$query,
    Attn_QKVTensor:$key,
    Attn_QKVTensor:$value,
    Optional<Attn_SegmentIdTensor>:$query_segment_ids,
    Optional<Attn_SegmentIdTensor>:$key_segment_ids,
    Optional<Attn_BlockCountTensor>:$kv_num_blocks,
    Optional<Attn_BlockIndexTensor>:$kv_indices,
    Optional<Attn_BlockCountTensor>:$full_kv_num_blocks,
    Optional<Attn_BlockIndexTensor>:$full_kv_indices,
    Variadic<AnyRankedTensor>:$captures,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<Attn_AnyMask>:$mask,
    OptionalAttr<DenseI64ArrayAttr>:$block_size,
    DefaultValuedAttr<Attn_NormalizationAttr,
                      "::mlir::attn::Normalization::softmax">:$normalization,
    OptionalAttr<F32Attr>:$sigmoid_bias);
  let results = (outs Attn_QKVTensor:$output,
                      Optional<RankedTensorOf<[F32]>>:$lse);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod,
                        MaxSizedRegion<1>:$l1_map);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`segment_ids` `(` $query_segment_ids^ `,` $key_segment_ids `:`
       type($query_segment_ids) `,` type($key_segment_ids) `)`)?
    (`block_mask` `(` $kv_num_blocks^ `,` $kv_indices `,` $full_kv_num_blocks
       `,` $full_kv_indices `:` type($kv_num_blocks) `,` type($kv_indices)
       `,` type($full_kv_num_blocks) `,` type($full_kv_indices) `)`)?
    (`captures` `(` $captures^ `:` type($captures) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) (`,` type($lse)^)?
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    (`l1_map` $l1_map^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale applied to <q, k>: the attribute, or 1/sqrt(Dk).
    float getEffectiveScale();
  }];
}

//===----------------------------------------------------------------------===//
// attn.linear_attention
//===----------------------------------------------------------------------===//

def Attn_LinearAttentionOp : Attn_Op<"linear_attention", [
    Pure, IsolatedFromAbove, AttrSizedOperandSegments]> {
  let summary = "linear attention with feature maps, gates and delta rules";
  let description = [{
    `attn.linear_attention` computes, per batch `b` and query head `h`, with
    feature maps `phi` applied to `q_t` and `k_t` (head `h/gk`) and
    `v_t` (head `h/gv`):

    ```
    additive:  S_t = G_t (.) S_{t-1} + phi(k_t) v_t^T
    delta:     S_t = a_t S_{t-1} + beta_t phi(k_t) (v_t - (a_t S_{t-1})^T phi(k_t))^T
    output:    n_t = S_t^T (scale * phi(q_t))
    ```

    where `S_0` is `initial_state` (or 0), and the gate `G_t = exp(g_t)` is
    given in log space (`g <= 0` is a decay): `per_head` reads `gate[h]`,
    `per_token` reads `gate[b,h,t]`, `per_key` reads the vector
    `gate[b,h,t,:]` over the feature dim and scales the rows of `S`. The
    delta rule takes `beta[b,h,t]`, and `a_t = exp(g_t)` for a scalar gate
    (1 without gate). Non-causal specs sum over all `t` (no gates, no delta).

    `normalization` maps `n_t` to `o_t`: `none` (default), `denominator`
    (`o_t = n_t / (scale * phi(q_t))^T z_t` with `z_t` the same recurrence
    applied to a constant value 1, giving 0 when the denominator is 0), or
    `rms_norm` (`o_t = n_t / sqrt(mean(n_t^2) + norm_eps)`, `norm_eps`
    defaulting to 1e-6). Non-causal specs use `S = S_0 + sum_t phi(k_t)
    v_t^T` for every `t`, and return that `S` as the final state.

    Feature maps (`feature_map`, default `identity`, or the elementwise
    `feature_map` region `(x: f32) -> f32`): `identity`, `elu_plus_one`,
    `relu` keep the width `F = Dk`; `taylor2` is `[1, x, vec(x x^T)/sqrt(2)]`
    with `F = 1 + Dk + Dk^2`; `hedgehog` is `[softmax(x W), softmax(-x W)]`
    with `feature_weights` `[2, H, Dk, M]` (index 0 for queries, 1 for keys)
    and `F = 2M`.

    `scale` defaults to `1 / sqrt(Dk)` (flash-linear-attention's default; it
    cancels under `denominator` and, but for `norm_eps`, under `rms_norm`).
    The state is `[B, H, F, Dv]` in fp32, with one more column holding `z`
    under `denominator`. `chunk_size` is the chunk length of the chunked
    algorithm; it does not change the result.

    ```mlir
    %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>)
               {causal, gate = #attn.gate<per_token>, chunk_size = 64}
               : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
                 tensor<?x16x?x128xbf16>
               -> tensor<?x16x?x128xbf16>, tensor<?x16x128x128xf32>
    ```
  }];
  let arguments = (ins
    Attn_QKVTensor:$query,
    Attn_QKVTensor:$key,
    Attn_QKVTensor:$value,
    Optional<Attn_FloatTensor>:$gate_values,
    Optional<Attn_FloatTensor>:$beta,
    Optional<Attn_StateTensor>:$initial_state,
    Optional<Attn_FloatTensor>:$feature_weights,
    OptionalAttr<F32Attr>:$scale,
    UnitAttr:$causal,
    OptionalAttr<Attn_FeatureMapAttr>:$feature_map,
    DefaultValuedAttr<Attn_LinearNormalizationAttr,
        "::mlir::attn::LinearNormalization::none">:$normalization,
    OptionalAttr<F32Attr>:$norm_eps,
    DefaultValuedAttr<Attn_GateKindAttr, "::mlir::attn::GateKind::none">:$gate,
    DefaultValuedAttr<Attn_UpdateRuleAttr,
        "::mlir::attn::UpdateRule::additive">:$update,
    DefaultValuedAttr<Attn_ChunkSizeAttr, "64">:$chunk_size);
  let results = (outs Attn_QKVTensor:$output,
                      Optional<Attn_StateTensor>:$final_state);
  let regions = (region MaxSizedRegion<1>:$feature_map_region);
  let extraClassDeclaration = [{
    /// The scale applied to phi(q): the attribute, or 1/sqrt(Dk).
    float getEffectiveScale();
  }];
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`gate` `(` $gate_values^ `:` type($gate_values) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    (`feature_weights` `(` $feature_weights^ `:` type($feature_weights) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) (`,` type($final_state)^)?
    (`feature_map` $feature_map_region^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

//===----------------------------------------------------------------------===//
// attn.hybrid
//===----------------------------------------------------------------------===//

def Attn_HybridOp : Attn_Op<"hybrid", [
    Pure, IsolatedFromAbove, AttrSizedOperandSegments]> {
  let summary = "local softmax attention combined with causal linear attention";
  let description = [{
    `attn.hybrid` is causal. With `s_ij = scale * <q_i, k_j>`, the window
    `W_i = [i - window + 1, i]`, the linear weight `a_ij = (lscale *
    phi(q_i))^T G_{j..i} phi(k_j)`, where `G_{j..i}` is the product of the
    gates of tokens `j+1 .. i` (1 for `j = i`), and `weights = [w0, w1]`:

    - `shared_denominator` (LoLCATs): the softmax term covers `W_i`, the
      linear term the keys before it, over one denominator:
      `o_i = (w0 sum_{W_i} exp(s_ij) v_j + w1 sum_{j < i-window+1} a_ij v_j) /
             (w0 sum_{W_i} exp(s_ij) + w1 sum_{j < i-window+1} a_ij)`
      (0 when the denominator is 0). `normalization` must stay unset.
    - `weighted_sum` (Liger, Based): `o_i = w0 * softmax_{W_i}(s_i) v +
      w1 * lin_i`, where `lin_i` is `attn.linear_attention` over all `j <= i`
      with the same feature map, gate and `normalization`.

    `weights` defaults to `[1.0, 1.0]`. The feature map, gate, `scale`
    (`1/sqrt(Dk)` by default, used by the softmax term; the linear term
    uses `linear_scale`, default 1) and `chunk_size` have the meaning they
    have on `attn.linear_attention`. The delta rule is not offered here.

    ```mlir
    %o = attn.hybrid %q, %k, %v feature_weights(%w : tensor<2x8x64x32xf32>)
           {combine = #attn.combine<shared_denominator>, window = 64,
            feature_map = #attn.feature_map<hedgehog>}
           : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>,
             tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
    ```
  }];
  let arguments = (ins
    Attn_QKVTensor:$query,
    Attn_QKVTensor:$key,
    Attn_QKVTensor:$value,
    Optional<Attn_FloatTensor>:$gate_values,
    Optional<Attn_FloatTensor>:$feature_weights,
    Attn_HybridCombineAttr:$combine,
    ConfinedAttr<I64Attr, [IntPositive]>:$window,
    OptionalAttr<DenseF32ArrayAttr>:$weights,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$linear_scale,
    OptionalAttr<Attn_FeatureMapAttr>:$feature_map,
    OptionalAttr<Attn_LinearNormalizationAttr>:$normalization,
    OptionalAttr<F32Attr>:$norm_eps,
    DefaultValuedAttr<Attn_GateKindAttr, "::mlir::attn::GateKind::none">:$gate,
    DefaultValuedAttr<Attn_ChunkSizeAttr, "64">:$chunk_size);
  let results = (outs Attn_QKVTensor:$output);
  let regions = (region MaxSizedRegion<1>:$feature_map_region);
  let extraClassDeclaration = [{
    /// The softmax term's scale: the attribute, or 1/sqrt(Dk).
    float getEffectiveScale();
    /// The linear term's scale: the attribute, or 1.
    float getEffectiveLinearScale();
  }];
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`gate` `(` $gate_values^ `:` type($gate_values) `)`)?
    (`feature_weights` `(` $feature_weights^ `:` type($feature_weights) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output)
    (`feature_map` $feature_map_region^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

//===----------------------------------------------------------------------===//
// attn.yield
//===----------------------------------------------------------------------===//

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator, ReturnLike,
    ParentOneOf<["AttentionOp", "LinearAttentionOp", "HybridOp"]>]> {
  let summary = "yields the value of an attn region";
  let description = [{
    `attn.yield` ends every region of the attn ops and returns the region's
    single scalar value: the modified score, the mask bit or the feature.

    ```mlir
    attn.yield %r : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // ATTN_DIALECT_ATTN_OPS
