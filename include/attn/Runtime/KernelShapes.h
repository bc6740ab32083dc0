//===- KernelShapes.h - Concrete shapes of kernel arguments -----*- C++ -*-===//
//
/// \file
/// Resolves the dynamic dimensions of a kernel's arguments from the problem
/// sizes (batch, query and key lengths), and checks what the verifier could
/// not: that given shapes agree with the spec and with each other, that
/// self-attention ops get Nq == Nk, and that masks accept the lengths (a
/// neighborhood grid must hold exactly the sequence). Every backend calls
/// this before it runs a kernel.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_KERNELSHAPES_H
#define ATTN_RUNTIME_KERNELSHAPES_H

#include "attn/Conversion/KernelBuilder.h"
#include "attn/Runtime/HostTensor.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include <optional>

namespace mlir::attn::runtime {

/// The run-time sizes of one call.
struct ProblemSizes {
  std::optional<int64_t> batch, numQueries, numKeys;
  /// Shapes given for arguments by name (captures, or every input when the
  /// inputs come from files); they must agree with the spec and the sizes.
  llvm::StringMap<llvm::SmallVector<int64_t>> argumentShapes;
};

/// Returns the shape of every argument of `signature` (the kernel of
/// `spec`), or an error naming the argument and dimension that contradicts
/// the spec, the sizes or another argument. Sizes nobody gave default to
/// what the spec fixes: the sequence length of a neighborhood grid, and the
/// dims of a captured tensor that a region indexes with b, h, i or j (the
/// largest of B, Hq, Nq and Nk among them). Such a dim, given or static,
/// must hold at least that many entries, and a captured tensor a region
/// reads must not be empty. Every shape's byte count fits in int64_t.
llvm::Expected<llvm::SmallVector<llvm::SmallVector<int64_t>>>
resolveArgumentShapes(Operation *spec, const KernelSignature &signature,
                      const ProblemSizes &sizes);

/// The sequence length the mask of `spec` fixes (a neighborhood grid's
/// product of extents); std::nullopt when the mask leaves it free.
std::optional<int64_t> getMaskSequenceLength(Operation *spec);

/// The problem size a dynamic dimension `dim` of an argument of `role` and
/// `rank` holds: "B" (batch), "Nq", "Nk" or "QB" (query blocks of a block
/// mask); empty for a dimension fixed by the spec (or free, as a block
/// list's length).
llvm::StringRef getDimensionName(KernelArgRole role, int64_t rank, int64_t dim);

/// The runtime's element type of an MLIR element type; nullopt for a type
/// no kernel argument has.
std::optional<ElementType> toElementType(Type type);

/// Checks the values of a block mask among `args` (the kernel's arguments in
/// signature order): counts within [0, list length], listed key blocks
/// within [0, ceil(Nk / blockKeys)), and no key block listed twice for one
/// query block, in either list. A kernel would read out of bounds or count
/// keys twice otherwise. Succeeds when the kernel has no block mask.
llvm::Error checkBlockMask(const KernelSignature &signature,
                           llvm::ArrayRef<HostTensor> args, int64_t numKeys,
                           int64_t blockKeys);

/// The bytes all arguments of `signature`, of `shapes`, take together
/// (what a caller holding one copy of each allocates); an error naming the
/// argument, or the sum, that a 64-bit count cannot hold.
llvm::Expected<int64_t>
getArgumentBytes(const KernelSignature &signature,
                 llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);

/// Whether a kernel whose arguments have `shapes` has nothing to compute:
/// every output it writes (the index_errors record aside) is empty, as for
/// attention with Nq = 0. Callers skip the run: its loops over batch and
/// heads would do nothing observable, for as long as a huge batch takes.
/// A recurrent kernel that writes a final state is not skipped.
bool writesNothing(const KernelSignature &signature,
                   llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);

/// The error a kernel compiled with index checks reports through its
/// index_errors argument among `args` (in signature order): how many reads
/// of captured tensors were out of range, and the first one's capture,
/// dimension, index and the capture's shape. Succeeds when the count is 0
/// or the kernel has no such argument.
llvm::Error checkIndexErrors(const KernelSignature &signature,
                             llvm::ArrayRef<HostTensor> args);

} // namespace mlir::attn::runtime

#endif // ATTN_RUNTIME_KERNELSHAPES_H
