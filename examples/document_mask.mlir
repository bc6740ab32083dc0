// Causal attention restricted to the current document of a packed sequence:
// query i sees key j only when j <= i and both tokens carry the same
// segment id; 32 query heads over 8 KV heads (GQA 4:1).
// Paper: "The Llama 3 Herd of Models" (Llama Team, 2024), which masks
// self-attention between different documents packed into one sequence;
// shapes of Llama 3 8B (head dim 128).
// Choices: segment ids are per-token int32 tensors [B, N] for queries and
// keys; scale 1/sqrt(128).
func.func @document_mask(%q: tensor<?x32x?x128xbf16>,
                         %k: tensor<?x8x?x128xbf16>,
                         %v: tensor<?x8x?x128xbf16>,
                         %qs: tensor<?x?xi32>, %ks: tensor<?x?xi32>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v
      segment_ids(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>)
      {mask = #attn.and<[#attn.causal, #attn.document]>}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
