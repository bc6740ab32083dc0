// LoLCATs attention: causal softmax attention over a 64-token sliding window
// plus Hedgehog linear attention over all keys before the window, the two
// sharing one denominator:
// o_i = (w0 sum_{W_i} exp(s_ij) v_j + sum_{j < i-63} phi(q_i)^T phi(k_j) v_j)
//     / (w0 sum_{W_i} exp(s_ij) + sum_{j < i-63} phi(q_i)^T phi(k_j)).
// Paper: "LoLCATs: On Low-Rank Linearizing of Large Language Models" (Zhang
// et al., 2024); shapes of Llama 3 8B (32 query heads, 8 KV heads, head
// dim 128).
// Choices: Hedgehog maps with M = 64 per sign (F = 128), per query head, with
// separate query/key weights; window 64; the window factor w0 is learned
// per head in the reference code, initialized to sigmoid(-2.197) = 0.1; the
// op takes one value for all heads, here that initial value; softmax scale
// 1/sqrt(128), linear term unscaled.
func.func @lolcats_hybrid(%q: tensor<?x32x?x128xbf16>,
                          %k: tensor<?x8x?x128xbf16>,
                          %v: tensor<?x8x?x128xbf16>,
                          %w: tensor<2x32x128x64xf32>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.hybrid %q, %k, %v feature_weights(%w : tensor<2x32x128x64xf32>)
      {combine = #attn.combine<shared_denominator>, window = 64,
       feature_map = #attn.feature_map<hedgehog>,
       weights = array<f32: 0.1, 1.0>, chunk_size = 64}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
