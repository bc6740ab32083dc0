// Liger attention: the average of causal softmax attention over a 64-token
// sliding window and causal gated linear attention (GLA-style vector decay
// per key feature) over all keys: o_i = 0.5 * softmax_{W_i}(s_i) v +
// 0.5 * lin_i, with lin_i = S_i^T phi(q_i), S_i = diag(alpha_i) S_{i-1} +
// phi(k_i) v_i^T, unnormalized and unscaled.
// Paper: "Liger: Linearizing Large Language Models to Gated Recurrent
// Structures" (Lan et al., 2025); shapes of Llama 3 8B (32 query heads,
// 8 KV heads, head dim 128).
// Choices: the gate log alpha = logsigmoid(pool(k))/16 (pooled from the
// key projection, per query head) is computed by the caller. Liger's
// feature map is a softmax over the head dim, which no elementwise or named
// feature map expresses; this spec uses phi(x) = exp(x), i.e. that softmax
// without its per-token normalizer 1/sum_d exp(x_d). Window 64; chunk 64.
func.func @liger_hybrid(%q: tensor<?x32x?x128xbf16>,
                        %k: tensor<?x8x?x128xbf16>,
                        %v: tensor<?x8x?x128xbf16>,
                        %log_alpha: tensor<?x32x?x128xf32>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.hybrid %q, %k, %v gate(%log_alpha : tensor<?x32x?x128xf32>)
      {combine = #attn.combine<weighted_sum>, window = 64,
       weights = array<f32: 0.5, 0.5>, gate = #attn.gate<per_key>,
       chunk_size = 64}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
    feature_map {
    ^bb0(%x: f32):
      %e = math.exp %x : f32
      attn.yield %e : f32
    }
  return %o : tensor<?x32x?x128xbf16>
}
