# -*- Python -*-
# lit configuration of attn's FileCheck tests.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "attn"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")
# GoogleTest units and GPU tests have their own runners.
config.excludes = ["Unit", "gpu", "ptx", "reference", "CMakeLists.txt", "lit.cfg.py"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["attn-opt", "attn-run", "attn-compile"], [config.attn_tools_dir, config.llvm_tools_dir]
)
config.substitutions.append(("%examples", os.path.join(config.attn_src_root, "examples")))
