// Causal local attention with tanh logit soft-capping: the scaled score s
// becomes 50 * tanh(s / 50) before the softmax, and each query sees only
// itself and the 1024 keys before it.
// Paper: "Gemma 2: Improving Open Language Models at a Practical Size"
// (Gemma Team, 2024): attention soft-cap 50.0 on local sliding-window
// layers; shapes of Gemma 2 9B (16 query heads, 8 KV heads, head dim 256,
// scale 1/sqrt(256)).
// Choices: Gemma 2's local layers use a 4096-token window; this spec uses
// left = 1024 (a shorter local window, as in later Gemma releases); set
// left = 4095 for Gemma 2's exact window.
func.func @softcap_sliding_window(%q: tensor<?x16x?x256xbf16>,
                                  %k: tensor<?x8x?x256xbf16>,
                                  %v: tensor<?x8x?x256xbf16>)
    -> tensor<?x16x?x256xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal, #attn.sliding_window<left = 1024>]>}
      : tensor<?x16x?x256xbf16>, tensor<?x8x?x256xbf16>,
        tensor<?x8x?x256xbf16> -> tensor<?x16x?x256xbf16>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %cap = arith.constant 50.0 : f32
      %x = arith.divf %s, %cap : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %cap : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x16x?x256xbf16>
}
