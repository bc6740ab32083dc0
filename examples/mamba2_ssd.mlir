// The SSD (state space dual) layer of Mamba-2 as gated linear attention: a
// scalar per-token, per-head decay a_t = exp(dt_t * A_h) of the state,
// h_t = a_t h_{t-1} + B_t (dt_t x_t)^T, y_t = h_t^T C_t, continuing from a
// carried state and returning the final one (state [B, 16, N=128, P=64]).
// Paper: "Transformers are SSMs: Generalized Models and Efficient Algorithms
// Through Structured State Space Duality" (Dao and Gu, 2024).
// Choices: query = C, key = B (one group, shared by all heads: 1 key head),
// value = dt * x (the caller folds dt into x), gate[b,h,t] = dt * A_h <= 0;
// d_state 128, head dim 64, 16 heads; scale 1 (no 1/sqrt(d)); the D skip
// connection and the output gate are outside; chunk 256 as in the paper.
// The op needs Hq to be a multiple of Hv, so C is broadcast to the 16 heads.
func.func @mamba2_ssd(%c: tensor<?x16x?x128xbf16>,
                      %bmat: tensor<?x1x?x128xbf16>,
                      %x: tensor<?x16x?x64xbf16>,
                      %dt_a: tensor<?x16x?xf32>,
                      %h0: tensor<?x16x128x64xf32>)
    -> (tensor<?x16x?x64xbf16>, tensor<?x16x128x64xf32>) {
  %y, %h = attn.linear_attention %c, %bmat, %x gate(%dt_a : tensor<?x16x?xf32>)
      initial_state(%h0 : tensor<?x16x128x64xf32>)
      {causal, gate = #attn.gate<per_token>, scale = 1.0 : f32,
       chunk_size = 256}
      : tensor<?x16x?x128xbf16>, tensor<?x1x?x128xbf16>,
        tensor<?x16x?x64xbf16>
      -> tensor<?x16x?x64xbf16>, tensor<?x16x128x64xf32>
  return %y, %h : tensor<?x16x?x64xbf16>, tensor<?x16x128x64xf32>
}
