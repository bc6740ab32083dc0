// RUN: attn-opt %s --attn-lower-to-gpu -verify-diagnostics

// The SIMT attention kernel keeps its tiles in shared memory: head dims
// whose 1 x 1 tiles (a query row, a key row, a value row, the accumulator)
// pass its budget are refused, with what they would need.
func.func @too_wide(%q: tensor<?x1x?x32768xf32>, %k: tensor<?x1x?x32768xf32>,
                    %v: tensor<?x1x?x32768xf32>) -> tensor<?x1x?x32768xf32> {
  // expected-error @below {{head dims Dk = 32768 and Dv = 32768 are too wide for the SIMT attention kernel: its smallest tiles need 917680 bytes of shared memory, more than 98304}}
  %o = attn.attention %q, %k, %v
      : tensor<?x1x?x32768xf32>, tensor<?x1x?x32768xf32>,
        tensor<?x1x?x32768xf32> -> tensor<?x1x?x32768xf32>
  return %o : tensor<?x1x?x32768xf32>
}
