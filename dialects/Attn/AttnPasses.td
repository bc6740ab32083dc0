//===- AttnPasses.td - attn passes ------------------------*- tablegen -*-===//

#ifndef ATTN_DIALECT_ATTN_PASSES
#define ATTN_DIALECT_ATTN_PASSES

include "mlir/Pass/PassBase.td"

def AttnSimplifyMasksPass : Pass<"attn-simplify-masks"> {
  let summary = "Put the named masks of attn ops in simplest form";
  let description = [{
    Rewrites the `mask` attribute of every `attn.attention` op to an equal,
    simpler mask: nested `and`/`or` are flattened and deduplicated,
    one-element combinators are unwrapped, `prefix_lm` becomes
    `or<[sinks, causal]>`, several causal masks of one alignment keep the
    tightest, and a sliding window and-ed with a causal mask of the same
    alignment drops the part of the window right of the diagonal.
    The meaning of the op does not change (docs/semantics.md).
  }];
  let dependentDialects = [];
}

#endif // ATTN_DIALECT_ATTN_PASSES
