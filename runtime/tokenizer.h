/* tokenizer.h - text <-> token ids for the vocabularies bitttt runs.
 *
 * Two algorithms, chosen by the vocabulary:
 *   - SentencePiece-style BPE with scores (GGUF tokenizer.ggml.model "llama",
 *     llama2.c tokenizer.bin): a space is put in front of non-empty text,
 *     adjacent pieces merge highest score first, and bytes that form no token
 *     become <0xXX> byte tokens. GGUF vocabularies spell spaces U+2581 ("▁"),
 *     llama2.c's tokenizer.bin spells them ' '.
 *   - Byte-level BPE with merges (GGUF "gpt2": GPT-2, Llama 3): a regex splits
 *     the text into words (the pre-tokenizer named by tokenizer.ggml.pre), each
 *     byte becomes a printable character (GPT-2's byte-to-unicode table), and
 *     adjacent pieces merge lowest merge rank first.
 * Both reproduce llama.cpp's tokenizers id for id on valid UTF-8; bytes that
 * are not valid UTF-8 are encoded one by one, so every text round-trips.
 *
 *   bt_tokenizer *tok;
 *   if (bt_tokenizer_open(&tok, "model.gguf", 0) != BT_OK) puts(bt_last_error());
 *   bt_token_ids ids = {0};
 *   bt_tokenizer_encode(tok, &ids, "Hello", 5, BT_ENCODE_BOS);   // ids.ids[0 .. ids.n)
 *   bt_text text = {0};
 *   bt_tokenizer_decode(tok, &text, ids.ids, ids.n, 0);          // text.bytes[0 .. text.len)
 *   bt_token_ids_free(&ids); bt_text_free(&text); bt_tokenizer_free(tok);
 *
 * Output buffers (bt_token_ids, bt_text) are caller-owned and grow as needed:
 * start them zeroed, reuse them across calls, free them with *_free. Every
 * call that writes one replaces its contents.
 *
 * A tokenizer is immutable once opened: encode/decode may run on several
 * threads at once (a bt_token_stream belongs to one thread).
 */
#ifndef BT_TOKENIZER_H
#define BT_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "gguf.h"

typedef struct bt_tokenizer bt_tokenizer;

/* Token types, numbered as GGUF's tokenizer.ggml.token_type. */
typedef enum bt_token_type {
    BT_TOKEN_UNDEFINED = 0,
    BT_TOKEN_NORMAL = 1,
    BT_TOKEN_UNKNOWN = 2,
    BT_TOKEN_CONTROL = 3,        /* <s>, </s>, <|begin_of_text|> ... */
    BT_TOKEN_USER_DEFINED = 4,
    BT_TOKEN_UNUSED = 5,
    BT_TOKEN_BYTE = 6            /* <0xXX> (SentencePiece byte fallback) */
} bt_token_type;

typedef enum bt_tokenizer_kind {
    BT_TOKENIZER_SPM,            /* SentencePiece-style BPE with scores */
    BT_TOKENIZER_BPE             /* byte-level BPE with merges */
} bt_tokenizer_kind;

/* ------------------------------------------------------------ opening */

/* A GGUF file (by its "GGUF" magic) or else a llama2.c tokenizer.bin holding
 * `vocab_size` tokens (0: as many as the file holds). */
bt_status bt_tokenizer_open(bt_tokenizer **out, const char *path, int32_t vocab_size);

/* The tokenizer.ggml.* keys of a GGUF file: model ("llama" or "gpt2"), tokens,
 * scores (required for "llama"), token_type, merges (required for "gpt2"), pre,
 * bos/eos/unknown_token_id, add_bos_token, add_eos_token, add_space_prefix.
 * Each is checked (type, one entry per token, ids in range, types 0..6,
 * merges "left right"); errors name the file and the key.
 * tokenizer.ggml.pre picks the byte-level BPE pre-tokenizer: "gpt2"/"gpt-2",
 * "llama-bpe"/"llama3"/"llama-v3"; "default" or absent falls back to GPT-2's;
 * other names are an error (BT_ERR_UNSUPPORTED). add_bos defaults to true for
 * "llama" and for the Llama 3 pre-tokenizer (as llama.cpp), else false;
 * add_eos to false. The tokenizer copies what it keeps: the GGUF may close. */
bt_status bt_tokenizer_open_gguf(bt_tokenizer **out, const char *path);
bt_status bt_tokenizer_from_gguf(bt_tokenizer **out, const bt_gguf *gguf);

/* llama2.c's tokenizer.bin: int32 max_token_length, then per token float32
 * score, int32 byte length, bytes. Ids 0/1/2 are unk/bos/eos; vocab_size 0
 * reads every token in the file, otherwise the file must hold exactly that many. */
bt_status bt_tokenizer_open_llama2c(bt_tokenizer **out, const char *path, int32_t vocab_size);

void bt_tokenizer_free(bt_tokenizer *tok);   /* NULL is fine */

/* ------------------------------------------------------------ vocabulary */

bt_tokenizer_kind bt_tokenizer_kind_of(const bt_tokenizer *tok);
int32_t bt_tokenizer_vocab_size(const bt_tokenizer *tok);
int32_t bt_tokenizer_bos(const bt_tokenizer *tok);   /* -1 when the vocabulary has none */
int32_t bt_tokenizer_eos(const bt_tokenizer *tok);   /* -1 when none */
int bt_tokenizer_add_bos(const bt_tokenizer *tok);   /* the vocabulary wants BOS in front of a prompt */
int bt_tokenizer_add_eos(const bt_tokenizer *tok);
/* Out-of-range ids give BT_TOKEN_UNDEFINED, score 0 and empty strings (len 0). */
bt_token_type bt_tokenizer_token_type(const bt_tokenizer *tok, int32_t id);
float bt_tokenizer_token_score(const bt_tokenizer *tok, int32_t id);   /* SentencePiece merge score (0 when the file has none) */
/* The token as the vocabulary spells it ("▁Hello", "ĠHello", "<0x0A>"). */
const char *bt_tokenizer_token_text(const bt_tokenizer *tok, int32_t id, size_t *len);
/* The bytes the token stands for (" Hello", "\n"); control and unknown tokens
 * give their text ("<s>"), unused tokens nothing. Not NUL-terminated. */
const char *bt_tokenizer_piece(const bt_tokenizer *tok, int32_t id, size_t *len);

/* ------------------------------------------------------------ buffers */

typedef struct bt_token_ids {
    int32_t *ids;   /* [n] */
    size_t n, cap;
} bt_token_ids;

typedef struct bt_text {
    char *bytes;    /* [len], not NUL-terminated */
    size_t len, cap;
} bt_text;

void bt_token_ids_free(bt_token_ids *ids);
void bt_text_free(bt_text *text);

/* ------------------------------------------------------------ encode / decode */

enum {
    BT_ENCODE_BOS = 1,       /* put the BOS token first (see bt_tokenizer_add_bos) */
    BT_ENCODE_EOS = 2,       /* put the EOS token last */
    BT_ENCODE_SPECIAL = 4    /* text spelling a control, user-defined or unknown token
                                ("<|eot_id|>") becomes that token; otherwise it is plain text */
};

/* The ids of text[0 .. len) (any bytes; invalid UTF-8 is encoded byte by byte). */
bt_status bt_tokenizer_encode(const bt_tokenizer *tok, bt_token_ids *out,
                              const char *text, size_t len, unsigned flags);

/* The text of a whole sequence: pieces concatenated; control and unknown tokens
 * are left out unless render_special. For SentencePiece vocabularies the space
 * that encoding put in front of the text is removed again, so
 * decode(encode(s)) == s. Ids out of range are an error (BT_ERR_ARG). */
bt_status bt_tokenizer_decode(const bt_tokenizer *tok, bt_text *out,
                              const int32_t *ids /* [n] */, size_t n, int render_special);

/* ------------------------------------------------------------ streaming decode */

/* Turns generated tokens into text one at a time, holding back the bytes of a
 * UTF-8 character that is not complete yet (a character split over byte
 * tokens). A piece right after BOS loses its leading space (llama2.c's rule),
 * so pushing BOS and a prompt prints the prompt as written. Plain struct:
 * nothing to free. */
typedef struct bt_token_stream {
    const bt_tokenizer *tok;
    int render_special;
    int after_bos;
    size_t n_pending;
    char pending[4];   /* start of an incomplete UTF-8 character */
} bt_token_stream;

void bt_token_stream_init(bt_token_stream *s, const bt_tokenizer *tok, int render_special);
/* `out` receives the text completed by token `id` (possibly empty). */
bt_status bt_token_stream_push(bt_token_stream *s, bt_text *out, int32_t id);
/* `out` receives the held-back bytes, complete or not; the stream starts over. */
bt_status bt_token_stream_flush(bt_token_stream *s, bt_text *out);

#endif
