/* model_file.h - one face over the model file formats: a GGUF file, a llama2.c
 * checkpoint, or a safetensors file/folder. It hands out the named weights as
 * runtime tensors that point into the mapped file (zero copy, read-only); the
 * file stays mapped while the model file or any of its tensors is alive.
 * Tensor names follow GGUF (llama.cpp) conventions where the format has its own
 * names mapped (llama2.c); safetensors keep their own names. Shapes are numpy
 * order (out, in). */
#ifndef BT_MODEL_FILE_H
#define BT_MODEL_FILE_H
#include <stdint.h>
#include "base/error.h"
#include "gguf.h"
#include "json.h"
#include "llama2c.h"
#include "safetensors.h"
#include "tensor.h"

typedef enum bt_model_format {
    BT_MODEL_GGUF,
    BT_MODEL_LLAMA2C,
    BT_MODEL_SAFETENSORS,
} bt_model_format;

typedef struct bt_model_file bt_model_file;

/* Detects the format: a folder or a *.safetensors file is safetensors (config.json
 * beside it is read when present); a file starting with the GGUF magic is GGUF;
 * anything else is read as a llama2.c checkpoint. Errors name the file. */
bt_status bt_model_file_open(bt_model_file **out, const char *path);
void bt_model_file_close(bt_model_file *mf);   /* drops the caller's reference; NULL is fine */

bt_model_format bt_model_file_format(const bt_model_file *mf);
const char *bt_model_file_path(const bt_model_file *mf);
const bt_gguf *bt_model_file_gguf(const bt_model_file *mf);        /* NULL unless GGUF */
const bt_llama2c *bt_model_file_llama2c(const bt_model_file *mf);  /* NULL unless llama2.c */
const bt_safetensors *bt_model_file_safetensors(const bt_model_file *mf);   /* NULL unless safetensors */
const bt_json *bt_model_file_config(const bt_model_file *mf);      /* config.json, or NULL */

int64_t bt_model_file_tensor_count(const bt_model_file *mf);
/* Name of tensor i (0-based, file order); NULL when out of range. Not NUL-safe to keep past close. */
const char *bt_model_file_tensor_name(const bt_model_file *mf, int64_t i, char *buf, size_t cap);
int bt_model_file_has_tensor(const bt_model_file *mf, const char *name);
/* A read-only tensor over the file's bytes; error naming file and tensor if absent. */
bt_status bt_model_file_tensor(bt_tensor **out, bt_model_file *mf, const char *name);

#endif
