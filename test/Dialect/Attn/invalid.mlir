// RUN: attn-opt %s -split-input-file -verify-diagnostics

func.func @element_types_differ(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op query, key and value must share one element type, got 'bf16', 'f16' and 'bf16'}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @dynamic_heads(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op key head count (dim 1) must be static, got 'tensor<?x?x?x64xbf16>'}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @dynamic_head_dim(%q: tensor<?x8x?x?xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op query head dim (dim 3) must be static, got 'tensor<?x8x?x?xbf16>'}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x?xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @key_dim_mismatch(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x32xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op key head dim (32) must equal query head dim (64)}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x32xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @key_heads_do_not_divide(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x3x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op query heads (8) must be a multiple of key heads (3)}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x3x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @value_heads_do_not_divide(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x5x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op query heads (8) must be a multiple of value heads (5)}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x5x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @batch_mismatch(%q: tensor<2x8x?x64xbf16>, %k: tensor<3x8x?x64xbf16>, %v: tensor<2x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op key batch (3) must equal query batch (2)}}
  %o = attn.attention %q, %k, %v : tensor<2x8x?x64xbf16>, tensor<3x8x?x64xbf16>, tensor<2x8x?x64xbf16> -> tensor<2x8x?x64xbf16>
  return
}

// -----

func.func @kv_length_mismatch(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x10x64xbf16>, %v: tensor<?x8x20x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op value sequence length (20) must equal key sequence length (10)}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x10x64xbf16>, tensor<?x8x20x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @wrong_output_type(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x32xbf16>) {
  // expected-error @+1 {{'attn.attention' op output type must be 'tensor<?x8x?x32xbf16>' (batch, query heads, queries, value dim), got 'tensor<?x8x?x64xbf16>'}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x32xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @negative_scale(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op 'scale' must be a positive finite number, got -1}}
  %o = attn.attention %q, %k, %v {scale = -1.0 : f32} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @lse_needs_softmax(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op the log-sum-exp result needs normalization softmax, got relu}}
  %o, %lse = attn.attention %q, %k, %v {normalization = #attn.normalization<relu>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x8x?xf32>
  return
}

// -----

func.func @lse_wrong_type(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op lse type must be 'tensor<?x8x?xf32>' (batch, query heads, queries), got 'tensor<?x4x?xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>, tensor<?x4x?xf32>
  return
}

// -----

func.func @bias_needs_sigmoid(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op 'sigmoid_bias' is only used by normalization sigmoid}}
  %o = attn.attention %q, %k, %v {sigmoid_bias = 1.0 : f32} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @sigmoid_needs_bias(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op normalization sigmoid needs a 'sigmoid_bias' (for example -log(Nk))}}
  %o = attn.attention %q, %k, %v {normalization = #attn.normalization<sigmoid>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @l1_needs_map(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op normalization l1 needs an 'l1_map' region giving the non-negative map}}
  %o = attn.attention %q, %k, %v {normalization = #attn.normalization<l1>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @l1_map_needs_l1(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op an 'l1_map' region needs normalization l1, got softmax}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> l1_map {
  ^bb0(%s: f32):
    attn.yield %s : f32
  }
  return
}

// -----

func.func @segments_without_document(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %qs: tensor<?x?xi32>, %ks: tensor<?x?xi32>) {
  // expected-error @+1 {{'attn.attention' op segment_ids are given but no #attn.document mask reads them}}
  %o = attn.attention %q, %k, %v segment_ids(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>) {mask = #attn.causal} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @document_without_segments(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op #attn.document needs the op's segment_ids(...) operands}}
  %o = attn.attention %q, %k, %v {mask = #attn.and<[#attn.causal, #attn.document]>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @segment_shape(%q: tensor<2x8x10x64xbf16>, %k: tensor<2x8x10x64xbf16>, %v: tensor<2x8x10x64xbf16>, %qs: tensor<2x10xi32>, %ks: tensor<2x12xi32>) {
  // expected-error @+1 {{'attn.attention' op key segment ids must have shape [2, 10] (batch, keys), got 'tensor<2x12xi32>'}}
  %o = attn.attention %q, %k, %v segment_ids(%qs, %ks : tensor<2x10xi32>, tensor<2x12xi32>) {mask = #attn.document} : tensor<2x8x10x64xbf16>, tensor<2x8x10x64xbf16>, tensor<2x8x10x64xbf16> -> tensor<2x8x10x64xbf16>
  return
}

// -----

func.func @per_head_count(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op per_head assigns 2 heads but the op has 8 query heads}}
  %o = attn.attention %q, %k, %v {mask = #attn.per_head<[#attn.causal], heads = [0, 0]>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @neighborhood_tokens(%q: tensor<?x8x60x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op neighborhood grid holds 64 tokens but the query sequence length is 60}}
  %o = attn.attention %q, %k, %v {mask = #attn.neighborhood<grid = [8, 8], kernel = [3, 3]>} : tensor<?x8x60x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x60x64xbf16>
  return
}

// -----

func.func @not_a_mask(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op attribute 'mask' failed to satisfy constraint: named mask attribute}}
  %o = attn.attention %q, %k, %v {mask = 3 : i64} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @score_mod_arity(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op 'score_mod' region must take 5 arguments (s: f32, b, h, i, j: index), got 2}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> score_mod {
  ^bb0(%s: f32, %b: index):
    attn.yield %s : f32
  }
  return
}

// -----

func.func @score_mod_capture_type(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %c: tensor<8xf32>) {
  // expected-error @+1 {{'attn.attention' op 'score_mod' region argument #5 must be 'tensor<8xf32>' (s: f32, b, h, i, j: index then the 1 captured tensors), got 'tensor<4xf32>'}}
  %o = attn.attention %q, %k, %v captures(%c : tensor<8xf32>)  : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %t: tensor<4xf32>):
    attn.yield %s : f32
  }
  return
}

// -----

func.func @mask_mod_yield_type(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    // expected-error @+1 {{'attn.yield' op must yield 'i1' from the 'mask_mod' region, got 'f32'}}
    attn.yield %c : f32
  }
  return
}

// -----

func.func @score_mod_side_effects(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %m: memref<4xf32>) {
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    // expected-error @+1 {{'memref.alloca' op has side effects; the 'score_mod' region of attn.attention may only hold side-effect-free ops}}
    %a = memref.alloca() : memref<4xf32>
    attn.yield %s : f32
  }
  return
}

// -----

func.func @score_mod_two_values(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-error @+1 {{'attn.yield' op must yield exactly one 'f32' from the 'score_mod' region, got 2 values}}
    attn.yield %s, %s : f32, f32
  }
  return
}

// -----

func.func @yield_outside() {
  // expected-error @+1 {{'attn.yield' op expects parent op to be one of 'attn.attention, attn.linear_attention, attn.hybrid'}}
  attn.yield
}

// -----

func.func @rank_three(%q: tensor<?x8x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op operand #0 must be rank-4 tensor [batch, heads, seq, head_dim] of bf16, f16 or f32, but got 'tensor<?x8x64xbf16>'}}
  %o = attn.attention %q, %k, %v : tensor<?x8x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @integer_inputs(%q: tensor<?x8x?x64xi8>, %k: tensor<?x8x?x64xi8>, %v: tensor<?x8x?x64xi8>) {
  // expected-error @+1 {{'attn.attention' op operand #0 must be rank-4 tensor [batch, heads, seq, head_dim] of bf16, f16 or f32, but got 'tensor<?x8x?x64xi8>'}}
  %o = attn.attention %q, %k, %v : tensor<?x8x?x64xi8>, tensor<?x8x?x64xi8>, tensor<?x8x?x64xi8> -> tensor<?x8x?x64xi8>
  return
}

// -----

func.func @linear_self_attention(%q: tensor<?x4x10x16xbf16>, %k: tensor<?x4x12x16xbf16>, %v: tensor<?x4x12x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op key sequence length (12) must equal query sequence length (10): this op is causal self-attention}}
  %o = attn.linear_attention %q, %k, %v {causal} : tensor<?x4x10x16xbf16>, tensor<?x4x12x16xbf16>, tensor<?x4x12x16xbf16> -> tensor<?x4x10x16xbf16>
  return
}

// -----

func.func @linear_feature_map_twice(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op feature map given both as attribute (relu) and as a region; give one}}
  %o = attn.linear_attention %q, %k, %v {feature_map = #attn.feature_map<relu>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16> feature_map {
  ^bb0(%x: f32):
    attn.yield %x : f32
  }
  return
}

// -----

func.func @linear_hedgehog_needs_weights(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op feature map hedgehog needs feature_weights(...) of shape [2, 4, 16, M]}}
  %o = attn.linear_attention %q, %k, %v {feature_map = #attn.feature_map<hedgehog>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_weights_need_hedgehog(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %w: tensor<2x4x16x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op feature_weights are only used by the hedgehog feature map}}
  %o = attn.linear_attention %q, %k, %v feature_weights(%w : tensor<2x4x16x8xf32>) : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_hedgehog_weight_shape(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %w: tensor<2x4x32x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op feature_weights must have shape [2, 4, 16, M] (query/key, heads, key dim, static width), got 'tensor<2x4x32x8xf32>'}}
  %o = attn.linear_attention %q, %k, %v feature_weights(%w : tensor<2x4x32x8xf32>) {feature_map = #attn.feature_map<hedgehog>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_gate_values_without_kind(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate(...) values given but the gate kind is none; set gate = #attn.gate<per_head>, <per_token> or <per_key>}}
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<4xf32>) {causal} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_gate_kind_without_values(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op gate kind per_token needs gate(...) values}}
  %o = attn.linear_attention %q, %k, %v {causal, gate = #attn.gate<per_token>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_gate_needs_causal(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gates decay the recurrent state and need a causal spec}}
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<4xf32>) {gate = #attn.gate<per_head>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_per_head_gate_shape(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op per_head gate must have shape [4] (query heads), got 'tensor<8xf32>'}}
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<8xf32>) {causal, gate = #attn.gate<per_head>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_per_token_gate_shape(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %g: tensor<?x4x?x16xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op per_token gate must have shape [?, 4, ?] (batch, query heads, sequence), got 'tensor<?x4x?x16xf32>'}}
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?x16xf32>) {causal, gate = #attn.gate<per_token>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_per_key_gate_shape(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %g: tensor<?x4x?x16xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op per_key gate must have shape [?, 4, ?, 273] (batch, query heads, sequence, feature dim), got 'tensor<?x4x?x16xf32>'}}
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?x16xf32>) {causal, gate = #attn.gate<per_key>, feature_map = #attn.feature_map<taylor2>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_norm_eps_without_rms(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op 'norm_eps' is only used by normalization rms_norm}}
  %o = attn.linear_attention %q, %k, %v {norm_eps = 1.0e-5 : f32} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @linear_norm_eps_zero(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op 'norm_eps' must be a positive finite number, got 0}}
  %o = attn.linear_attention %q, %k, %v {norm_eps = 0.0 : f32, normalization = #attn.linear_normalization<rms_norm>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @delta_needs_causal(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %b: tensor<?x4x?xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op the delta rule is a recurrence and needs a causal spec}}
  %o = attn.linear_attention %q, %k, %v beta(%b : tensor<?x4x?xbf16>) {update = #attn.update<delta>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @delta_needs_beta(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op the delta rule needs beta(...) values of shape [?, 4, ?]}}
  %o = attn.linear_attention %q, %k, %v {causal, update = #attn.update<delta>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @delta_per_key_gate(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %b: tensor<?x4x?xbf16>, %g: tensor<?x4x?x16xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op the delta rule supports gates none, per_head and per_token, got per_key}}
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?x16xf32>) beta(%b : tensor<?x4x?xbf16>) {causal, gate = #attn.gate<per_key>, update = #attn.update<delta>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @delta_denominator(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %b: tensor<?x4x?xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op the delta rule supports normalization none and rms_norm, got denominator}}
  %o = attn.linear_attention %q, %k, %v beta(%b : tensor<?x4x?xbf16>) {causal, update = #attn.update<delta>, normalization = #attn.linear_normalization<denominator>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @delta_beta_shape(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %b: tensor<?x2x?xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op beta must have shape [?, 4, ?] (batch, query heads, sequence), got 'tensor<?x2x?xbf16>'}}
  %o = attn.linear_attention %q, %k, %v beta(%b : tensor<?x2x?xbf16>) {causal, update = #attn.update<delta>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @beta_without_delta(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>, %b: tensor<?x4x?xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op beta(...) is only used by the delta rule (update = #attn.update<delta>)}}
  %o = attn.linear_attention %q, %k, %v beta(%b : tensor<?x4x?xbf16>) {causal} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @initial_state_shape(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x32xbf16>, %s: tensor<?x4x16x32xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op initial_state must have shape [?, 4, 16, 33] (batch, query heads, feature dim, value dim (+1 for z under denominator)), got 'tensor<?x4x16x32xf32>'}}
  %o = attn.linear_attention %q, %k, %v initial_state(%s : tensor<?x4x16x32xf32>) {causal, normalization = #attn.linear_normalization<denominator>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16> -> tensor<?x4x?x32xbf16>
  return
}

// -----

func.func @final_state_type(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x32xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op final_state type must be 'tensor<?x4x16x32xf32>' (batch, query heads, feature dim, value dim (+1 for z under denominator)), got 'tensor<?x4x32x32xf32>'}}
  %o, %s = attn.linear_attention %q, %k, %v {causal} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16> -> tensor<?x4x?x32xbf16>, tensor<?x4x32x32xf32>
  return
}

// -----

func.func @chunk_size_not_power_of_two(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op attribute 'chunk_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is a power of two > 0 whose minimum value is 16 whose maximum value is 256}}
  %o = attn.linear_attention %q, %k, %v {causal, chunk_size = 48} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @feature_map_region_signature(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op 'feature_map' region argument #0 must be 'f32' (x: f32), got 'f16'}}
  %o = attn.linear_attention %q, %k, %v {causal} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16> feature_map {
  ^bb0(%x: f16):
    %y = arith.extf %x : f16 to f32
    attn.yield %y : f32
  }
  return
}

// -----

func.func @hybrid_weights_size(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.hybrid' op 'weights' must hold 2 values (softmax term, linear term), got 3}}
  %o = attn.hybrid %q, %k, %v {combine = #attn.combine<weighted_sum>, window = 16, weights = array<f32: 0.5, 0.25, 0.25>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @hybrid_shared_denominator_normalization(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.hybrid' op combine shared_denominator normalizes both terms by one denominator; 'normalization' must be unset}}
  %o = attn.hybrid %q, %k, %v {combine = #attn.combine<shared_denominator>, window = 16, normalization = #attn.linear_normalization<none>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @hybrid_window_positive(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.hybrid' op attribute 'window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %o = attn.hybrid %q, %k, %v {combine = #attn.combine<weighted_sum>, window = 0} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @hybrid_linear_scale(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.hybrid' op 'linear_scale' must be a positive finite number, got INF}}
  %o = attn.hybrid %q, %k, %v {combine = #attn.combine<weighted_sum>, window = 8, linear_scale = 0x7F800000 : f32} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

func.func @block_size_without_block_mask(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op 'block_size' is only used with block_mask}}
  %o = attn.attention %q, %k, %v {block_size = array<i64: 64, 64>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @block_mask_without_block_size(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %n: tensor<?x8x?xi32>, %i: tensor<?x8x?x?xi32>) {
  // expected-error @+1 {{'attn.attention' op block_mask needs 'block_size' = array<i64: BQ, BK>}}
  %o = attn.attention %q, %k, %v block_mask(%n, %i, %n, %i : tensor<?x8x?xi32>, tensor<?x8x?x?xi32>, tensor<?x8x?xi32>, tensor<?x8x?x?xi32>) : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @block_size_not_positive(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %n: tensor<?x8x?xi32>, %i: tensor<?x8x?x?xi32>) {
  // expected-error @+1 {{'attn.attention' op 'block_size' must hold two positive sizes (query block, key block)}}
  %o = attn.attention %q, %k, %v block_mask(%n, %i, %n, %i : tensor<?x8x?xi32>, tensor<?x8x?x?xi32>, tensor<?x8x?xi32>, tensor<?x8x?x?xi32>) {block_size = array<i64: 64, 0>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @block_mask_query_blocks(%q: tensor<2x8x100x64xbf16>, %k: tensor<2x8x100x64xbf16>, %v: tensor<2x8x100x64xbf16>, %n: tensor<2x8x3xi32>, %i: tensor<2x8x?x?xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_num_blocks must have shape [2, 8, 2] (batch, query heads, query blocks), got 'tensor<2x8x3xi32>'}}
  %o = attn.attention %q, %k, %v block_mask(%n, %i, %n, %i : tensor<2x8x3xi32>, tensor<2x8x?x?xi32>, tensor<2x8x3xi32>, tensor<2x8x?x?xi32>) {block_size = array<i64: 64, 64>} : tensor<2x8x100x64xbf16>, tensor<2x8x100x64xbf16>, tensor<2x8x100x64xbf16> -> tensor<2x8x100x64xbf16>
  return
}

// -----

func.func @block_mask_partial(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %n: tensor<?x8x?xi32>, %i: tensor<?x8x?x?xi32>) {
  // expected-error @+1 {{'attn.attention' op block_mask needs kv_num_blocks, kv_indices, full_kv_num_blocks and full_kv_indices}}
  %o = "attn.attention"(%q, %k, %v, %n, %i) <{block_size = array<i64: 64, 64>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1, 1, 0, 0, 0>}> ({}, {}, {}) : (tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?xi32>, tensor<?x8x?x?xi32>) -> tensor<?x8x?x64xbf16>
  return
}

// -----

// An attribute an op does not define is an error, not silently ignored.
func.func @mask_on_linear(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x32xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op has no attribute 'mask'; it takes 'causal', 'chunk_size', 'feature_map', 'gate', 'norm_eps', 'normalization', 'scale', 'update'}}
  %o = attn.linear_attention %q, %k, %v {causal, mask = #attn.per_head<[#attn.causal], heads = [0, 0, 0]>} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x32xbf16> -> tensor<?x4x?x32xbf16>
  return
}

// -----

func.func @misspelt_attention_attr(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>) {
  // expected-error @+1 {{'attn.attention' op has no attribute 'block_sizes'}}
  %o = attn.attention %q, %k, %v {block_sizes = array<i64: 64, 64>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @mask_on_hybrid(%q: tensor<?x4x?x16xbf16>, %k: tensor<?x4x?x16xbf16>, %v: tensor<?x4x?x16xbf16>) {
  // expected-error @+1 {{'attn.hybrid' op has no attribute 'mask'}}
  %o = attn.hybrid %q, %k, %v {combine = #attn.combine<weighted_sum>, window = 32, normalization = #attn.linear_normalization<none>, weights = array<f32: 0.5, 0.5>, mask = #attn.causal} : tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16>, tensor<?x4x?x16xbf16> -> tensor<?x4x?x16xbf16>
  return
}

// -----

// Sizes a lowering would derive impossible buffers from are bounded.
func.func @huge_block_size(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16>, %n: tensor<?x8x?xi32>, %i: tensor<?x8x?x?xi32>) {
  // expected-error @+1 {{'attn.attention' op 'block_size' sizes must be at most 16384, got [2147483648, 64]}}
  %o = attn.attention %q, %k, %v block_mask(%n, %i, %n, %i : tensor<?x8x?xi32>, tensor<?x8x?x?xi32>, tensor<?x8x?xi32>, tensor<?x8x?x?xi32>) {block_size = array<i64: 2147483648, 64>} : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16>
  return
}

// -----

func.func @huge_head_dim(%q: tensor<?x1x?x1048576xf32>, %k: tensor<?x1x?x1048576xf32>, %v: tensor<?x1x?x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query head dim (dim 3) must be at most 65536, got 'tensor<?x1x?x1048576xf32>'}}
  %o = attn.attention %q, %k, %v : tensor<?x1x?x1048576xf32>, tensor<?x1x?x1048576xf32>, tensor<?x1x?x8xf32> -> tensor<?x1x?x8xf32>
  return
}

// -----

func.func @huge_hedgehog_width(%q: tensor<?x1x?x16xbf16>, %k: tensor<?x1x?x16xbf16>, %v: tensor<?x1x?x16xbf16>, %w: tensor<2x1x16x4611686018427387904xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op feature_weights' width M gives 2M features; at most 1048576 are allowed, got M = 4611686018427387904}}
  %o = attn.linear_attention %q, %k, %v feature_weights(%w : tensor<2x1x16x4611686018427387904xf32>) {causal, feature_map = #attn.feature_map<hedgehog>} : tensor<?x1x?x16xbf16>, tensor<?x1x?x16xbf16>, tensor<?x1x?x16xbf16> -> tensor<?x1x?x16xbf16>
  return
}

// -----

func.func @huge_taylor_features(%q: tensor<?x1x?x2048xbf16>, %k: tensor<?x1x?x2048xbf16>, %v: tensor<?x1x?x16xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op the feature map gives 4196353 features; at most 1048576 are allowed}}
  %o = attn.linear_attention %q, %k, %v {causal, feature_map = #attn.feature_map<taylor2>} : tensor<?x1x?x2048xbf16>, tensor<?x1x?x2048xbf16>, tensor<?x1x?x16xbf16> -> tensor<?x1x?x16xbf16>
  return
}
