// Heterogeneous context sharding: keys are cut into 64-token blocks dealt
// round-robin to 4 shards, and query head h reads shard h mod 4 (plus a
// dense local window), causally. The 4 query heads that share one KV head
// (GQA 32:8) read 4 different shards, so together they cover the context.
// Paper: "S2-Attention: Hardware-Aware Context Sharding Among Attention
// Heads" (Lin et al., 2024).
// Choices: stride 4, block 64; the local dense part is a token window of the
// current token and the 255 before it (the paper's kernel keeps whole local
// blocks dense); without it a head whose shard excludes block 0 would see no
// key for the first tokens.
func.func @strided_shard(%q: tensor<?x32x?x128xbf16>,
                         %k: tensor<?x8x?x128xbf16>,
                         %v: tensor<?x8x?x128xbf16>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal,
                         #attn.or<[#attn.strided_shard<stride = 4, block = 64>,
                                   #attn.sliding_window<left = 255>]>]>}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
