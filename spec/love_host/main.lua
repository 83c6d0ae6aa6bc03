-- main.lua - run by spec/one_runtime_spec.lua as `love spec/love_host ROOT MODEL`:
-- a LuaJIT host of its own (LÖVE) that loads the bitttt module AND calls the C
-- API through the FFI in the same process. Prints "love host: ok" or the error,
-- and quits with 0 or 1.
function love.load(args)
    local root, path = args[1], args[2]
    package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
    package.cpath = root .. "/bin/?.so;" .. package.cpath
    local ok, err = pcall(function()
        local bt = require "bitttt"
        local Model = require "bitttt.model"
        local ffi = require "ffi"
        ffi.cdef [[
        typedef struct bt_model bt_model; typedef struct bt_session bt_session;
        const char *bt_last_error(void);
        int bt_model_load(bt_model **out, const char *path, const void *opts);
        void bt_model_free(bt_model *m);
        int bt_session_new(bt_session **out, bt_model *m, const void *opts);
        void bt_session_free(bt_session *s);
        int bt_session_feed(bt_session *s, const int32_t *ids, size_t n);
        const float *bt_session_logits(const bt_session *s);
        int bt_set_threads(int n);
        ]]
        local C = ffi.load(root .. "/bin/libbitttt.so")   -- the library core.so already loaded
        -- one runtime: the thread setting and the error buffer are shared
        assert(C.bt_set_threads(1) == 0 and bt.get_threads() == 1, "bt_set_threads not seen by the module")
        assert(not pcall(bt.model_open, "/nonexistent/love.gguf"))
        assert(ffi.string(C.bt_last_error()):find("/nonexistent/love.gguf", 1, true), "the module's error is not the library's")
        -- the C API (its own private Lua state) gives the logits the host's Lua gives
        local model = Model.load(path)
        local want = model:new_session { n_ctx = 16 }:forward({ 1, 72, 101 }, "last")
        local mb, sb = ffi.new("bt_model *[1]"), ffi.new("bt_session *[1]")
        assert(C.bt_model_load(mb, path, nil) == 0, ffi.string(C.bt_last_error()))
        assert(C.bt_session_new(sb, mb[0], nil) == 0, ffi.string(C.bt_last_error()))
        local ids = ffi.new("int32_t[3]", { 1, 72, 101 })
        assert(C.bt_session_feed(sb[0], ids, 3) == 0, ffi.string(C.bt_last_error()))
        local got = C.bt_session_logits(sb[0])
        for j = 0, model.cfg.n_vocab - 1 do
            assert(got[j] == want:ptr()[j], "logit " .. j .. " differs")
        end
        C.bt_session_free(sb[0])
        C.bt_model_free(mb[0])
    end)
    print(ok and "love host: ok" or ("love host: " .. tostring(err)))
    love.event.quit(ok and 0 or 1)
end
