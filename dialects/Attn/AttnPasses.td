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
    `or<[causal, sinks]>`; under `and`, causal masks of one alignment keep
    the smallest offset, windows of one alignment intersect, and a window
    and-ed with a causal mask of offset c >= 0 of its alignment absorbs it
    with `right = min(right, c)`; under `or`, causal masks of one alignment
    keep the largest offset and sinks the largest count. Merged operands
    come in canonical order: per alignment (bottom_right, then top_left) the
    causal mask and the window, then sinks, then the rest.
    The meaning of the op does not change (docs/semantics.md).
  }];
  let dependentDialects = [];
}

def AttnLowerToReferencePass
    : Pass<"attn-lower-to-reference", "::mlir::ModuleOp"> {
  let summary = "Lower every attn spec op to a reference kernel of plain loops";
  let description = [{
    For the `n`-th attn op of function `@f`, adds a kernel
    `func.func @f_n_reference` whose arguments are strided memrefs, one per
    operand and result of the op (inputs, then outputs; see
    `getKernelSignature`). The kernel follows docs/semantics.md literally,
    one output element at a time, in fp32:

    - `attn.attention`: per row, a pass for the maximum kept score, then a
      pass accumulating the weights and the weighted values;
    - `attn.linear_attention`: the step-by-step recurrence on an fp32 state;
    - `attn.hybrid`: per row, the window's softmax terms and the linear
      terms with their decays, summed directly.

    This is the semantic reference every faster kernel is tested against;
    it favours plainness over speed. The spec functions are left in place.
  }];
  let options = [
    Option<"floatStorage", "float-storage", "std::string", /*default=*/"\"\"",
           "Store every floating-point tensor as this type ('f32'); by "
           "default tensors keep the spec's element types">,
    Option<"checkIndices", "check-indices", "bool", /*default=*/"false",
           "Record reads of captured tensors at out-of-range indices in an "
           "index_errors argument, which the runtime reports after the "
           "launch (the reads are clamped either way)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect"];
}

def AttnTileToLoopsPass : Pass<"attn-tile-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower attn_tile ops to loops on memrefs (the CPU strategy)";
  let description = [{
    The CPU strategy of the tile level: every `attn_tile` op becomes `scf`
    loops over a buffer of its tile, in the thread that runs the kernel.
    Layouts only say where a GPU places elements; one CPU thread holds them
    all, so this strategy lowers tiles of every layout, and the CPU runs the
    very tile program a GPU strategy runs, with the same numerics.

    1. Each tile value gets a buffer of its static shape, allocated once at
       the start of its function and freed before it returns.
    2. A tile carried by an `scf.for` is copied into a buffer of the loop's
       own at the end of each iteration, so an op that runs again in the
       next iteration never overwrites a value the iteration still reads.
    3. Each op writes its result buffer element by element: loads with zero
       fill past `rows_below`, matmuls and the state update as f32 sums,
       `attn_tile.map` by inlining its body once per element, the UT
       solve by forward substitution.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def AttnTileToSimtPass : Pass<"attn-tile-to-simt", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower the tile programs of SIMT GPU kernels to loops shared by a block's threads";
  let description = [{
    The SIMT strategy of the tile level, for the kernels of a `gpu.module`
    marked `attn_tile.simt`: GPU kernels without tensor cores (f32 inputs,
    head dims the tensor-core kernels do not take, feature maps and
    hybrids they do not run). It runs the CPU strategy's lowerings
    (attn-tile-to-loops), with two changes:

    1. Every tile lives in scratch memory: the block's dynamic shared
       memory, or, where the function names one (`attn_tile.simt_workspace`
       = its argument index), the workspace slice [b, h, :] of its
       (sequence, head). Tiles whose live ranges do not overlap share
       memory (first-fit, in program order); a tile an `scf.for` carries
       is copied before the yield, as on the CPU, and lives across the
       whole loop. Rows of 2-D shared tiles are padded to an odd number of
       words, so a column's elements fall in distinct banks.
    2. The independent iterations of each op (the elements of a tile, the
       rows of a reduction, the columns of a scan or of the UT solve) are
       shared by the block's threads (`known_block_size`), which meet at a
       barrier after each op. So every op reads what the ops before it
       wrote, and no tile's memory is written again while a thread still
       reads it.

    Tile programs for this strategy keep f32 matmul operands and load each
    key tile or chunk in the iteration that reads it (TileLayouts::simt).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::gpu::GPUDialect"];
}

def AttnTileToMmaSyncPass
    : Pass<"attn-tile-to-mma-sync", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower attn_tile ops of GPU kernels to mma.sync, ldmatrix and shared memory";
  let description = [{
    The `mma.sync` strategy of the tile level (sm_80 and later), for the
    tile programs of the kernels of a `gpu.module`:

    1. Tiles of the register layouts (`#attn_tile.mma`, `#attn_tile.operand`,
       `#attn_tile.slice`) become one vector per thread, of the elements
       the layout gives the thread; `scf.for` carries them as values.
    2. Tiles of `#attn_tile.shared` become views of the block's dynamic
       shared memory, one region per op in program order (its size is
       `getTileSharedBytes`); rows are padded by 16 bytes so that the eight
       rows one `ldmatrix` reads fall in distinct banks. An op that writes
       a shared tile waits at a barrier before (earlier readers) and after
       (later readers).
    3. `attn_tile.matmul` and `attn_tile.state_update` run on
       `mma.sync.m16n8k16`, with operands from shared memory through
       `ldmatrix` (transposed where the tile is stored the other way) or,
       for an A operand, from registers; `attn_tile.map` runs its body once
       per element a thread holds, with that element's (row, column);
       row reductions end with two shuffles within a quad.

    Ops on layouts this strategy does not handle fail to legalize, with the
    reason.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect"];
}

def AttnLowerToTilesPass : Pass<"attn-lower-to-tiles", "::mlir::ModuleOp"> {
  let summary = "Lower every attn spec op to its tiled algorithm";
  let description = [{
    For the `n`-th attn op of function `@f`, adds a kernel `@f_n_tiled`
    with the signature of the reference kernel, running the algorithm the
    GPU runs:

    - `attn.attention`: flash-style online softmax over blocks of
      `block-queries` x `block-keys`. Each query block visits only the key
      intervals its named mask can make visible (`buildKeyRanges`), so
      empty blocks are never visited, and a block inside the interval every
      query sees runs without any mask code.
    - `attn.linear_attention`: chunked form with chunks of the op's
      `chunk_size`: an intra-chunk quadratic part with the decay-masked
      causal matrix, an inter-chunk part reading the state, and a state
      update; the delta rule uses its WY/UT form.
    - `attn.hybrid`: the window's softmax by blocks, plus the chunked
      linear term (lagged by the window under `shared_denominator`).

    The kernels are tested against `attn-lower-to-reference` by
    `attn-run --check`.
  }];
  let options = [
    Option<"blockQueries", "block-queries", "int64_t", /*default=*/"64",
           "Queries per tile">,
    Option<"blockKeys", "block-keys", "int64_t", /*default=*/"64",
           "Keys per tile">,
    Option<"floatStorage", "float-storage", "std::string", /*default=*/"\"\"",
           "Store every floating-point tensor as this type ('f32'); by "
           "default tensors keep the spec's element types">,
    Option<"checkIndices", "check-indices", "bool", /*default=*/"false",
           "Record reads of captured tensors at out-of-range indices in an "
           "index_errors argument, which the runtime reports after the "
           "launch (the reads are clamped either way)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::attn::tile::TileDialect"];
}

def AttnLowerToGPUPass : Pass<"attn-lower-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower every attn spec op to one GPU kernel";
  let description = [{
    Adds `gpu.module @attn_kernels` holding, for the `n`-th attn op of
    function `@f`, a kernel `gpu.func @f_n_gpu` with the reference kernel's
    arguments, running the tiled algorithm of `attn-lower-to-tiles` with
    its independent iterations on the grid:
    - `attn.attention` with bf16 or f16 query, key and value and head dims
      that are multiples of 16 (at most 256): a tensor-core kernel
      (`mma.sync` m16n8k16, `ldmatrix`, `cp.async`; sm_80 and later). A
      block of 128 threads (4 warps) handles 64 query rows; the grid is
      (ceil(Nq / 64), heads, batch) and the Q, K and V tiles live in
      dynamic shared memory. The score and mask regions run on each
      thread's MMA accumulator fragments.
    - any other `attn.attention` (or with `tensor-cores=false`): the same
      flash tile program for the SIMT strategy (`attn-tile-to-simt`), a
      block of `threads` threads per query block; the grid is
      (ceil(Nq / rows), heads, batch), the rows and keys of a tile the
      largest (at most 32 each, and at most `block-keys` keys) whose tiles
      fit in 96 KB of shared memory.
    - `attn.linear_attention` that the tensor-core chunk kernel takes
      (causal, bf16/f16, chunks of 64, Dk 64 or 128, ...): the linear tile
      program on the `mma.sync` strategy, one block of 4 warps per (head,
      sequence, 32 or 64 value columns), grid (heads, batch, Dv / columns);
      how many columns depends on `chip`.
    - any other `attn.linear_attention`, `attn.hybrid`: their tile
      program for the SIMT strategy, one block of `threads` threads per
      (head, sequence), grid (heads, batch), carrying the chunk loop along
      the sequence. Tiles live in shared memory; where they do not all
      fit, the largest live in a last argument
      `workspace : memref<? x heads x words x f32>` that the caller
      allocates.
    The module becomes a `gpu.container_module`; `attn-to-ptx` continues
    to PTX.
  }];
  let options = [
    Option<"blockKeys", "block-keys", "int64_t", /*default=*/"64",
           "Keys per tile">,
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block of a SIMT kernel">,
    Option<"halfStorage", "half-storage", "std::string", /*default=*/"\"\"",
           "Store every 16-bit float tensor as this type ('bf16' or 'f16'); "
           "by default tensors keep the spec's element types">,
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"true",
           "Run attn.attention on tensor cores where its types and head "
           "dims allow">,
    Option<"checkIndices", "check-indices", "bool", /*default=*/"false",
           "Record reads of captured tensors at out-of-range indices in an "
           "index_errors argument, which the runtime reports after the "
           "launch (the reads are clamped either way)">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_80\"",
           "The chip the kernels are for (sm_80 ... sm_90a): the tensor-core "
           "linear kernels size their blocks for it">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::attn::tile::TileDialect"];
}

def AttnConvertNVGPUToNVVMPass
    : Pass<"attn-convert-nvgpu-to-nvvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower the nvgpu ops of attn's kernels to NVVM with 32-bit "
                "indices";
  let description = [{
    Applies upstream's NVGPU-to-NVVM patterns (`nvgpu.ldmatrix`,
    `nvgpu.device_async_copy`, `nvgpu.device_async_create_group`,
    `nvgpu.device_async_wait`, ...) with a type converter whose index type is
    32 bits wide, the width `convert-gpu-to-nvvm{index-bitwidth=32}` gives
    the rest of the kernel. Upstream's `convert-nvgpu-to-nvvm` has no
    index-bitwidth option and converts indices to i64, which leaves casts
    between the two widths that nothing reconciles. Runs on a `gpu.module`
    after `convert-scf-to-cf` and before `convert-gpu-to-nvvm`; async tokens
    become i32 (they carry no value).
  }];
  let dependentDialects = [
    "::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect"];
}

#endif // ATTN_DIALECT_ATTN_PASSES
