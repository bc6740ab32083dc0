// DiffQKV attention: causal softmax attention where K is compressed more
// than V: 32 query heads read 4 key heads (8:1) but 8 value heads (4:1),
// and the key head dim (64) is half the value head dim (128).
// Paper: "Sigma: Differential Rescaling of Query, Key and Value for
// Efficient Language Models" (Lin et al., 2025).
// Choices: the paper compresses K more aggressively than V in both head
// count and head dim, so Dk = 64 < Dv = 128 here. The op requires the
// query head dim to equal the key head dim, so the paper's "augmented Q"
// (a wider query projection) is taken to happen before this op, ending in
// Dq = Dk. Causal, default scale 1/sqrt(64).
func.func @sigma_diffqkv(%q: tensor<?x32x?x64xbf16>,
                         %k: tensor<?x4x?x64xbf16>,
                         %v: tensor<?x8x?x128xbf16>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x32x?x64xbf16>, tensor<?x4x?x64xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
