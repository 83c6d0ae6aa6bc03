"""bitttt.py - a thin ctypes wrapper over libbitttt's C API (runtime/bitttt.h).

Standard library only; no compiled extension. The library is found through
$BITTTT_LIB, else ../bin/libbitttt.so next to this file, else the system's
libbitttt (pkg-config / ldconfig).

    import bitttt
    model = bitttt.Model("models/default.gguf")
    print(model.generate("Once upon a time", n=64))      # the model's recommended sampling
    model.generate("Once", n=64, on_text=lambda piece: print(piece, end="", flush=True), seed=42)

    s = model.session(n_ctx=256)
    s.feed(model.tokenize("Hello"))
    scores = s.logits()                 # list of n_vocab floats
    snap = s.snapshot(); s.step(); s.restore(snap)
    s.save_state("state.safetensors")   # the format the Lua side reads

Errors raise bitttt.Error with the library's message.
"""
import ctypes
import ctypes.util
import os

__all__ = ["Error", "Model", "Session", "Snapshot", "load_library"]


class Error(RuntimeError):
    """A failed C API call: the message says what went wrong."""


class _ModelOptions(ctypes.Structure):
    _fields_ = [("tokenizer_path", ctypes.c_char_p), ("max_batch", ctypes.c_int), ("float_activations", ctypes.c_int),
                ("n_gpu_layers", ctypes.c_int), ("n_ctx", ctypes.c_int), ("device", ctypes.c_char_p)]


class _SessionOptions(ctypes.Structure):
    _fields_ = [("n_ctx", ctypes.c_int)]


class _Sampling(ctypes.Structure):
    _fields_ = [("temp", ctypes.c_double), ("top_k", ctypes.c_int), ("top_p", ctypes.c_double),
                ("min_p", ctypes.c_double), ("repeat_penalty", ctypes.c_double), ("repeat_last_n", ctypes.c_int),
                ("frequency_penalty", ctypes.c_double), ("presence_penalty", ctypes.c_double),
                ("seed", ctypes.c_uint64)]


class _ModelInfo(ctypes.Structure):
    _fields_ = [("architecture", ctypes.c_char_p), ("format", ctypes.c_char_p), ("n_vocab", ctypes.c_int),
                ("n_embd", ctypes.c_int), ("n_layer", ctypes.c_int), ("n_ff", ctypes.c_int),
                ("n_ctx_train", ctypes.c_int), ("has_tokenizer", ctypes.c_int), ("bos", ctypes.c_int32),
                ("eos", ctypes.c_int32), ("add_bos", ctypes.c_int), ("fingerprint", ctypes.c_char * 17),
                ("n_gpu_layers", ctypes.c_int)]


_P = ctypes.c_void_p
_SIZE = ctypes.c_size_t
_I32P = ctypes.POINTER(ctypes.c_int32)
_SIGNATURES = {
    "bt_last_error": (ctypes.c_char_p, []),
    "bt_api_version": (ctypes.c_int, []),
    "bt_set_threads": (ctypes.c_int, [ctypes.c_int]),
    "bt_model_load": (ctypes.c_int, [ctypes.POINTER(_P), ctypes.c_char_p, ctypes.POINTER(_ModelOptions)]),
    "bt_model_free": (None, [_P]),
    "bt_model_get_info": (ctypes.c_int, [_P, ctypes.POINTER(_ModelInfo)]),
    "bt_model_layer_mixer": (ctypes.c_char_p, [_P, ctypes.c_int]),
    "bt_model_meta": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_char_p, _SIZE, ctypes.POINTER(_SIZE)]),
    "bt_token_is_end": (ctypes.c_int, [_P, ctypes.c_int32]),
    "bt_tokenize": (ctypes.c_int, [_P, ctypes.c_char_p, _SIZE, ctypes.c_uint, _I32P, _SIZE, ctypes.POINTER(_SIZE)]),
    "bt_detokenize": (ctypes.c_int, [_P, _I32P, _SIZE, ctypes.c_char_p, _SIZE, ctypes.POINTER(_SIZE)]),
    "bt_text_stream_new": (ctypes.c_int, [ctypes.POINTER(_P), _P]),
    "bt_text_stream_push": (ctypes.c_int, [_P, ctypes.c_int32, ctypes.c_char_p, _SIZE, ctypes.POINTER(_SIZE)]),
    "bt_text_stream_flush": (ctypes.c_int, [_P, ctypes.c_char_p, _SIZE, ctypes.POINTER(_SIZE)]),
    "bt_text_stream_free": (None, [_P]),
    "bt_session_new": (ctypes.c_int, [ctypes.POINTER(_P), _P, ctypes.POINTER(_SessionOptions)]),
    "bt_session_free": (None, [_P]),
    "bt_session_position": (ctypes.c_int, [_P]),
    "bt_session_context": (ctypes.c_int, [_P]),
    "bt_session_feed": (ctypes.c_int, [_P, _I32P, _SIZE]),
    "bt_session_feed_all": (ctypes.c_int, [_P, _I32P, _SIZE, ctypes.POINTER(ctypes.c_float)]),
    "bt_session_logits": (ctypes.POINTER(ctypes.c_float), [_P]),
    "bt_sampling_defaults": (_Sampling, []),
    "bt_model_sampling": (ctypes.c_int, [_P, ctypes.POINTER(_Sampling)]),
    "bt_session_set_sampling": (ctypes.c_int, [_P, ctypes.POINTER(_Sampling)]),
    "bt_session_step": (ctypes.c_int, [_P, _I32P]),
    "bt_session_step_budget": (ctypes.c_int, [_P, ctypes.c_double, _I32P]),
    "bt_session_set_ttt_lr": (ctypes.c_int, [_P, ctypes.c_double]),
    "bt_session_reset": (ctypes.c_int, [_P]),
    "bt_session_snapshot": (ctypes.c_int, [_P, ctypes.POINTER(_P)]),
    "bt_session_restore": (ctypes.c_int, [_P, _P]),
    "bt_snapshot_free": (None, [_P]),
    "bt_session_save_state": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "bt_session_load_state": (ctypes.c_int, [_P, ctypes.c_char_p]),
}

_lib = None


def load_library(path=None):
    """Loads libbitttt (once) and declares the C API's signatures."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [path, os.environ.get("BITTTT_LIB"), os.path.join(here, "..", "bin", "libbitttt.so"),
                  ctypes.util.find_library("bitttt")]
    for c in candidates:
        if c and (os.path.exists(c) or c == candidates[-1]):
            lib = ctypes.CDLL(c)
            break
    else:
        raise Error("libbitttt not found: set BITTTT_LIB or build the project (bin/libbitttt.so)")
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    _lib = lib
    return lib


def _check(status):
    if status != 0:
        raise Error(_lib.bt_last_error().decode("utf-8", "replace"))


def _ids(ids):
    ids = list(ids)
    return (ctypes.c_int32 * max(1, len(ids)))(*ids), len(ids)


def _sampling(model, **opts):
    """The model's recommended sampling (its general.sampling.* metadata, else the defaults)
    with opts over it."""
    s = _Sampling()
    _check(_lib.bt_model_sampling(model._h, ctypes.byref(s)))
    for k, v in opts.items():
        if k not in dict(_Sampling._fields_):
            raise Error("sampling: unknown option '%s'" % k)
        setattr(s, k, v if v is not None else getattr(s, k))
    return s


class Model:
    """A loaded model (read-only; sessions share it). tokenizer: a tokenizer file
    for formats without a vocabulary (llama2.c's tokenizer.bin)."""

    def __init__(self, path, tokenizer=None, max_batch=0, float_activations=False, threads=None, n_gpu_layers=0):
        self._h = None
        lib = load_library()
        if threads is not None:
            _check(lib.bt_set_threads(int(threads)))
        gpu = -1 if n_gpu_layers == "auto" else int(n_gpu_layers)   # -1: BT_GPU_LAYERS_AUTO
        opts = _ModelOptions(tokenizer.encode() if tokenizer else None, int(max_batch), int(bool(float_activations)), gpu)
        handle = _P()
        _check(lib.bt_model_load(ctypes.byref(handle), os.fsencode(path), ctypes.byref(opts)))
        self._h = handle
        info = _ModelInfo()
        _check(lib.bt_model_get_info(handle, ctypes.byref(info)))
        self.info = {f: getattr(info, f) for f, _ in _ModelInfo._fields_}
        for k in ("architecture", "format", "fingerprint"):
            self.info[k] = self.info[k].decode()
        self.info["mixers"] = [lib.bt_model_layer_mixer(handle, i).decode() for i in range(info.n_layer)]

    def close(self):
        if getattr(self, "_h", None):
            _lib.bt_model_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def meta(self, key):
        """A metadata value as text (GGUF / config.json keys)."""
        buf, n = ctypes.create_string_buffer(4096), _SIZE()
        _check(_lib.bt_model_meta(self._h, key.encode(), buf, 4096, ctypes.byref(n)))
        return buf.value.decode("utf-8", "replace")

    def tokenize(self, text, bos=None, eos=False, special=False):
        """Token ids of text; bos None: as the vocabulary wants."""
        data = text.encode("utf-8")
        flags = (1 if (self.info["add_bos"] if bos is None else bos) else 0) | (2 if eos else 0) | (4 if special else 0)
        n = _SIZE()
        cap = len(data) + 8
        while True:
            buf = (ctypes.c_int32 * cap)()
            status = _lib.bt_tokenize(self._h, data, len(data), flags, buf, cap, ctypes.byref(n))
            if status == 0:
                return list(buf[: n.value])
            if n.value <= cap:
                _check(status)
            cap = n.value

    def detokenize(self, ids):
        arr, n = _ids(ids)
        need = _SIZE()
        cap = 16 * n + 16
        while True:
            buf = ctypes.create_string_buffer(cap)
            _check(_lib.bt_detokenize(self._h, arr, n, buf, cap, ctypes.byref(need)))
            if need.value < cap:
                return buf.raw[: need.value].decode("utf-8", "replace")
            cap = need.value + 1

    def is_end(self, token):
        return bool(_lib.bt_token_is_end(self._h, token))

    def session(self, n_ctx=0):
        return Session(self, n_ctx)

    def generate(self, prompt, n=64, n_ctx=0, on_text=None, **sampling):
        """The text that continues prompt (without the prompt), as model:generate in Lua:
        at most n tokens (-1: until an end token or a full context), stopping at an end
        token; sampled as the model file recommends (general.sampling.*) unless sampling
        options (temp, top_k, ..., seed) say otherwise. on_text(piece) receives the text as
        it comes; returning False stops."""
        s = self.session(n_ctx)
        s.feed(self.tokenize(prompt) or [self.info["bos"]])
        s.set_sampling(**sampling)
        stream = _TextStream(self)
        pieces = []
        strip = not prompt   # after BOS alone, the first piece's leading space is the tokenizer's
        count = 0
        while (n < 0 or count < n) and s.position < s.context:
            t = s.step()
            count += 1
            if self.is_end(t):
                break
            piece = stream.push(t)
            if strip and piece:
                piece, strip = piece[1:] if piece.startswith(" ") else piece, False
            if piece:
                pieces.append(piece)
                if on_text is not None and on_text(piece) is False:
                    return "".join(pieces)
        rest = stream.flush()
        if rest:
            pieces.append(rest)
            if on_text is not None:
                on_text(rest)
        return "".join(pieces)


class _TextStream:
    """Token ids to text as they come (whole UTF-8 characters): bt_text_stream."""

    def __init__(self, model):
        self.model = model   # keeps the model alive
        handle = _P()
        _check(_lib.bt_text_stream_new(ctypes.byref(handle), model._h))
        self._h = handle

    def __del__(self):
        if getattr(self, "_h", None):
            _lib.bt_text_stream_free(self._h)
            self._h = None

    def _call(self, fn, *args):
        # one token's text is far below the buffer; a retry would push the token twice
        cap, n = 1 << 16, _SIZE()
        buf = ctypes.create_string_buffer(cap)
        _check(fn(self._h, *args, buf, cap, ctypes.byref(n)))
        return buf.raw[: n.value].decode("utf-8", "replace")

    def push(self, token):
        return self._call(_lib.bt_text_stream_push, token)

    def flush(self):
        return self._call(_lib.bt_text_stream_flush)


class Snapshot:
    """An in-memory copy of a session's state (Session.snapshot)."""

    def __init__(self, handle):
        self._h = handle

    def __del__(self):
        if self._h:
            _lib.bt_snapshot_free(self._h)
            self._h = None


class Session:
    """An inference session: its own KV cache / TTT state on a shared model."""

    def __init__(self, model, n_ctx=0):
        self.model = model   # keeps the model alive
        handle = _P()
        _check(_lib.bt_session_new(ctypes.byref(handle), model._h, ctypes.byref(_SessionOptions(int(n_ctx)))))
        self._h = handle

    def __del__(self):
        if getattr(self, "_h", None):
            _lib.bt_session_free(self._h)
            self._h = None

    @property
    def position(self):
        return _lib.bt_session_position(self._h)

    @property
    def context(self):
        return _lib.bt_session_context(self._h)

    def feed(self, ids):
        """Runs the model over ids; logits() then gives the last token's."""
        arr, n = _ids(ids)
        _check(_lib.bt_session_feed(self._h, arr, n))

    def feed_all(self, ids):
        """Like feed; returns every token's logits (a list of lists)."""
        arr, n = _ids(ids)
        v = self.model.info["n_vocab"]
        out = (ctypes.c_float * (n * v))()
        _check(_lib.bt_session_feed_all(self._h, arr, n, out))
        return [list(out[i * v:(i + 1) * v]) for i in range(n)]

    def logits(self):
        """The last fed token's logits (a list of n_vocab floats), or None."""
        p = _lib.bt_session_logits(self._h)
        return list(p[: self.model.info["n_vocab"]]) if p else None

    def set_sampling(self, **opts):
        """temp, top_k, top_p, min_p, repeat_penalty, repeat_last_n, frequency_penalty,
        presence_penalty, seed (sampling.lua's options); those not given: what the model
        recommends (general.sampling.*), else sampling.lua's defaults."""
        s = _sampling(self.model, **opts)
        _check(_lib.bt_session_set_sampling(self._h, ctypes.byref(s)))

    def step(self):
        """Samples the next token, feeds it, returns its id."""
        t = ctypes.c_int32()
        _check(_lib.bt_session_step(self._h, ctypes.byref(t)))
        return t.value

    def step_budget(self, budget_ms):
        """About budget_ms of work; the token sampled in this call, or None."""
        t = ctypes.c_int32()
        _check(_lib.bt_session_step_budget(self._h, float(budget_ms), ctypes.byref(t)))
        return t.value if t.value >= 0 else None

    def set_ttt_lr(self, lr=None):
        _check(_lib.bt_session_set_ttt_lr(self._h, -1.0 if lr is None else float(lr)))

    def reset(self):
        _check(_lib.bt_session_reset(self._h))

    def snapshot(self):
        h = _P()
        _check(_lib.bt_session_snapshot(self._h, ctypes.byref(h)))
        return Snapshot(h)

    def restore(self, snap):
        _check(_lib.bt_session_restore(self._h, snap._h))

    def save_state(self, path):
        _check(_lib.bt_session_save_state(self._h, os.fsencode(path)))

    def load_state(self, path):
        _check(_lib.bt_session_load_state(self._h, os.fsencode(path)))
