"""test_bitttt.py - unittest of python/bitttt.py on the stories260K reference
checkpoint (spec/data, or $BITTTT_DATA).
Run: python3 python/test_bitttt.py (spec/python_spec.lua runs it)."""
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitttt  # noqa: E402

DATA = os.environ.get("BITTTT_DATA") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "spec", "data")
MODEL = os.path.join(DATA, "models", "stories260K.bin")
TOKENIZER = os.path.join(DATA, "models", "tok512.bin")
REFERENCE = os.path.join(DATA, "reference", "stories260K_t0_n200.txt")
SEED = int(os.environ.get("BITTTT_TEST_SEED") or random.randrange(1 << 30))


class BitttTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = bitttt.Model(MODEL, tokenizer=TOKENIZER)

    def test_info(self):
        info = self.model.info
        self.assertEqual((info["architecture"], info["n_vocab"], info["n_layer"]), ("llama", 512, 5))
        self.assertEqual(info["mixers"], ["attention"] * 5)
        self.assertEqual(self.model.meta("llama.embedding_length"), "64")

    def test_greedy_generation_matches_llama2c(self):
        with open(REFERENCE, encoding="utf-8") as f:
            ref = f.read()
        text = self.model.generate("", n=120, temp=0)
        self.assertGreater(len(text), 100)
        self.assertTrue(ref.startswith(text), text)

    def test_seeded_sampling_repeats(self):
        a = self.model.generate("Once upon a time", n=30, temp=1.0, top_k=20, seed=SEED)
        b = self.model.generate("Once upon a time", n=30, temp=1.0, top_k=20, seed=SEED)
        self.assertEqual(a, b, "seed %d" % SEED)
        with self.assertRaises(bitttt.Error):
            self.model.generate("x", n=1, top_p=0)

    def test_generate_streams_what_it_returns_and_stops_on_false(self):
        pieces = []
        text = self.model.generate("Once upon a time", n=40, seed=SEED, on_text=pieces.append)
        self.assertEqual(text, "".join(pieces))
        self.assertFalse(text.startswith("Once upon a time"))   # the continuation only
        seen = []
        self.model.generate("Once upon a time", n=40, temp=0, on_text=lambda p: seen.append(p) or len(seen) < 3)
        self.assertEqual(len(seen), 3)

    def test_tokenize_round_trip(self):
        text = "The cat sat on the mat."
        ids = self.model.tokenize(text)
        self.assertEqual(ids[0], self.model.info["bos"])
        self.assertEqual(self.model.detokenize(ids), text)

    def test_logits_batch_equals_token_by_token(self):
        rng = random.Random(SEED)
        ids = [1] + [rng.randrange(512) for _ in range(10)]
        rows = self.model.session(n_ctx=32).feed_all(ids)
        s = self.model.session(n_ctx=32)
        for i, t in enumerate(ids):
            s.feed([t])
            worst = max(abs(a - b) for a, b in zip(s.logits(), rows[i]))
            self.assertLess(worst, 1e-4, "row %d (seed %d)" % (i, SEED))

    def test_state_snapshot_and_files(self):
        s = self.model.session(n_ctx=48)
        s.feed([1, 403, 407, 261])
        snap = s.snapshot()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "state.safetensors")
            s.save_state(path)
            s.feed([42])
            want = s.logits()
            s.restore(snap)
            self.assertEqual(s.position, 4)
            s.feed([42])
            self.assertEqual(s.logits(), want)
            t = self.model.session(n_ctx=48)
            t.load_state(path)
            t.feed([42])
            self.assertEqual(t.logits(), want)
            other = self.model.session(n_ctx=47)
            with self.assertRaisesRegex(bitttt.Error, "context"):
                other.load_state(path)
        s.reset()
        self.assertEqual((s.position, s.logits()), (0, None))

    def test_step_budget_matches_step(self):
        a, b = self.model.session(n_ctx=64), self.model.session(n_ctx=64)
        for s in (a, b):
            s.feed([1])
            s.set_sampling(temp=0.9, seed=SEED)
        want = [a.step() for _ in range(20)]
        got = []
        while len(got) < 20:
            t = b.step_budget(0.01)
            if t is not None:
                got.append(t)
        self.assertEqual(got, want)

    def test_errors(self):
        with self.assertRaisesRegex(bitttt.Error, "nonexistent"):
            bitttt.Model("/nonexistent/model.gguf")
        s = self.model.session(n_ctx=2)
        with self.assertRaisesRegex(bitttt.Error, "context"):
            s.feed([1, 2, 3])


class RecommendedSamplingTest(unittest.TestCase):
    """The bundled model (in the repository) recommends a repetition penalty."""

    def test_model_recommendation_under_given_options(self):
        model = bitttt.Model(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "default.gguf"))
        s = bitttt._sampling(model)
        self.assertGreater(s.repeat_penalty, 1.2)
        self.assertEqual(s.top_k, 40)
        s = bitttt._sampling(model, repeat_penalty=1.0, top_k=7)
        self.assertEqual((s.repeat_penalty, s.top_k), (1.0, 7))


if __name__ == "__main__":
    unittest.main(verbosity=2)
