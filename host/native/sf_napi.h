/* Shared helpers of the addon: argument reading and errors with stable codes. */
#ifndef SF_NAPI_H
#define SF_NAPI_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_MAX_ARGS 6

/* Throws (when nothing is pending yet) and returns NULL from the caller. */
#define SF_TRY(env, call)                                                   \
	do {                                                                \
		if ((call) != napi_ok) {                                    \
			sf_throw_pending(env, "internal Node-API failure"); \
			return NULL;                                        \
		}                                                           \
	} while (0)

void sf_throw_pending(napi_env env, const char *what);
/* Throws a JS Error with .code, .errno and .hint; returns NULL for `return`. */
napi_value sf_throw(napi_env env, const char *code, int err, const char *hint, const char *fmt, ...);
/* Maps a negative libbpf / errno error to a code and a message saying what to do. */
napi_value sf_throw_errno(napi_env env, int err, const char *what);

bool sf_arg_i32(napi_env env, napi_value v, const char *name, int32_t *out);
/* For functions whose only argument is a file descriptor; throws and returns false when it is missing or not a number. */
bool sf_fd_arg(napi_env env, napi_callback_info info, int32_t *fd);
bool sf_arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out);
bool sf_arg_bool(napi_env env, napi_value v, bool *out);
/* Copies a string argument into buf (NUL-terminated); false + thrown error when too long. */
bool sf_arg_str(napi_env env, napi_value v, const char *name, char *buf, size_t cap);
bool sf_arg_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len);
bool sf_arg_u32_array(napi_env env, napi_value v, const char *name, uint32_t **data, size_t *len);
/* sf_arg_str of obj[key]; an optional one that is null or undefined reads as "". */
bool sf_prop_str(napi_env env, napi_value obj, const char *key, char *buf, size_t cap, bool optional);
bool sf_is_nullish(napi_env env, napi_value v);
/* The data of external v when it starts with the uint32_t magic, so that one
 * kind of handle passed for another is refused; else NULL with `what` thrown. */
void *sf_external(napi_env env, napi_value v, uint32_t magic, const char *what);
/* bpf_obj_get_info_by_fd into a zeroed info of size bytes; false with an error
 * about `what` thrown. */
bool sf_obj_info(napi_env env, int fd, void *info, uint32_t size, const char *what);

napi_value sf_u32(napi_env env, uint32_t v);
napi_value sf_f64(napi_env env, double v);
napi_value sf_str(napi_env env, const char *s);
napi_value sf_bool(napi_env env, bool v);
napi_value sf_undefined(napi_env env);
void sf_set(napi_env env, napi_value obj, const char *key, napi_value v);

/*
 * The arguments of a per-batch call (handle, buf, descs, count): frame i is
 * descs[2i + 1] bytes at offset descs[2i] of buf.
 */
struct sf_batch {
	uint8_t *buf;
	size_t buf_len;
	uint32_t *descs;
	size_t descs_len;
	uint32_t count;
};
/* Reads them, the handle through get (which throws for a bad one) before the
 * buffers; returns what get returned, NULL with an error thrown. Callers copy
 * the fields a per-frame loop reads into locals: b's address has escaped, so
 * its fields would be reloaded after every memcpy. */
void *sf_batch_args(napi_env env, napi_callback_info info, const char *usage, void *(*get)(napi_env env, napi_value v),
		    const char *buf_name, const char *count_name, struct sf_batch *b);

/* Registration of each group of functions. */
void sf_register_object(napi_env env, napi_value exports);
void sf_register_xdp(napi_env env, napi_value exports);
void sf_register_maps(napi_env env, napi_value exports);
void sf_register_xsk(napi_env env, napi_value exports);
void sf_register_tap(napi_env env, napi_value exports);
void sf_register_sched(napi_env env, napi_value exports);

/* Enters the network namespace at path (no-op for NULL/""); *saved is the
 * namespace to return to with sf_netns_leave. False with an error thrown when
 * it cannot. */
bool sf_netns_enter(napi_env env, const char *path, int *saved);
void sf_netns_leave(int saved);

/* Cached key/value byte counts per fd (value bytes include per-CPU strides). */
struct sf_map_shape {
	uint32_t key_size;
	uint32_t value_bytes;
	uint32_t value_size;
	uint32_t type;
};
bool sf_map_shape(napi_env env, int fd, struct sf_map_shape *out);
void sf_forget_fd(int fd);

void sf_export(napi_env env, napi_value exports, const char *name, napi_callback fn);

#endif
