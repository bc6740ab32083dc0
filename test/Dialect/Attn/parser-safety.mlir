// RUN: not attn-opt %s 2>&1 | FileCheck %s
// RUN: not attn-opt --split-input-file --verify-diagnostics %s 2>&1 | FileCheck %s

// Upstream MLIR 22's parser crashes on a dense array of index; attn-opt
// reports it at its place instead. A mention in a comment, array<index: 1>,
// or in a string is not the construct.

// CHECK: parser-safety.mlir:[[# @LINE + 2]]:38: error: a dense array cannot hold 'index' elements; use array<i64: ...>
// CHECK-NOT: Stack dump
func.func @f() attributes {a = array<index: 64, 64>, s = "array<index: 1>"} {
  return
}
