/* Opening and loading the XDP object, pins and raw fds. */
#include "sf_napi.h"
#include "../../xdp/secuxflow.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define BPFFS_HINT "bpffs not mounted: run mount -t bpf bpf /sys/fs/bpf (or sudo bash scripts/install-system-deps.sh)"

/* libbpf's messages are kept, not printed: the tail goes into error messages. */
static char last_log[1024];

static int keep_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	size_t n = strlen(last_log);
	while (n && (last_log[n - 1] == '\n'))
		last_log[--n] = 0;
	return 0;
}

#define OBJECT_MAGIC 0x4f424a31u /* "OBJ1": guards against other handle kinds (a TAP or AF_XDP handle) */

struct sf_object {
	uint32_t magic;
	struct bpf_object *obj;
};

/*
 * The name a map is known by to user space and pinned under. A global-data
 * section ".data.NAME" (the program reads it without a lookup, see
 * secuxflow.h) is a single-value array map that libbpf names after the
 * section; user space knows it as NAME, like every other map.
 */
static const char *map_name(const struct bpf_map *map)
{
	const char *n = bpf_map__name(map);
	return strncmp(n, SF_DATA_SECTION_PREFIX, sizeof(SF_DATA_SECTION_PREFIX) - 1) == 0 ? n + sizeof(SF_DATA_SECTION_PREFIX) - 1 : n;
}

static void release_object(struct sf_object *o)
{
	if (!o->obj)
		return;
	struct bpf_map *map;
	bpf_object__for_each_map(map, o->obj) {
		sf_forget_fd(bpf_map__fd(map));
	}
	bpf_object__close(o->obj);
	o->obj = NULL;
}

static void finalize_object(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	release_object(data);
	free(data);
}

static struct sf_object *get_object(napi_env env, napi_value v)
{
	struct sf_object *o = sf_external(env, v, OBJECT_MAGIC, "not a secuxflow object handle");
	if (!o)
		return NULL;
	if (!o->obj) {
		sf_throw(env, "E_KERNEL", 0, NULL, "the object was already closed");
		return NULL;
	}
	return o;
}

/* True when the nearest existing ancestor of path is on bpffs. */
static bool on_bpffs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		struct statfs st;
		if (statfs(buf, &st) == 0)
			return (unsigned long)st.f_type == (unsigned long)BPF_FS_MAGIC;
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return false;
		*slash = 0;
	}
}

static napi_value is_bpffs(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	char path[PATH_MAX];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_str(env, argv[0], "path", path, sizeof(path)))
		return NULL;
	return sf_bool(env, on_bpffs(path));
}

static napi_value open_object(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	char path[PATH_MAX], pin_dir[PATH_MAX] = "";
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_str(env, argv[0], "objectPath", path, sizeof(path)))
		return NULL;
	bool pinned = argc > 1 && !sf_is_nullish(env, argv[1]);
	if (pinned && !sf_arg_str(env, argv[1], "pinDir", pin_dir, sizeof(pin_dir) - 64))
		return NULL;
	if (pinned && !on_bpffs(pin_dir))
		return sf_throw(env, "E_NO_BPFFS", 0, BPFFS_HINT, "%s is not on a bpf filesystem", pin_dir);

	libbpf_set_print(keep_log);
	last_log[0] = 0;
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return sf_throw(env, "E_KERNEL", errno, "rebuild it with npm run build:native", "cannot open XDP object %s: %s", path, strerror(errno));

	napi_value reused;
	SF_TRY(env, napi_create_array(env, &reused));
	uint32_t nreused = 0;
	struct bpf_map *map;
	if (!pinned) {
		/* Private load: objects whose maps carry a pinning attribute
		 * (xdp-filter's do) would otherwise pin into /sys/fs/bpf. */
		bpf_object__for_each_map(map, obj) {
			bpf_map__set_pin_path(map, NULL);
		}
	}
	if (pinned) {
		bpf_object__for_each_map(map, obj) {
			char pin[PATH_MAX];
			snprintf(pin, sizeof(pin), "%s/%s", pin_dir, map_name(map));
			if (access(pin, F_OK) == 0)
				napi_set_element(env, reused, nreused++, sf_str(env, map_name(map)));
			int err = bpf_map__set_pin_path(map, pin);
			if (err) {
				bpf_object__close(obj);
				return sf_throw_errno(env, err, "setting pin paths");
			}
		}
	}
	/* The verifier gives up with EAGAIN when the loading thread has a signal
	 * pending, and libbpf retries only a few times: a daemon that receives
	 * signals while it starts (SIGHUP, a profiler's SIGPROF every few hundred
	 * µs) failed to load. Signals wait until the load is done instead. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = bpf_object__load(obj);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		int e = -err;
		char what[1200];
		snprintf(what, sizeof(what), "loading %s%s%s", path, last_log[0] ? ": " : "", last_log);
		bpf_object__close(obj);
		if (e == EPERM || e == EACCES)
			return sf_throw_errno(env, e, what);
		return sf_throw(env, "E_KERNEL", e,
				pinned ? "pinned maps from another version may be incompatible: detach and remove the pin directory" : NULL,
				"%s (errno %d)", what, e);
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, SF_PROG_NAME);
	if (!prog)
		prog = bpf_object__next_program(obj, NULL);
	if (!prog) {
		bpf_object__close(obj);
		return sf_throw(env, "E_KERNEL", 0, NULL, "%s holds no program", path);
	}

	napi_value maps, result, handle;
	SF_TRY(env, napi_create_object(env, &maps));
	bpf_object__for_each_map(map, obj) {
		/* A new fd may reuse the number of a closed one: drop its cached shape. */
		sf_forget_fd(bpf_map__fd(map));
		sf_set(env, maps, map_name(map), sf_u32(env, (uint32_t)bpf_map__fd(map)));
	}
	struct sf_object *o = calloc(1, sizeof(*o));
	if (!o) {
		bpf_object__close(obj);
		return sf_throw(env, "E_KERNEL", ENOMEM, NULL, "out of memory");
	}
	o->magic = OBJECT_MAGIC;
	o->obj = obj;
	SF_TRY(env, napi_create_external(env, o, finalize_object, NULL, &handle));
	SF_TRY(env, napi_create_object(env, &result));
	sf_set(env, result, "handle", handle);
	sf_set(env, result, "progFd", sf_u32(env, (uint32_t)bpf_program__fd(prog)));
	sf_set(env, result, "maps", maps);
	sf_set(env, result, "reusedPins", reused);
	return result;
}

static napi_value close_object(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct sf_object *o = get_object(env, argv[0]);
	if (!o)
		return NULL;
	release_object(o);
	return sf_undefined(env);
}

static napi_value pin_or_unpin(napi_env env, napi_callback_info info, bool pin)
{
	size_t argc = 2;
	napi_value argv[2];
	char dir[PATH_MAX];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct sf_object *o = get_object(env, argv[0]);
	if (!o || !sf_arg_str(env, argv[1], "dir", dir, sizeof(dir) - 64))
		return NULL;
	if (!on_bpffs(dir))
		return sf_throw(env, "E_NO_BPFFS", 0, BPFFS_HINT, "%s is not on a bpf filesystem", dir);
	struct bpf_map *map;
	bpf_object__for_each_map(map, o->obj) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, map_name(map));
		if (pin) {
			/* Maps loaded with pin paths are pinned already. */
			if (bpf_map__is_pinned(map))
				continue;
			int err = bpf_map__pin(map, path);
			if (err)
				return sf_throw_errno(env, err, path);
		} else {
			if (unlink(path) && errno != ENOENT)
				return sf_throw_errno(env, errno, path);
		}
	}
	if (!pin)
		rmdir(dir); /* only succeeds when nothing else lives there */
	return sf_undefined(env);
}

static napi_value pin_maps(napi_env env, napi_callback_info info)
{
	return pin_or_unpin(env, info, true);
}

static napi_value unpin_maps(napi_env env, napi_callback_info info)
{
	return pin_or_unpin(env, info, false);
}

static napi_value obj_pin(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t fd;
	char path[PATH_MAX];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_i32(env, argv[0], "fd", &fd) || !sf_arg_str(env, argv[1], "path", path, sizeof(path)))
		return NULL;
	if (!on_bpffs(path))
		return sf_throw(env, "E_NO_BPFFS", 0, BPFFS_HINT, "%s is not on a bpf filesystem", path);
	if (bpf_obj_pin(fd, path))
		return sf_throw_errno(env, errno, path);
	return sf_undefined(env);
}

/*
 * objGet(path, readOnly?): readOnly opens with BPF_F_RDONLY, which is all a
 * reader needs and the only open a read-only mounted bpffs allows (the
 * kernel checks write permission on the pin for a read-write open).
 */
static napi_value obj_get(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	char path[PATH_MAX];
	bool read_only = false;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_str(env, argv[0], "path", path, sizeof(path)))
		return NULL;
	if (argc >= 2 && !sf_arg_bool(env, argv[1], &read_only))
		return NULL;
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = read_only ? BPF_F_RDONLY : 0);
	int fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && !on_bpffs(path))
			return sf_throw(env, "E_NO_BPFFS", e, BPFFS_HINT, "%s is not on a bpf filesystem", path);
		if (e == ENOENT)
			return sf_throw(env, "E_NOT_ATTACHED", e, "attach first: secuxflow attach --iface IF", "nothing is pinned at %s", path);
		return sf_throw_errno(env, e, path);
	}
	sf_forget_fd(fd);
	return sf_u32(env, (uint32_t)fd);
}

static napi_value close_fd(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (!sf_fd_arg(env, info, &fd))
		return NULL;
	/* Never close stdio by mistake. */
	if (fd > 2) {
		sf_forget_fd(fd);
		close(fd);
	}
	return sf_undefined(env);
}

void sf_register_object(napi_env env, napi_value exports)
{
	sf_export(env, exports, "openObject", open_object);
	sf_export(env, exports, "closeObject", close_object);
	sf_export(env, exports, "pinMaps", pin_maps);
	sf_export(env, exports, "unpinMaps", unpin_maps);
	sf_export(env, exports, "objPin", obj_pin);
	sf_export(env, exports, "objGet", obj_get);
	sf_export(env, exports, "closeFd", close_fd);
	sf_export(env, exports, "isBpffs", is_bpffs);
}
