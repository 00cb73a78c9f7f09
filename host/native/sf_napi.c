/* Argument reading and error objects shared by every addon function. */
#include "sf_napi.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sf_throw_pending(napi_env env, const char *what)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_error(env, "E_KERNEL", what);
}

napi_value sf_throw(napi_env env, const char *code, int err, const char *hint, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	napi_value jcode, jmsg, error;
	napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg);
	napi_create_error(env, jcode, jmsg, &error);
	if (err)
		sf_set(env, error, "errno", sf_u32(env, (uint32_t)err));
	if (hint)
		sf_set(env, error, "hint", sf_str(env, hint));
	napi_throw(env, error);
	return NULL;
}

napi_value sf_throw_errno(napi_env env, int err, const char *what)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EPERM:
	case EACCES:
		return sf_throw(env, "E_NO_ROOT", err, "run as root (secuxflow needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)",
				"%s: permission denied", what);
	case ENODEV:
		return sf_throw(env, "E_NO_IFACE", err, "check the name with `ip link`", "%s: no such network interface", what);
	case E2BIG:
	case ENOSPC:
		return sf_throw(env, "E_MAP_FULL", err, "remove entries or use fewer rules", "%s: the kernel map is full", what);
	default:
		return sf_throw(env, "E_KERNEL", err, NULL, "%s: %s (errno %d)", what, strerror(err), err);
	}
}

/*
 * A numeric argument as a whole number in [lo, hi]. Node-API's int32 and
 * uint32 readers wrap (2^32 + 5 reads as 5, -1 as 4294967295) and read NaN
 * and Infinity as 0: an fd or a count so read names something else.
 */
static bool whole_number(napi_env env, napi_value v, const char *name, double lo, double hi, double *out)
{
	if (napi_get_value_double(env, v, out) != napi_ok) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument %s must be a number", name);
		return false;
	}
	if (!(*out >= lo && *out <= hi) || *out != (double)(int64_t)*out) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument %s must be a whole number in %.0f..%.0f, got %g", name, lo, hi, *out);
		return false;
	}
	return true;
}

bool sf_arg_i32(napi_env env, napi_value v, const char *name, int32_t *out)
{
	double d;
	if (!whole_number(env, v, name, -2147483648.0, 2147483647.0, &d))
		return false;
	*out = (int32_t)d;
	return true;
}

bool sf_fd_arg(napi_env env, napi_callback_info info, int32_t *fd)
{
	size_t argc = 1;
	napi_value argv[1];
	/* A missing argument arrives as undefined, which sf_arg_i32 reports. */
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
		sf_throw(env, "E_KERNEL", 0, NULL, "cannot read the arguments");
		return false;
	}
	return sf_arg_i32(env, argv[0], "fd", fd);
}

bool sf_arg_u32(napi_env env, napi_value v, const char *name, uint32_t *out)
{
	double d;
	if (!whole_number(env, v, name, 0.0, 4294967295.0, &d))
		return false;
	*out = (uint32_t)d;
	return true;
}

bool sf_arg_bool(napi_env env, napi_value v, bool *out)
{
	if (napi_get_value_bool(env, v, out) != napi_ok)
		*out = false;
	return true;
}

bool sf_arg_str(napi_env env, napi_value v, const char *name, char *buf, size_t cap)
{
	size_t len = 0;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument %s must be a string", name);
		return false;
	}
	if (len + 1 > cap) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument %s is longer than %zu bytes", name, cap - 1);
		return false;
	}
	napi_get_value_string_utf8(env, v, buf, cap, &len);
	/* C would read only up to an embedded NUL: "lo\0junk" would name lo. */
	if (strlen(buf) != len) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument %s contains a NUL character", name);
		return false;
	}
	return true;
}

bool sf_prop_str(napi_env env, napi_value obj, const char *key, char *buf, size_t cap, bool optional)
{
	napi_value v;
	if (napi_get_named_property(env, obj, key, &v) != napi_ok) {
		sf_throw_pending(env, "internal Node-API failure");
		return false;
	}
	if (optional && sf_is_nullish(env, v)) {
		buf[0] = 0;
		return true;
	}
	return sf_arg_str(env, v, key, buf, cap);
}

static bool typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len)
{
	bool is_ta = false;
	napi_typedarray_type type;
	napi_value ab;
	size_t off;
	return napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
	       napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) == napi_ok && type == want;
}

bool sf_arg_bytes(napi_env env, napi_value v, const char *name, void **data, size_t *len)
{
	if (!typed_array(env, v, napi_uint8_array, data, len)) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument %s must be a Uint8Array", name);
		return false;
	}
	return true;
}

bool sf_arg_u32_array(napi_env env, napi_value v, const char *name, uint32_t **data, size_t *len)
{
	void *p;
	if (!typed_array(env, v, napi_uint32_array, &p, len)) {
		sf_throw(env, "E_USAGE", 0, NULL, "argument %s must be a Uint32Array", name);
		return false;
	}
	*data = p;
	return true;
}

void *sf_batch_args(napi_env env, napi_callback_info info, const char *usage, void *(*get)(napi_env env, napi_value v),
		    const char *buf_name, const char *count_name, struct sf_batch *b)
{
	size_t argc = 4;
	napi_value argv[4];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 4)
		return sf_throw(env, "E_USAGE", 0, NULL, "%s", usage);
	void *handle = get(env, argv[0]);
	if (!handle || !sf_arg_bytes(env, argv[1], buf_name, (void **)&b->buf, &b->buf_len) ||
	    !sf_arg_u32_array(env, argv[2], "descs", &b->descs, &b->descs_len) || !sf_arg_u32(env, argv[3], count_name, &b->count))
		return NULL;
	return handle;
}

bool sf_is_nullish(napi_env env, napi_value v)
{
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok)
		return true;
	return t == napi_null || t == napi_undefined;
}

void *sf_external(napi_env env, napi_value v, uint32_t magic, const char *what)
{
	void *p = NULL;
	if (napi_get_value_external(env, v, &p) != napi_ok || !p || *(uint32_t *)p != magic) {
		sf_throw(env, "E_KERNEL", 0, NULL, "%s", what);
		return NULL;
	}
	return p;
}

bool sf_obj_info(napi_env env, int fd, void *info, uint32_t size, const char *what)
{
	/* Zeroed: the kernel reads the struct too, as buffers and lengths to fill. */
	__u32 len = size;
	memset(info, 0, size);
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		sf_throw_errno(env, errno, what);
		return false;
	}
	return true;
}

napi_value sf_u32(napi_env env, uint32_t v)
{
	napi_value r;
	napi_create_uint32(env, v, &r);
	return r;
}

napi_value sf_f64(napi_env env, double v)
{
	napi_value r;
	napi_create_double(env, v, &r);
	return r;
}

napi_value sf_str(napi_env env, const char *s)
{
	napi_value r;
	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
	return r;
}

napi_value sf_bool(napi_env env, bool v)
{
	napi_value r;
	napi_get_boolean(env, v, &r);
	return r;
}

napi_value sf_undefined(napi_env env)
{
	napi_value r;
	napi_get_undefined(env, &r);
	return r;
}

void sf_set(napi_env env, napi_value obj, const char *key, napi_value v)
{
	napi_set_named_property(env, obj, key, v);
}

void sf_export(napi_env env, napi_value exports, const char *name, napi_callback fn)
{
	napi_value f;
	napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
	napi_set_named_property(env, exports, name, f);
}
