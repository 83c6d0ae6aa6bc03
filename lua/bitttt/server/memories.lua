-- memories.lua - TTT memories: named session states (fast weights and position)
-- in a folder, one safetensors state file per name (Session:save_state, which
-- records the model's fingerprint; loading refuses another model's file).
--
-- Requests for one memory are serialised: within the process by a lock table,
-- across processes that share the folder by flock(2) on NAME.lock (LuaJIT FFI;
-- tried without blocking, so the event loop keeps serving while it waits).
local ffi = require "ffi"
local core = require "bitttt.core"
local Errors = require "bitttt.server.errors"

ffi.cdef [[
int open(const char *path, int flags, int mode);
int close(int fd);
int flock(int fd, int operation);
int mkdir(const char *path, int mode);
]]
local O_RDWR, O_CREAT, O_CLOEXEC = 2, 64, 524288
local LOCK_EX, LOCK_NB, LOCK_UN = 2, 4, 8

local Memories = {}
Memories.__index = Memories

--- dir: the folder (made if missing); sleep(seconds): the event loop's sleep.
function Memories.new(dir, sleep)
    ffi.C.mkdir(dir, 493)   -- 0755; an existing folder is fine
    local probe = io.open(dir .. "/.probe", "w")
    if not probe then error(("--memory-dir %s: cannot write there"):format(dir), 0) end
    probe:close()
    os.remove(dir .. "/.probe")
    return setmetatable({ dir = dir, sleep = sleep, held = {} }, Memories)
end

function Memories:path(name) return ("%s/%s.state"):format(self.dir, name) end

function Memories:exists(name)
    local f = io.open(self:path(name), "rb")
    if f then f:close() end
    return f ~= nil
end

--- Waits for the memory's lock (this process, then the file lock); returns a release function.
function Memories:lock(name)
    while self.held[name] do self.sleep(0.01) end
    self.held[name] = true
    local fd = ffi.C.open(("%s/%s.lock"):format(self.dir, name), O_RDWR + O_CREAT + O_CLOEXEC, 420)
    if fd < 0 then
        self.held[name] = nil
        Errors.raise(500, ("memory '%s': cannot open its lock file in %s"):format(name, self.dir))
    end
    while ffi.C.flock(fd, LOCK_EX + LOCK_NB) ~= 0 do self.sleep(0.01) end
    return function()
        ffi.C.flock(fd, LOCK_UN)
        ffi.C.close(fd)
        self.held[name] = nil
    end
end

--- Puts the memory's state into a session (a fresh state when the memory does not exist).
-- A file made with another model is a 409.
function Memories:load(session, name)
    session:reset()
    if not self:exists(name) then return false end
    local ok, err = pcall(session.load_state, session, self:path(name))
    if not ok then
        session:reset()
        Errors.raise(409, ("memory '%s': %s"):format(name, tostring(err):gsub("^.-%.state: ", "")), "ttt.memory")
    end
    return true
end

--- Saves the session's state as the memory (written beside it, then renamed into place).
function Memories:save(session, name)
    local path = self:path(name)
    session:save_state(path .. ".tmp")
    assert(os.rename(path .. ".tmp", path))
end

--- { id, object, tokens (the position it reached), bytes } or nil when there is no such memory.
function Memories:info(name)
    if not self:exists(name) then return nil end
    local f = io.open(self:path(name), "rb")
    local bytes = f:seek("end")
    f:close()
    local _, meta = core.safetensors_load(self:path(name))
    return { id = name, object = "memory", tokens = tonumber(meta.position), bytes = bytes }
end

function Memories:delete(name)
    local existed = self:exists(name)
    os.remove(self:path(name))
    return existed
end

return Memories
