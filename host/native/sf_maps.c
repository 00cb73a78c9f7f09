/* Map element operations. Value buffers hold per-CPU strides for per-CPU maps. */
#include "sf_napi.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Shapes are cached per fd: every element call checks buffer sizes against them. */
#define SHAPE_CACHE 4096
static struct sf_map_shape shapes[SHAPE_CACHE];
static bool shape_valid[SHAPE_CACHE];

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static bool is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/*
 * mmapable arrays stay mapped per fd until the fd is forgotten: a munmap
 * per store made every flow verdict the daemon writes a TLB shootdown
 * across the process's CPUs, which costs tens of microseconds in a VM.
 */
static void *mapped[SHAPE_CACHE];
static size_t mapped_len[SHAPE_CACHE];

void sf_forget_fd(int fd)
{
	if (fd < 0 || fd >= SHAPE_CACHE)
		return;
	shape_valid[fd] = false;
	if (mapped[fd]) {
		munmap(mapped[fd], mapped_len[fd]);
		mapped[fd] = NULL;
	}
}

bool sf_map_shape(napi_env env, int fd, struct sf_map_shape *out)
{
	if (fd >= 0 && fd < SHAPE_CACHE && shape_valid[fd]) {
		*out = shapes[fd];
		return true;
	}
	struct bpf_map_info mi;
	if (!sf_obj_info(env, fd, &mi, sizeof(mi), "reading map info"))
		return false;
	out->key_size = mi.key_size;
	out->value_size = mi.value_size;
	out->type = mi.type;
	out->value_bytes = mi.value_size;
	if (is_percpu(mi.type)) {
		int ncpu = libbpf_num_possible_cpus();
		out->value_bytes = ((mi.value_size + 7) & ~7u) * (ncpu > 0 ? (uint32_t)ncpu : 1);
	}
	if (fd >= 0 && fd < SHAPE_CACHE) {
		shapes[fd] = *out;
		shape_valid[fd] = true;
	}
	return true;
}

/* Reads fd, key (exact key size) and optionally a value buffer of >= value bytes. */
static bool map_args(napi_env env, napi_value *argv, size_t argc, size_t nbytes_args, int32_t *fd,
		     struct sf_map_shape *shape, void **key, void **val)
{
	size_t klen, vlen;
	if (!sf_arg_i32(env, argv[0], "fd", fd) || !sf_map_shape(env, *fd, shape))
		return false;
	if (nbytes_args >= 1) {
		if (!sf_arg_bytes(env, argv[1], "key", key, &klen))
			return false;
		if (klen != shape->key_size) {
			sf_throw(env, "E_KERNEL", EINVAL, NULL, "key is %zu bytes, the map's keys are %u", klen, shape->key_size);
			return false;
		}
	}
	if (nbytes_args >= 2) {
		if (!sf_arg_bytes(env, argv[2], "value", val, &vlen))
			return false;
		if (vlen < shape->value_bytes) {
			sf_throw(env, "E_KERNEL", EINVAL, NULL, "value buffer is %zu bytes, the map needs %u", vlen, shape->value_bytes);
			return false;
		}
	}
	return true;
}

/* rc and errno of a call on one key: ENOENT is an answer (false), not an error. */
static napi_value key_found(napi_env env, int rc, const char *what)
{
	if (!rc)
		return sf_bool(env, true);
	if (errno == ENOENT)
		return sf_bool(env, false);
	return sf_throw_errno(env, errno, what);
}

static napi_value map_lookup(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	int32_t fd;
	struct sf_map_shape s;
	void *key, *val;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!map_args(env, argv, argc, 2, &fd, &s, &key, &val))
		return NULL;
	return key_found(env, bpf_map_lookup_elem(fd, key, val), "map lookup");
}

static napi_value map_update(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	int32_t fd;
	uint32_t flags = 0;
	struct sf_map_shape s;
	void *key, *val;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!map_args(env, argv, argc, 2, &fd, &s, &key, &val))
		return NULL;
	if (argc > 3 && !sf_arg_u32(env, argv[3], "flags", &flags))
		return NULL;
	if (bpf_map_update_elem(fd, key, val, flags)) {
		int e = errno;
		if (e == EEXIST)
			return sf_throw(env, "E_KERNEL", e, NULL, "map update: the key already exists");
		if (e == E2BIG && is_array(s.type))
			return sf_throw(env, "E_KERNEL", e, NULL, "map update: index %u is beyond the array's last entry", *(uint32_t *)key);
		return sf_throw_errno(env, e, "map update");
	}
	return sf_undefined(env);
}

static napi_value map_delete(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t fd;
	struct sf_map_shape s;
	void *key;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!map_args(env, argv, argc, 1, &fd, &s, &key, NULL))
		return NULL;
	return key_found(env, bpf_map_delete_elem(fd, key), "map delete");
}

/* errno of a batch call the map type or kernel does not support (524 is the kernel's ENOTSUPP). */
static bool batch_unsupported(int e)
{
	return e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP || e == 524;
}

/*
 * mapDeleteBatch(fd, keys, count): deletes count keys (key_size bytes each)
 * with BPF_MAP_DELETE_BATCH, skipping keys already gone; returns how many it
 * deleted. Map types or kernels without batch delete get one syscall per key.
 */
static napi_value map_delete_batch(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	int32_t fd;
	uint32_t count;
	struct sf_map_shape s;
	void *keys;
	size_t klen;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || !sf_map_shape(env, fd, &s) || !sf_arg_bytes(env, argv[1], "keys", &keys, &klen) ||
	    !sf_arg_u32(env, argv[2], "count", &count))
		return NULL;
	if ((uint64_t)count * s.key_size > klen)
		return sf_throw(env, "E_KERNEL", EINVAL, NULL, "batch of %u keys needs %u-byte keys, got %zu bytes", count, s.key_size, klen);
	uint32_t deleted = 0, at = 0;
	bool batch = true;
	while (at < count) {
		char *key = (char *)keys + (size_t)at * s.key_size;
		if (batch) {
			__u32 n = count - at;
			LIBBPF_OPTS(bpf_map_batch_opts, opts);
			int rc = bpf_map_delete_batch(fd, key, &n, &opts);
			int e = rc ? errno : 0;
			/* n: the keys deleted before it stopped */
			deleted += n;
			at += n;
			if (!rc)
				break;
			if (e == ENOENT) {
				at++; /* that key was already gone */
				continue;
			}
			if (n == 0 && batch_unsupported(e)) {
				batch = false;
				continue;
			}
			return sf_throw_errno(env, e, "map batch delete");
		}
		if (!bpf_map_delete_elem(fd, key))
			deleted++;
		else if (errno != ENOENT)
			return sf_throw_errno(env, errno, "map delete");
		at++;
	}
	return sf_u32(env, deleted);
}

static napi_value map_next_key(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	int32_t fd;
	struct sf_map_shape s;
	void *key = NULL, *out;
	size_t klen, olen;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || !sf_map_shape(env, fd, &s))
		return NULL;
	if (!sf_is_nullish(env, argv[1])) {
		if (!sf_arg_bytes(env, argv[1], "key", &key, &klen))
			return NULL;
		if (klen != s.key_size)
			return sf_throw(env, "E_KERNEL", EINVAL, NULL, "key is %zu bytes, the map's keys are %u", klen, s.key_size);
	}
	if (!sf_arg_bytes(env, argv[2], "out", &out, &olen))
		return NULL;
	if (olen < s.key_size)
		return sf_throw(env, "E_KERNEL", EINVAL, NULL, "out buffer is %zu bytes, keys are %u", olen, s.key_size);
	return key_found(env, bpf_map_get_next_key(fd, key, out), "map iteration");
}

static napi_value map_update_batch(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5];
	int32_t fd;
	uint32_t count, flags = 0;
	struct sf_map_shape s;
	void *keys, *vals;
	size_t klen, vlen;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || !sf_map_shape(env, fd, &s) ||
	    !sf_arg_bytes(env, argv[1], "keys", &keys, &klen) || !sf_arg_bytes(env, argv[2], "values", &vals, &vlen) ||
	    !sf_arg_u32(env, argv[3], "count", &count))
		return NULL;
	if (argc > 4 && !sf_arg_u32(env, argv[4], "flags", &flags))
		return NULL;
	if ((uint64_t)count * s.key_size > klen || (uint64_t)count * s.value_bytes > vlen)
		return sf_throw(env, "E_KERNEL", EINVAL, NULL, "batch of %u entries needs %u-byte keys and %u-byte values", count,
				s.key_size, s.value_bytes);
	if (count == 0)
		return sf_u32(env, 0);
	__u32 n = count;
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
	if (!bpf_map_update_batch(fd, keys, vals, &n, &opts))
		return sf_u32(env, n);
	int e = errno;
	if (!batch_unsupported(e))
		return sf_throw_errno(env, e, "map batch update");
	/* Maps without batch support (LPM tries): one syscall per entry. */
	for (__u32 i = 0; i < count; i++) {
		if (bpf_map_update_elem(fd, (char *)keys + (size_t)i * s.key_size, (char *)vals + (size_t)i * s.value_bytes, flags))
			return sf_throw_errno(env, errno, "map update");
	}
	return sf_u32(env, count);
}

/* Entries per BPF_MAP_LOOKUP_BATCH call: more than any hash bucket holds (ENOSPC otherwise). */
#define DUMP_CHUNK 4096

/*
 * Reads up to cap entries with BPF_MAP_LOOKUP_BATCH, a few thousand per
 * syscall. Returns the count, or -1 when the map type has no batch lookup
 * (LPM tries, older kernels) or a chunk failed: the caller then walks the
 * map key by key from the start.
 */
static long dump_batched(int fd, const struct sf_map_shape *s, char *keys, char *vals, size_t cap)
{
	/* The batch token is the map's own key for arrays, a u32 bucket for hashes. */
	char *in_tok = malloc(s->key_size + 8), *out_tok = malloc(s->key_size + 8);
	if (!in_tok || !out_tok) {
		free(in_tok), free(out_tok);
		return -1;
	}
	size_t n = 0;
	void *in = NULL;
	long result = -1;
	for (;;) {
		__u32 count = cap - n < DUMP_CHUNK ? (__u32)(cap - n) : DUMP_CHUNK;
		if (count == 0) {
			result = (long)n;
			break;
		}
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int rc = bpf_map_lookup_batch(fd, in, out_tok, keys + n * s->key_size, vals + n * s->value_bytes, &count, &opts);
		int err = rc ? errno : 0;
		if (rc && err != ENOENT)
			break; /* EINVAL/ENOTSUPP: no batch lookup for this type; ENOSPC: a bucket past the chunk */
		n += count;
		if (rc) { /* ENOENT: that was the last chunk */
			result = (long)n;
			break;
		}
		memcpy(in_tok, out_tok, s->key_size + 8);
		in = in_tok;
	}
	free(in_tok), free(out_tok);
	return result;
}

/* mapDump(fd, walk?): every entry; walk = true skips the batch lookup (tests compare the two). */
static napi_value map_dump(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t fd;
	bool walk = false;
	struct sf_map_shape s;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1)
		return sf_throw(env, "E_KERNEL", 0, NULL, "argument fd must be a number");
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || (argc > 1 && !sf_arg_bool(env, argv[1], &walk)) || !sf_map_shape(env, fd, &s))
		return NULL;
	struct bpf_map_info mi;
	if (!sf_obj_info(env, fd, &mi, sizeof(mi), "reading map info"))
		return NULL;
	size_t cap = mi.max_entries ? mi.max_entries : 1;
	char *keys = malloc(cap * s.key_size + 8), *vals = malloc(cap * s.value_bytes + 8);
	char *cur = malloc(s.key_size + 8), *next = malloc(s.key_size + 8);
	if (!keys || !vals || !cur || !next) {
		free(keys), free(vals), free(cur), free(next);
		return sf_throw(env, "E_KERNEL", ENOMEM, NULL, "out of memory dumping a map of %zu entries", cap);
	}
	long got = walk ? -1 : dump_batched(fd, &s, keys, vals, cap);
	bool batched = got >= 0;
	size_t n = batched ? (size_t)got : 0;
	void *prev = NULL;
	/* get_next_key works on every map type; entries deleted meanwhile are skipped. */
	while (!batched && n < cap && !bpf_map_get_next_key(fd, prev, next)) {
		if (!bpf_map_lookup_elem(fd, next, vals + n * s.value_bytes)) {
			memcpy(keys + n * s.key_size, next, s.key_size);
			n++;
		}
		memcpy(cur, next, s.key_size);
		prev = cur;
	}
	napi_value r, kb, vb;
	void *kd, *vd;
	napi_value kab, vab;
	napi_create_arraybuffer(env, n * s.key_size, &kd, &kab);
	napi_create_arraybuffer(env, n * s.value_bytes, &vd, &vab);
	if (n) {
		memcpy(kd, keys, n * s.key_size);
		memcpy(vd, vals, n * s.value_bytes);
	}
	free(keys), free(vals), free(cur), free(next);
	napi_create_typedarray(env, napi_uint8_array, n * s.key_size, kab, 0, &kb);
	napi_create_typedarray(env, napi_uint8_array, n * s.value_bytes, vab, 0, &vb);
	SF_TRY(env, napi_create_object(env, &r));
	sf_set(env, r, "count", sf_u32(env, (uint32_t)n));
	sf_set(env, r, "keys", kb);
	sf_set(env, r, "values", vb);
	sf_set(env, r, "batched", sf_bool(env, batched));
	return r;
}

static napi_value map_info(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (!sf_fd_arg(env, info, &fd))
		return NULL;
	struct bpf_map_info mi;
	if (!sf_obj_info(env, fd, &mi, sizeof(mi), "reading map info"))
		return NULL;
	napi_value r;
	SF_TRY(env, napi_create_object(env, &r));
	sf_set(env, r, "id", sf_u32(env, mi.id));
	sf_set(env, r, "name", sf_str(env, mi.name));
	sf_set(env, r, "type", sf_u32(env, mi.type));
	sf_set(env, r, "keySize", sf_u32(env, mi.key_size));
	sf_set(env, r, "valueSize", sf_u32(env, mi.value_size));
	sf_set(env, r, "maxEntries", sf_u32(env, mi.max_entries));
	return r;
}

static napi_value possible_cpus(napi_env env, napi_callback_info info)
{
	(void)info;
	int n = libbpf_num_possible_cpus();
	if (n <= 0)
		return sf_throw_errno(env, n ? n : EINVAL, "counting possible CPUs");
	return sf_u32(env, (uint32_t)n);
}

/*
 * The first value of the mmapable array behind fd, mapped once per fd (see
 * `mapped` above); NULL with an error thrown when it cannot be. *temp is set
 * when fd is past the cache and the caller must munmap(m, *len) itself.
 */
static void *map_value_memory(napi_env env, int fd, const struct sf_map_shape *s, size_t *len, bool *temp)
{
	long page = sysconf(_SC_PAGESIZE);
	*len = ((size_t)s->value_size + (size_t)page - 1) & ~((size_t)page - 1);
	*temp = false;
	void *m = fd >= 0 && fd < SHAPE_CACHE ? mapped[fd] : NULL;
	if (m)
		return m;
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		sf_throw_errno(env, errno, "mapping the array (it needs BPF_F_MMAPABLE)");
		return NULL;
	}
	if (fd >= 0 && fd < SHAPE_CACHE) {
		mapped[fd] = m;
		mapped_len[fd] = *len;
	} else {
		*temp = true;
	}
	return m;
}

static bool words_inside(napi_env env, const struct sf_map_shape *s, uint32_t off, size_t len)
{
	if (s->type == BPF_MAP_TYPE_ARRAY && off % 4 == 0 && len % 4 == 0 && (uint64_t)off + len <= s->value_size)
		return true;
	sf_throw(env, "E_KERNEL", EINVAL, NULL, "%zu bytes at offset %u: not whole aligned words inside a %u-byte array value", len, off,
		 s->value_size);
	return false;
}

/*
 * mapStoreWords(fd, offset, bytes): stores bytes (a multiple of 4) into the
 * first value of an mmapable array, one aligned 32-bit atomic store per
 * word, in order. A map update rewrites the whole value, so two processes
 * updating different words of it could undo each other; single stores
 * cannot (the config value, xdp/secuxflow.h struct sf_config).
 */
static napi_value map_store_words(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	int32_t fd;
	uint32_t off;
	struct sf_map_shape s;
	void *src;
	size_t len, maplen;
	bool temp;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	/* Missing arguments are undefined, so each is named in its own error. */
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || !sf_arg_u32(env, argv[1], "offset", &off) ||
	    !sf_arg_bytes(env, argv[2], "bytes", &src, &len) || !sf_map_shape(env, fd, &s) || !words_inside(env, &s, off, len))
		return NULL;
	void *m = map_value_memory(env, fd, &s, &maplen, &temp);
	if (!m)
		return NULL;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t w;
		memcpy(&w, (char *)src + i, 4);
		__atomic_store_n((uint32_t *)((char *)m + off + i), w, __ATOMIC_SEQ_CST);
	}
	if (temp)
		munmap(m, maplen);
	return sf_undefined(env);
}

/* mapLoadWord(fd, offset): one aligned 32-bit atomic load from the same mapping. */
static napi_value map_load_word(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t fd;
	uint32_t off;
	struct sf_map_shape s;
	size_t maplen;
	bool temp;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || !sf_arg_u32(env, argv[1], "offset", &off) || !sf_map_shape(env, fd, &s) ||
	    !words_inside(env, &s, off, 4))
		return NULL;
	void *m = map_value_memory(env, fd, &s, &maplen, &temp);
	if (!m)
		return NULL;
	uint32_t w = __atomic_load_n((uint32_t *)((char *)m + off), __ATOMIC_SEQ_CST);
	if (temp)
		munmap(m, maplen);
	return sf_u32(env, w);
}

void sf_register_maps(napi_env env, napi_value exports)
{
	sf_export(env, exports, "mapStoreWords", map_store_words);
	sf_export(env, exports, "mapLoadWord", map_load_word);
	sf_export(env, exports, "mapLookup", map_lookup);
	sf_export(env, exports, "mapUpdate", map_update);
	sf_export(env, exports, "mapDelete", map_delete);
	sf_export(env, exports, "mapDeleteBatch", map_delete_batch);
	sf_export(env, exports, "mapNextKey", map_next_key);
	sf_export(env, exports, "mapUpdateBatch", map_update_batch);
	sf_export(env, exports, "mapDump", map_dump);
	sf_export(env, exports, "mapInfo", map_info);
	sf_export(env, exports, "possibleCpus", possible_cpus);
}
