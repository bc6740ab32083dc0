// Per-head choice between full causal attention (retrieval heads, pattern 0)
// and sinks + recent window (streaming heads, pattern 1): streaming heads
// see the first 64 tokens and the current token with the 255 before it.
// Paper: "DuoAttention: Efficient Long-Context LLM Inference with Retrieval
// and Streaming Heads" (Xiao et al., 2024); shapes of Llama-3-8B (32 query
// heads, 8 KV heads, head dim 128).
// Choices: heads are classified per KV head (as the paper does for GQA), so
// the 4 query heads of a KV group share a pattern; here KV groups 0, 3 and 5
// are retrieval heads (an example assignment; the real one is learned per
// layer). Sink 64 / recent 256 tokens.
func.func @duo_attention(%q: tensor<?x32x?x128xbf16>,
                         %k: tensor<?x8x?x128xbf16>,
                         %v: tensor<?x8x?x128xbf16>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.per_head<[#attn.causal,
                              #attn.and<[#attn.causal,
                                         #attn.or<[#attn.sinks<count = 64>,
                                                   #attn.sliding_window<left = 255>]>]>],
                             heads = [0, 0, 0, 0, 1, 1, 1, 1,
                                      1, 1, 1, 1, 0, 0, 0, 0,
                                      1, 1, 1, 1, 0, 0, 0, 0,
                                      1, 1, 1, 1, 1, 1, 1, 1]>}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
