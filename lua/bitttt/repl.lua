-- repl.lua - the Lua half of the bitttt-lua REPL (the C half, runtime/host/repl*.c,
-- reads lines and runs chunks): printing results, tab completion and `:` commands.
--
--   Repl.start()                 globals `bitttt` and `help`
--   Repl.print_results(...)      what the REPL prints for an expression's values
--   Repl.format(v)               one value as readable text (tensors, nested tables)
--   Repl.complete(before)        -> word_start, { candidates } for the text before the cursor
--   Repl.command(line)           ":help [name]" and friends; true when handled
local Help = require "bitttt.help"

local Repl = {}

-- Limits of the table printer: nesting depth, entries per table, one-line width.
Repl.max_depth, Repl.max_items, Repl.line_width = 3, 24, 72

local function is_tensor(v)
    local ok, bt = pcall(require, "bitttt")
    return ok and bt.is_tensor(v)
end

local function is_identifier(s)
    return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

-- Keys sorted: array part first, then numbers, then strings, then the rest by tostring.
local function sorted_keys(t, n_array)
    local keys = {}
    for k in pairs(t) do
        if not (type(k) == "number" and k >= 1 and k <= n_array and k % 1 == 0) then keys[#keys + 1] = k end
    end
    local rank = { number = 1, string = 2 }
    table.sort(keys, function(a, b)
        local ra, rb = rank[type(a)] or 3, rank[type(b)] or 3
        if ra ~= rb then return ra < rb end
        if ra == 1 then return a < b end
        return tostring(a) < tostring(b)
    end)
    return keys
end

-- One-line descriptions of the big objects (their fields would fill screens).
-- (Models and sessions have their own __tostring.)
local summaries = {
    tokenizer = function(t) return ("<tokenizer> %d tokens"):format(t:vocab_size()) end,
}

local function summary(v, kind)
    if not summaries[kind] then return nil end
    local ok, text = pcall(summaries[kind], v)
    return ok and text or nil
end

local format_value

local function format_table(t, depth, seen, indent)
    if seen[t] then return "<cycle>" end
    if depth >= Repl.max_depth then return "{...}" end
    seen[t] = true
    local n_array = #t
    local items, packable, shown, total = {}, {}, 0, 0   -- packable: array items share lines
    local function add(text, in_array)
        total = total + 1
        if shown < Repl.max_items then
            shown = shown + 1
            items[#items + 1], packable[#items + 1] = text, in_array
        end
    end
    for i = 1, n_array do add(format_value(t[i], depth + 1, seen, indent .. "  ", true), true) end
    for _, k in ipairs(sorted_keys(t, n_array)) do
        local key = is_identifier(k) and k or ("[" .. format_value(k, depth + 1, seen, indent, true) .. "]")
        add(key .. " = " .. format_value(t[k], depth + 1, seen, indent .. "  ", true), false)
    end
    seen[t] = nil
    if total > shown then items[#items + 1], packable[#items + 1] = ("... (%d more)"):format(total - shown), true end
    if #items == 0 then return "{}" end
    local one_line = "{ " .. table.concat(items, ", ") .. " }"
    if #one_line + #indent <= Repl.line_width and not one_line:find("\n") then return one_line end
    -- Short array items share lines; fields and items holding a newline get lines of their own.
    local lines, line = {}, nil
    for i, item in ipairs(items) do
        item = item .. (i < #items and "," or "")
        if line and packable[i] and packable[i - 1] and not item:find("\n") and
           #indent + 2 + #line + 1 + #item <= Repl.line_width then
            line = line .. " " .. item
        else
            if line then lines[#lines + 1] = line end
            line = item
        end
        if line:find("\n") then lines[#lines + 1], line = line, nil end
    end
    if line then lines[#lines + 1] = line end
    return "{\n" .. indent .. "  " .. table.concat(lines, "\n" .. indent .. "  ") .. "\n" .. indent .. "}"
end

-- `nested`: inside a table (strings quoted, tensors as their one-line summary).
function format_value(v, depth, seen, indent, nested)
    local kind = type(v)
    if kind == "string" then return nested and ("%q"):format(v):gsub("\\\n", "\\n") or v end
    if kind == "table" then
        local mt = getmetatable(v)
        if mt and mt.__tostring then return tostring(v) end
        local label = Help.kind_of(v)
        if label and summary(v, label) then return summary(v, label) end
        local body = format_table(v, depth, seen, indent)
        return label and ("<" .. label .. "> " .. body) or body
    end
    if is_tensor(v) then
        local text = tostring(v)
        return nested and (text:match("^[^\n]*")) or text
    end
    if kind == "userdata" then
        local label = Help.kind_of(v)
        if label then return summary(v, label) or ("<" .. label .. ">") end
    end
    return tostring(v)
end

--- One value as text: tensors with shape, dtype, device and an excerpt of values;
-- tables nested up to Repl.max_depth levels and Repl.max_items entries each.
function Repl.format(v)
    return format_value(v, 0, {}, "", false)
end

--- Prints the values of an expression, tab-separated as print does.
function Repl.print_results(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do parts[i] = Repl.format((select(i, ...))) end
    io.stdout:write(table.concat(parts, "\t"), "\n")
    io.stdout:flush()
end

---------------------------------------------------------------- completion

local keywords = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

-- Indexes v by key without running code that could fail.
local function field(v, key)
    local ok, r = pcall(function() return v[key] end)
    return ok and r or nil
end

-- Adds the string keys of table t (and of its __index chain) to `names`.
local function add_keys(names, t, want_function, depth)
    if type(t) ~= "table" or depth > 4 then return end
    for k, v in pairs(t) do
        if is_identifier(k) and (not want_function or type(v) == "function") then names[k] = true end
    end
    local mt = getmetatable(t)
    if mt and type(mt.__index) == "table" then add_keys(names, mt.__index, want_function, depth + 1) end
end

-- Names reachable after `v.` (fields) or `v:` (methods).
local function members(v, methods_only)
    local names = {}
    if type(v) == "table" then add_keys(names, v, methods_only, 0) end
    local mt = getmetatable(v)
    if type(mt) == "table" and type(v) ~= "table" then
        add_keys(names, rawget(mt, "methods"), methods_only, 0)   -- tensors: metatable.methods
        if type(rawget(mt, "__index")) == "table" then add_keys(names, mt.__index, methods_only, 0) end
    end
    return names
end

--- Completions for the text before the cursor: the byte offset (1-based) where the
-- word being completed starts, and the sorted candidates that replace it.
function Repl.complete(before)
    if before:match("^%s*:[%w]*$") then
        local start = before:find(":", 1, true)
        local word = before:sub(start)
        local out = {}
        for _, c in ipairs({ ":help", ":quit" }) do
            if c:sub(1, #word) == word then out[#out + 1] = c end
        end
        return start, out
    end
    local path = before:match("[%a_][%w_%.:]*$") or ""
    if path == "" or before:sub(-#path - 1, -#path - 1):match("[%w_]") then return #before + 1, {} end
    local prefix, sep, word = path:match("^(.-)([%.:]?)([%w_]*)$")
    local names
    if sep == "" then
        names = members(_G, false)
        for _, k in ipairs(keywords) do names[k] = true end
    else
        local v = _G
        for part in prefix:gmatch("[^%.:]+") do
            v = field(v, part)
            if v == nil then return #before + 1, {} end
        end
        if prefix:find(":") then return #before + 1, {} end
        names = members(v, sep == ":")
    end
    local out = {}
    for name in pairs(names) do
        if name:sub(1, #word) == word then out[#out + 1] = name end
    end
    table.sort(out)
    return #before - #word + 1, out
end

---------------------------------------------------------------- commands

--- Handles a line starting with ':'; returns "quit" to leave, true when handled.
function Repl.command(line)
    local name, rest = line:match("^%s*:(%a*)%s*(.-)%s*$")
    if name == "help" or name == "h" then
        io.stdout:write(rest == "" and Help.text() or Help.text(rest), "\n")
    elseif name == "quit" or name == "q" then
        return "quit"
    else
        io.stdout:write(("unknown command ':%s' (try :help)\n"):format(tostring(name)))
    end
    return true
end

--- Sets up the REPL's globals (unless a script run before with -i set them):
-- the package as `bitttt`, and `help`.
function Repl.start()
    if rawget(_G, "bitttt") == nil then rawset(_G, "bitttt", require "bitttt") end
    if rawget(_G, "help") == nil then
        rawset(_G, "help", function(...) io.stdout:write(Help.text(...), "\n") end)
    end
end

return Repl
