-- file_kind.lua - what a file is, from its first bytes, so that a wrong file is
-- refused with what was found and what was expected before a loader misreads it.
--
--   FileKind.check(path, "model")       -- a GGUF, llama2.c checkpoint, safetensors file or HF folder
--   FileKind.check(path, "tokenizer")   -- a GGUF with a vocabulary, or a llama2.c tokenizer.bin
--   FileKind.check(path, "file")        -- any regular file (a text to read)
--   local kind, description = FileKind.sniff(path)
--
-- Errors are "<path>: found <what>; expected <what>". A FIFO, socket or device is
-- refused before it is opened (reading a FIFO would wait for a writer forever).
local core = require "bitttt.core"

local FileKind = {}

local function u32(s, i)   -- little-endian, 1-based offset
    local a, b, c, d = s:byte(i, i + 3)
    return a + b * 256 + c * 65536 + d * 16777216
end
local function i32(s, i)
    local v = u32(s, i)
    return v >= 2147483648 and v - 4294967296 or v
end

-- llama2.c checkpoint header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative:
-- unshared classifier), seq_len, each int32, all plausible together.
local function llama2c_checkpoint(head)
    if #head < 28 then return false end
    local dim, hidden, layers, heads, kv, vocab, seq = i32(head, 1), i32(head, 5), i32(head, 9), i32(head, 13),
        i32(head, 17), math.abs(i32(head, 21)), i32(head, 25)
    local function sane(v) return v >= 1 and v <= 1048576 end
    return sane(dim) and sane(hidden) and sane(layers) and sane(heads) and sane(kv) and sane(vocab) and sane(seq)
        and heads <= dim and dim % heads == 0 and kv <= heads
end

-- llama2.c tokenizer.bin: int32 max_token_length, then per token float32 score, int32 len, len bytes.
local function llama2c_tokenizer(head)
    if #head < 12 then return false end
    local max_len, at = i32(head, 1), 5
    if max_len < 1 or max_len > 4096 then return false end
    for _ = 1, 3 do   -- the first tokens' lengths, as far as the head reaches
        if at + 8 > #head then break end
        local len = i32(head, at + 4)
        if len < 0 or len > max_len then return false end
        at = at + 8 + len
    end
    return true
end

-- Printable UTF-8 or ASCII text with its usual control characters, no NUL.
local function text(head)
    return not head:find("[%z\1-\8\11\14-\31\127]")
end

-- SentencePiece's tokenizer.model: a protobuf whose first field (1, length-delimited)
-- is a piece message that starts with its own field 1 (the piece string).
local function sentencepiece(head)
    if head:byte(1) ~= 0x0a then return false end
    local i = 2
    while i <= #head and head:byte(i) >= 0x80 do i = i + 1 end   -- the length varint
    return head:byte(i + 1) == 0x0a
end

--- The kind of a regular file from its first bytes: kind, description.
-- kind: "empty", "gguf", "gzip", "zip", "hdf5", "safetensors", "text", "sentencepiece",
-- "llama2c", "llama2c_tokenizer" or "unknown".
function FileKind.sniff(path)
    local f, err = io.open(path, "rb")
    if not f then error(err, 0) end
    local head = f:read(512) or ""
    local size = f:seek("end")
    f:close()
    if size == 0 then return "empty", "an empty file" end
    if head:sub(1, 4) == "GGUF" then return "gguf", "a GGUF file" end
    if head:sub(1, 2) == "\31\139" then return "gzip", "a gzip-compressed file (decompress it first)" end
    if head:sub(1, 4) == "PK\3\4" then return "zip", "a zip archive (a PyTorch checkpoint?)" end
    if head:sub(1, 4) == "\137HDF" then return "hdf5", "an HDF5 file" end
    if #head >= 9 and head:sub(9, 9) == "{" and u32(head, 5) == 0 and u32(head, 1) + 8 <= size then
        return "safetensors", "a safetensors file"
    end
    if text(head) then
        return "text", head:match("^%s*[{%[]") and "a text (JSON) file" or "a text file"
    end
    if sentencepiece(head) then return "sentencepiece", "a SentencePiece tokenizer.model (protobuf)" end
    if llama2c_checkpoint(head) then return "llama2c", "a llama2.c checkpoint" end
    if llama2c_tokenizer(head) then return "llama2c_tokenizer", "a llama2.c tokenizer.bin" end
    local hex = head:sub(1, 8):gsub(".", function(c) return ("%02x "):format(c:byte()) end)
    return "unknown", "data of no known format (first bytes " .. hex:sub(1, -2) .. ")"
end

local roles = {
    model = { accepts = { gguf = true, llama2c = true, safetensors = true },
              expected = "a model: a GGUF file, a llama2.c checkpoint (.bin, with its tokenizer as -z), "
                  .. "a .safetensors file or a folder with model.safetensors and config.json" },
    tokenizer = { accepts = { gguf = true, llama2c_tokenizer = true },
                  expected = "a tokenizer: a GGUF file with a vocabulary or a llama2.c tokenizer.bin" },
    file = { expected = "a regular file" },
}

--- Refuses `path` unless it can be what `role` names; returns the kind it found.
function FileKind.check(path, role)
    local r = roles[role] or error("FileKind.check: unknown role " .. tostring(role), 2)
    local kind, err = core.path_kind(path)
    if not kind then error(err, 0) end
    if kind == "directory" then
        if role ~= "model" then error(("%s: a folder; expected %s"):format(path, r.expected), 0) end
        local f = io.open(path .. "/model.safetensors", "rb")
        if not f then error(("%s: a folder without model.safetensors; expected %s"):format(path, r.expected), 0) end
        f:close()
        return "directory"
    end
    if kind ~= "file" then
        error(("%s: a %s, not a regular file; expected %s"):format(path, kind == "fifo" and "FIFO (named pipe)" or kind,
            r.expected), 0)
    end
    if not r.accepts then return "file" end
    local found, description = FileKind.sniff(path)
    -- a llama2.c checkpoint and tokenizer can look alike; the loader tells them apart
    if r.accepts[found] or (found == "llama2c" and r.accepts.llama2c_tokenizer) then return found end
    error(("%s: found %s; expected %s"):format(path, description, r.expected), 0)
end

return FileKind
