// Causal linear attention with a custom elementwise feature map,
// swish(x) = x * sigmoid(x), on queries and keys, a constant per-head decay
// of the state (S_t = lambda_h S_{t-1} + phi(k_t) v_t^T) and RMS
// normalization of the output instead of a denominator.
// Paper: "TransNormerLLM: A Faster and Better Large Language Model with
// Improved TransNormer" (Qin et al., 2023), computed by "Lightning
// Attention-2" (Qin et al., 2024); 32 heads of dim 128.
// Choices: the decays lambda_h are the model's fixed per-head rates, given
// in log space (gate[h] = log lambda_h <= 0); the output gate and the
// norm's learned weight are applied after this op; eps 1e-5; chunk 64.
func.func @transnormerllm_lightning_attention(%q: tensor<?x32x?x128xbf16>,
                                              %k: tensor<?x32x?x128xbf16>,
                                              %v: tensor<?x32x?x128xbf16>,
                                              %log_decay: tensor<32xf32>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%log_decay : tensor<32xf32>)
      {causal, gate = #attn.gate<per_head>,
       normalization = #attn.linear_normalization<rms_norm>,
       norm_eps = 1.0e-05 : f32, chunk_size = 64}
      : tensor<?x32x?x128xbf16>, tensor<?x32x?x128xbf16>,
        tensor<?x32x?x128xbf16> -> tensor<?x32x?x128xbf16>
    feature_map {
    ^bb0(%x: f32):
      %one = arith.constant 1.0 : f32
      %nx = arith.negf %x : f32
      %e = math.exp %nx : f32
      %den = arith.addf %one, %e : f32
      %r = arith.divf %x, %den : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x32x?x128xbf16>
}
