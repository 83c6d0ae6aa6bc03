-- bitttt-scm-1.rockspec - the Lua package `bitttt` and its C module `bitttt.core` for
-- LuaRocks users (LuaJIT or Lua 5.1). From a checkout: `luarocks make` (it runs
-- scripts/build.sh, which needs the Debian packages it lists). The command-line kit
-- (bitttt-lua, scripts/, the bundled model) is scripts/install.sh's job.
rockspec_format = "3.0"
package = "bitttt"
version = "scm-1"
source = {
   url = "git+file://.",   -- build from the checkout: luarocks make
}
description = {
   summary = "Ternary-weight (BitNet b1.58) and test-time-training language models in LuaJIT",
   detailed = [[
A C runtime (tensors, GGUF / llama2.c / safetensors models, tokenizers, CPU and CUDA
kernels) scripted in Lua: model graphs, sampling, test-time-training schedules.
]],
   license = "unspecified: the repository has no licence file yet",
   labels = { "llm", "bitnet", "luajit" },
}
dependencies = {
   "lua >= 5.1, < 5.2",
}
build = {
   type = "command",
   build_command = "./scripts/build.sh release",
   install_command = "mkdir -p $(LUADIR) $(LIBDIR)/bitttt && cp -R lua/bitttt $(LUADIR)/ && cp bin/bitttt/core.so $(LIBDIR)/bitttt/core.so",
}
