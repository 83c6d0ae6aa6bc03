-- placement.lua - which layers of a decoder run on the GPU and which on the CPU
-- (hybrid inference), and moving their weights there.
--
--   local plan = Placement.plan(decoder, { n_gpu_layers = N|"auto", n_ctx = C })
--   Placement.apply(decoder, plan)       -- moves the weights (Decoder:place does both)
--
-- plan.layers[l]: the device name of layer l ("cpu" or "cuda:0"); plan.head and
-- plan.embd: where the output head and the embedding lookup run; plan.reason:
-- why (runtime/placer.h states the rules: layers from the last one backwards,
-- whole layers, then the head); plan.bytes[l] = { weight =, state = } on the GPU.
--
-- Options: n_gpu_layers (0, nil: everything on the CPU), n_ctx (the context the
-- KV caches, of the model's cfg.kv_type, are counted for; default
-- Decoder:default_context()), device
-- ("cuda:0"), reserve (bytes left free; default 512 MiB), free (bytes: pretend
-- this much GPU memory is free, for tests and what-if plans without a GPU),
-- gpu_mem (bytes: the most the plan may use of the GPU's free memory, as if the
-- card were that small; --gpu-mem).
--
-- Without a GPU (or when CUDA fails) the plan keeps everything on the CPU and
-- stderr says so once per process. Attention and TTT-Linear layers run on the GPU;
-- layers whose mixer has no CUDA kernels (fastweight) or whose shapes or weight types
-- the GPU kernels do not take (mixer:gpu_unsupported) stay on the CPU, and the
-- reason says why.
local core = require "bitttt.core"

local Placement = {}

Placement.default_reserve = 512 * 1024 * 1024

-- The layer fields that hold weights (the mixer lists its own in weight_names).
local layer_weight_names = { "attn_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down", "ffn_sub_norm" }

local told = false   -- the "running on the CPU" note goes out once per process

local function tell_once(text)
    if told then return end
    told = true
    io.stderr:write("bitttt: ", text, "\n")
end

local function mib(bytes) return ("%.1f MiB"):format(bytes / 1048576) end

--- Every weight of a layer as { owner table, field name } pairs.
local function layer_weights(layer)
    local list = {}
    for _, name in ipairs(layer_weight_names) do
        if layer[name] then list[#list + 1] = { layer, name } end
    end
    for _, name in ipairs(layer.mixer.weight_names or {}) do
        if layer.mixer[name] then list[#list + 1] = { layer.mixer, name } end
    end
    return list
end
Placement.layer_weights = layer_weights

-- nil when a layer can run on device, else why not.
local function layer_unsupported(decoder, layer, device)
    local mixer = layer.mixer
    if not mixer.gpu_unsupported then return (mixer.kind or "this mixer") .. ": no CUDA kernels" end
    local why = mixer:gpu_unsupported(device)
    if why then return why end
    for _, name in ipairs({ "ffn_gate", "ffn_up", "ffn_down" }) do
        why = core.linear_unsupported(layer[name], decoder.cfg.act_quant, device)
        if why then return name .. ": " .. why end
    end
    return nil
end

local function bytes_on(device, tensors)
    local total = 0
    for _, t in ipairs(tensors) do total = total + core.placed_bytes(t, device) end
    return total
end

-- Activation buffers and kernel scratch of one session on the device.
local function scratch_bytes(decoder, device, n_ctx)
    local B, widths = decoder.cfg.max_batch, decoder:scratch_widths()
    local floats, max_k, n_head, head_dim = 0, 0, 0, 0
    for _, width in pairs(widths) do
        floats = floats + width
        max_k = math.max(max_k, width)
    end
    for _, layer in ipairs(decoder.w.layers) do
        if layer.mixer.kind == "attention" and n_head == 0 then n_head, head_dim = layer.mixer.n_head, layer.mixer.head_dim end
    end
    local att_ctx = n_head > 0 and n_ctx or 0   -- only attention's scratch depends on it (no limit without attention)
    return 4 * B * floats + 8 * B + core.op_scratch_bytes(device, B, max_k, n_head, head_dim, att_ctx)
end

local function all_cpu(decoder, reason)
    local plan = { layers = {}, bytes = {}, head = "cpu", embd = "cpu", device = "cpu", reason = reason, n_gpu_layers = 0 }
    for l = 1, #decoder.w.layers do plan.layers[l] = "cpu" end
    return plan
end
Placement.all_cpu = all_cpu

local function check_request(n)
    if n == "auto" then return n end
    local v = tonumber(n)
    if not v or v < 0 or v ~= math.floor(v) then
        error(("n_gpu_layers must be a whole number >= 0 or \"auto\", got %s"):format(tostring(n)), 3)
    end
    return v
end

--- The plan for decoder (see the header); moves nothing.
function Placement.plan(decoder, opts)
    opts = opts or {}
    local request = check_request(opts.n_gpu_layers or 0)
    if request == 0 then return all_cpu(decoder, "0 layers requested: everything on the CPU.") end
    local device = opts.device or "cuda:0"
    local gpu = { name = device, free = opts.free }
    if not opts.free then
        local info = core.device_info(device)
        if not info.available then
            tell_once(("no usable GPU (%s); running on the CPU"):format(info.error))
            return all_cpu(decoder, "No GPU: " .. info.error .. ". Everything on the CPU.")
        end
        gpu.name, gpu.free, gpu.total = info.name, info.free, info.total
    end
    local cap = ""
    if opts.gpu_mem then
        if type(opts.gpu_mem) ~= "number" or not (opts.gpu_mem >= 0) then
            error(("gpu_mem must be a number of bytes >= 0, got %s"):format(tostring(opts.gpu_mem)), 2)
        end
        if opts.gpu_mem < gpu.free then
            gpu.free, cap = opts.gpu_mem, (" (capped at %s by gpu_mem)"):format(mib(opts.gpu_mem))
        end
    end

    local cfg, w = decoder.cfg, decoder.w
    local n_ctx = opts.n_ctx or decoder:default_context()   -- caches grow up to it: plan for all of it
    local layers, bytes = {}, {}
    for l, layer in ipairs(w.layers) do
        local why = layer_unsupported(decoder, layer, device)
        bytes[l] = { weight = 0, state = 0 }
        if not why then
            local tensors = {}
            for _, ref in ipairs(layer_weights(layer)) do tensors[#tensors + 1] = ref[1][ref[2]] end
            bytes[l] = { weight = bytes_on(device, tensors), state = layer.mixer:state_bytes(n_ctx, cfg.kv_type) }
        end
        layers[l] = { weight = bytes[l].weight, state = bytes[l].state, cpu_only = why }
    end
    local head_why = core.linear_unsupported(w.output, false, device)
    local head_bytes = head_why and 0 or
        bytes_on(device, { w.output, w.output_norm }) + 4 * cfg.max_batch * cfg.n_vocab
    local c = core.place_plan {
        layers = layers, head = head_bytes, head_cpu_only = head_why and ("output head: " .. head_why),
        embd_tied = w.tok_embd == w.output, scratch = scratch_bytes(decoder, device, n_ctx),
        free = gpu.free, reserve = opts.reserve or Placement.default_reserve, n_gpu_layers = request,
    }
    local plan = { layers = {}, bytes = bytes, device = device, n_gpu_layers = c.n_gpu_layers, n_ctx = n_ctx,
        head = c.head and device or "cpu", embd = c.embd and device or "cpu", gpu_bytes = c.gpu_bytes,
        head_bytes = head_bytes, gpu = gpu,
        reason = ("%s: %s%s. %s"):format(device, opts.free and "simulated free memory" or gpu.name, cap, c.reason) }
    for l = 1, #w.layers do plan.layers[l] = c.layers[l] and device or "cpu" end
    return plan
end

-- Places every { owner, field } of refs on device; returns the new tensors in order (nothing swapped yet).
local function place_all(refs, device)
    local placed = {}
    local ok, err = pcall(function()
        for i, ref in ipairs(refs) do placed[i] = core.place_weight(ref[1][ref[2]], device) end
    end)
    if not ok then
        for _, t in ipairs(placed) do t:free() end
        return nil, err
    end
    return placed
end

--- Moves the weights of decoder's GPU layers (and head) to the plan's device.
-- Either all of them move or none: when CUDA fails, the decoder stays on the CPU,
-- stderr says why once, and the returned plan is the CPU plan.
function Placement.apply(decoder, plan)
    local w, refs = decoder.w, {}
    for l, layer in ipairs(w.layers) do
        if plan.layers[l] ~= "cpu" then
            for _, ref in ipairs(layer_weights(layer)) do refs[#refs + 1] = ref end
        end
    end
    if plan.head ~= "cpu" then
        refs[#refs + 1] = { w, "output" }
        refs[#refs + 1] = { w, "output_norm" }
    end
    if #refs == 0 then return plan end
    local placed, err = place_all(refs, plan.device)
    if not placed then
        tell_once(("CUDA failed while placing weights (%s); running on the CPU"):format(tostring(err)))
        return all_cpu(decoder, "Placing the weights failed: " .. tostring(err) .. ". Everything on the CPU.")
    end
    local tied = w.tok_embd == w.output
    for i, ref in ipairs(refs) do ref[1][ref[2]] = placed[i] end
    if tied and plan.embd ~= "cpu" then w.tok_embd = w.output end
    for l, layer in ipairs(w.layers) do layer.mixer.device = plan.layers[l] end
    return plan
end

--- Lines for people: the reason, then layer -> device with its bytes, head and embedding.
function Placement.describe(decoder, plan)
    local lines = { "placement: " .. plan.reason }
    for l, layer in ipairs(decoder.w.layers) do
        local b = plan.bytes[l]
        local size = (b and plan.layers[l] ~= "cpu") and ("  weights %s, state %s"):format(mib(b.weight), mib(b.state)) or ""
        lines[#lines + 1] = ("  layer %2d (blk.%d, %s): %s%s"):format(l - 1, l - 1, layer.mixer.kind or "?", plan.layers[l], size)
    end
    local head_size = plan.head ~= "cpu" and ("  %s with logits"):format(mib(plan.head_bytes)) or ""
    lines[#lines + 1] = ("  output head: %s%s"):format(plan.head, head_size)
    lines[#lines + 1] = ("  embedding lookup: %s"):format(plan.embd)
    if plan.gpu_bytes then lines[#lines + 1] = ("  on %s: %s planned (with pool rounding and scratch)"):format(plan.device, mib(plan.gpu_bytes)) end
    return lines
end

return Placement
