-- threads.lua - the default thread count for a model, chosen from its work.
--
-- Splitting a layer's matrix products over threads pays only when each thread
-- gets enough weights: below that the fork/join of every op costs more than it
-- saves, and on a machine shared with other work a waiting thread can cost far
-- more (the bundled model ran 10-30x slower on 2 busy cores than on one).
-- scripts/bench-threads.lua measures the crossover (README, "Threads"): on the
-- 2-core build machine 2 threads gained nothing at 0.66 M weights per layer
-- (d = 256) and 1.4x at 2.6 M (d = 512). So each thread is given at least
-- MIN_WEIGHTS_PER_THREAD weights of the model's largest layer.
--
-- Model.load suggests this count; it is used unless the user chose one
-- (-t, bitttt.set_threads, BITTTT_THREADS).
local Threads = {}

Threads.MIN_WEIGHTS_PER_THREAD = 1300000

-- Elements of the 2-d tensors (the matrices) in a table, one level of sub-tables deep.
local function matrix_elements(t, depth)
    local n = 0
    for _, v in pairs(t) do
        if type(v) == "userdata" and v.shape then
            local shape = v:shape()
            if #shape == 2 then n = n + shape[1] * shape[2] end
        elseif type(v) == "table" and depth > 0 then
            n = n + matrix_elements(v, depth - 1)
        end
    end
    return n
end

--- Weights (matrix elements) of the model's largest layer.
function Threads.layer_weights(model)
    local most = 0
    for _, layer in ipairs(model.w.layers) do most = math.max(most, matrix_elements(layer, 1)) end
    return most
end

--- The thread count for the model's work (the C side caps it at the cores).
function Threads.for_model(model)
    return math.max(1, math.floor(Threads.layer_weights(model) / Threads.MIN_WEIGHTS_PER_THREAD))
end

return Threads
