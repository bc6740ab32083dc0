// Attention sinks plus a sliding window: each query sees the first 4 tokens
// (the sinks) and the window of itself and the 1020 tokens before it,
// never a future token.
// Paper: "Efficient Streaming Language Models with Attention Sinks" (Xiao et
// al., 2024), StreamingLLM with 4 initial tokens kept as sinks; shapes of
// Llama-2-7B (32 heads, head dim 128, MHA).
// Choices: the mask form of the rolling cache (4 sinks + ~1020 recent
// tokens, i.e. a ~1024-token cache); StreamingLLM's re-indexing of positions
// inside the cache belongs to the rotary embedding applied before this op.
func.func @streaming_llm_sinks(%q: tensor<?x32x?x128xbf16>,
                               %k: tensor<?x32x?x128xbf16>,
                               %v: tensor<?x32x?x128xbf16>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal,
                         #attn.or<[#attn.sinks<count = 4>,
                                   #attn.sliding_window<left = 1020>]>]>}
      : tensor<?x32x?x128xbf16>, tensor<?x32x?x128xbf16>,
        tensor<?x32x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
