// Reads of a captured tensor at out-of-range indices are clamped into it;
// with --check-indices the kernels also count them, and attn-run fails,
// naming the first read, after the run.

// RUN: attn-run %s --check --sizes b=1,n=20 | FileCheck %s --check-prefix=CLAMPED
// RUN: not attn-run %s --check --check-indices --sizes b=1,n=20 2>&1 | FileCheck %s --check-prefix=CHECKED
// RUN: attn-run %s --op 1 --check --check-indices --sizes b=2,n=33 | FileCheck %s --check-prefix=IN-RANGE

// CLAMPED: max_rel_err=
// CLAMPED-SAME: tol=1.0e-04
// CHECKED: attn-run: error: reference kernel: 1600 read(s) of captured tensors were out of range (checked indices); the first read capture0 of shape [4] at index 1000 of dim 0, which was clamped into the tensor
// IN-RANGE: capture0[4] output[2, 2, 33, 8] index_errors[4] max_rel_err=
func.func @far_key(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                   %v: tensor<?x2x?x8xf32>, %t: tensor<4xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<4xf32>)
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %table: tensor<4xf32>):
      %far = arith.constant 1000 : index
      %x = arith.addi %j, %far : index
      %bias = tensor.extract %table[%x] : tensor<4xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x8xf32>
}

// The same read kept in range passes the check, on the reference and the
// tiled kernel.
func.func @periodic_key(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
                        %v: tensor<?x2x?x8xf32>, %t: tensor<4xf32>)
    -> tensor<?x2x?x8xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<4xf32>)
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
      -> tensor<?x2x?x8xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %table: tensor<4xf32>):
      %four = arith.constant 4 : index
      %x = arith.remui %j, %four : index
      %bias = tensor.extract %table[%x] : tensor<4xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x8xf32>
}
