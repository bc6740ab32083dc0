// Prefix language model attention: the first 256 tokens (the prefix) are
// visible to every query, bidirectionally, and the rest is causal.
// Paper: "Exploring the Limits of Transfer Learning with a Unified
// Text-to-Text Transformer" (Raffel et al., 2020), the prefix-LM mask
// (16 heads, head dim 64 as in T5-Large).
// Choices: a fixed prefix length of 256 for the whole batch (T5 varies the
// prefix per example; that needs segment ids or a mask_mod); T5's relative
// position bias is left out; default scale 1/sqrt(64).
func.func @prefix_lm(%q: tensor<?x16x?x64xbf16>, %k: tensor<?x16x?x64xbf16>,
                     %v: tensor<?x16x?x64xbf16>) -> tensor<?x16x?x64xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.prefix_lm<prefix = 256>}
      : tensor<?x16x?x64xbf16>, tensor<?x16x?x64xbf16>,
        tensor<?x16x?x64xbf16> -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
