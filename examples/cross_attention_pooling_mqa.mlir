// Cross-attention pooling: pooling queries (Nq of them) attend, with no mask,
// over the Nk token hidden states of an LLM; one shared key/value head (MQA)
// with a wider key dim than value dim (Dk = 128, Dv = 64), so Nq != Nk and
// the output is [B, 16, Nq, 64].
// Paper: "Pooling And Attention: What are Effective Designs for LLM-based
// Embedding Models?" (Tang and Yang, 2024), trainable cross-attention
// pooling; MQA from "Fast Transformer Decoding: One Write-Head is All You
// Need" (Shazeer, 2019).
// Choices: non-causal full attention (pooling reads the whole input);
// padding masks of real batches are not modeled; default scale 1/sqrt(128).
func.func @cross_attention_pooling_mqa(%q: tensor<?x16x?x128xbf16>,
                                       %k: tensor<?x1x?x128xbf16>,
                                       %v: tensor<?x1x?x64xbf16>)
    -> tensor<?x16x?x64xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<?x16x?x128xbf16>, tensor<?x1x?x128xbf16>,
        tensor<?x1x?x64xbf16> -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
