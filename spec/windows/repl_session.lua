-- A REPL session fed on stdin to bitttt-lua, under wine (bitttt-lua.exe) and on Linux, by
-- scripts/test-windows.sh: both must print the same (tokens sampled with fixed seeds, the
-- REPL's printing of values, a chunk continued over two lines, a ':' command).
m = require("bitttt.model").load(bitttt.default_model)
text, result = m:generate("Once upon a time", {n = 48, seed = 5})
print(text)
=result.n_prompt, result.n_generated, result.last_id, result.stopped
s = m:new_session{}
sampler = require("bitttt.sampling").new{temp = 0.8, top_k = 40, repeat_penalty = 1.3, seed = 9}
s:forward(m.tokenizer:encode("The"))
ids = {}
for i = 1, 32 do local id; repeat id = s:step{sampler = sampler, history = ids} until id; ids[i] = id end
=table.concat(ids, " ")
=m.tokenizer:decode(ids)
={n = #ids, first = ids[1], nested = {ok = true}}
for k = 1,
  3 do io.write(k, " ") end
print()
:help tokenizer
