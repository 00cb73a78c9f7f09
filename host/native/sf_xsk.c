/*
 * AF_XDP sockets for the live path (typed in host/kernel/xsk.ts).
 *
 * One socket owns one UMEM of frame_count frames:
 *
 *   frames [0, frame_count/2)            RX: ring_size of them live in the fill
 *                                        ring or the RX ring at any time
 *   frames [frame_count/2, frame_count)  TX: a free stack; a frame returns
 *                                        to it through the completion ring
 *
 * receive() and transmit() are one Node-API call per batch: descriptors are
 * peeked, frames copied once between the UMEM and the caller's buffer, RX
 * frames handed straight back to the fill ring, and the kernel woken only
 * when need_wakeup asks for it. The fd is watched with a uv_poll on the
 * calling thread's loop, so an idle socket sleeps in epoll.
 */
#include "sf_napi.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <xdp/xsk.h>

#include "xsk_tx.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define XSK_MAGIC 0x58534b31u /* "XSK1": guards against other handle kinds */
#define BUSY_POLL_US 20
#define BUSY_POLL_BUDGET 64
#define BUSY_RETRIES 50     /* x BUSY_RETRY_US: up to half a second */
#define BUSY_RETRY_US 10000

struct sf_xsk;

/* The poll handle outlives the socket until libuv's close callback runs. */
struct sf_xsk_watch {
	uv_poll_t poll;
	struct sf_xsk *owner; /* NULL once the socket is gone */
	napi_env env;
	napi_ref cb;
	napi_async_context async;
	bool active;
};

struct sf_xsk {
	uint32_t magic;
	bool closed;
	bool hooked; /* env cleanup hook registered (removed by the finalizer) */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	void *area;
	size_t area_size;
	int fd;
	int map_fd;
	uint32_t queue;
	uint32_t frame_size;
	uint32_t frame_count;
	uint32_t ring_size;
	struct xsk_tx_frames txf; /* the upper half of the UMEM */
	struct sf_xsk_watch *watch;
	/* our counters (the kernel's come from XDP_STATISTICS) */
	uint64_t rx_packets, rx_bytes, rx_deferred, wakeups;
};

/* ---- teardown ---- */

static void watch_closed(uv_handle_t *h)
{
	free(h->data);
}

static void watch_release(struct sf_xsk_watch *w)
{
	if (w->cb) {
		napi_delete_reference(w->env, w->cb);
		w->cb = NULL;
	}
	if (w->async) {
		napi_async_destroy(w->env, w->async);
		w->async = NULL;
	}
	w->owner = NULL;
	uv_close((uv_handle_t *)&w->poll, watch_closed);
}

static void xsk_teardown(struct sf_xsk *s)
{
	if (s->closed)
		return;
	s->closed = true;
	if (s->watch) {
		watch_release(s->watch);
		s->watch = NULL;
	}
	/* Empty the slot first: from here on the kernel's punt fallback applies. */
	if (s->map_fd >= 0) {
		__u32 key = s->queue;
		bpf_map_delete_elem(s->map_fd, &key);
		close(s->map_fd);
		s->map_fd = -1;
	}
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	s->xsk = NULL;
	if (s->umem)
		xsk_umem__delete(s->umem);
	s->umem = NULL;
	if (s->area)
		munmap(s->area, s->area_size);
	s->area = NULL;
	free(s->txf.free);
	s->txf.free = NULL;
}

/*
 * A worker_thread that ends without close(): tear the socket down from an
 * env cleanup hook, which runs while the worker's loop still turns, rather
 * than rely on the order of finalizers against the loop's close (an open
 * uv_poll at uv_loop_close aborts Node). The worker test covers this path.
 */
static void cleanup_hook(void *arg)
{
	struct sf_xsk *s = arg;
	s->hooked = false;
	xsk_teardown(s);
}

static void finalize_xsk(napi_env env, void *data, void *hint)
{
	(void)hint;
	struct sf_xsk *s = data;
	if (s->hooked)
		napi_remove_env_cleanup_hook(env, cleanup_hook, s);
	s->hooked = false;
	xsk_teardown(s);
	s->magic = 0;
	free(s);
}

static struct sf_xsk *get_xsk(napi_env env, napi_value v, bool open_only)
{
	struct sf_xsk *s = sf_external(env, v, XSK_MAGIC, "not an AF_XDP socket handle");
	if (s && open_only && s->closed) {
		sf_throw(env, "E_USAGE", 0, "open a new one with openXsk", "the AF_XDP socket is closed");
		return NULL;
	}
	return s;
}

static void *get_open_xsk(napi_env env, napi_value v)
{
	return get_xsk(env, v, true);
}

/* ---- open ---- */

struct xsk_open_args {
	char ifname[IF_NAMESIZE + 1];
	char mode[16];
	char pin[4096];
	char netns[4096];
	uint32_t queue, frame_size, frame_count, ring_size;
	bool busy_poll;
};

static bool read_prop_u32(napi_env env, napi_value obj, const char *key, uint32_t *out)
{
	napi_value v;
	if (napi_get_named_property(env, obj, key, &v) != napi_ok)
		return false;
	return sf_arg_u32(env, v, key, out);
}

static bool read_open_args(napi_env env, napi_value o, struct xsk_open_args *a)
{
	napi_value v;
	if (!sf_prop_str(env, o, "ifname", a->ifname, sizeof(a->ifname), false) ||
	    !sf_prop_str(env, o, "bindMode", a->mode, sizeof(a->mode), false) ||
	    !sf_prop_str(env, o, "xsksMapPin", a->pin, sizeof(a->pin), false) ||
	    !sf_prop_str(env, o, "netns", a->netns, sizeof(a->netns), true) ||
	    !read_prop_u32(env, o, "queue", &a->queue) || !read_prop_u32(env, o, "frameSize", &a->frame_size) ||
	    !read_prop_u32(env, o, "frameCount", &a->frame_count) || !read_prop_u32(env, o, "ringSize", &a->ring_size))
		return false;
	if (napi_get_named_property(env, o, "busyPoll", &v) != napi_ok)
		return false;
	sf_arg_bool(env, v, &a->busy_poll);
	return true;
}

/* Creates UMEM + socket bound with bind_flags; 0 or -errno (everything undone on failure). */
static int create_socket(struct sf_xsk *s, const char *ifname, __u16 bind_flags)
{
	struct xsk_umem_config ucfg = {
		.fill_size = s->ring_size,
		.comp_size = s->ring_size,
		.frame_size = s->frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	int err = xsk_umem__create(&s->umem, s->area, s->area_size, &s->fill, &s->comp, &ucfg);
	if (err) {
		s->umem = NULL;
		return err < 0 ? err : -err;
	}
	struct xsk_socket_config scfg = {
		.rx_size = s->ring_size,
		.tx_size = s->ring_size,
		/* our XDP program is already attached and redirects into sf_xsks */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	/* A socket closed a moment ago releases its queue from a deferred work
	 * item, so a quick reopen sees EBUSY for a few ms: retry, bounded. */
	for (int tries = 0; tries < BUSY_RETRIES; tries++) {
		err = xsk_socket__create(&s->xsk, ifname, s->queue, s->umem, &s->rx, &s->tx, &scfg);
		if (err != -EBUSY)
			break;
		usleep(BUSY_RETRY_US);
	}
	if (err) {
		s->xsk = NULL;
		xsk_umem__delete(s->umem);
		s->umem = NULL;
		return err < 0 ? err : -err;
	}
	return 0;
}

static napi_value open_error(napi_env env, int err, const struct xsk_open_args *a, const char *mode)
{
	err = err < 0 ? -err : err;
	if (err == EPERM || err == EACCES)
		return sf_throw_errno(env, err, "creating an AF_XDP socket");
	if (err == ENODEV)
		return sf_throw(env, "E_NO_IFACE", err, "check the name with `ip link` (in the namespace the daemon runs in)",
				"interface %s does not exist", a->ifname);
	if (err == EOPNOTSUPP && !strcmp(mode, "zerocopy"))
		return sf_throw(env, "E_XSK", err, "use --bind copy or --bind auto (veth and many drivers have no zero-copy)",
				"%s queue %u: the driver does not support zero-copy AF_XDP", a->ifname, a->queue);
	if (err == EBUSY)
		return sf_throw(env, "E_XSK", err, "stop the other AF_XDP user of that queue (another secuxflow run?)",
				"%s queue %u already has an AF_XDP socket bound", a->ifname, a->queue);
	if (err == EINVAL)
		return sf_throw(env, "E_XSK", err, "check that the queue exists: ethtool -l <iface>",
				"%s queue %u: the kernel refused the AF_XDP bind (%s mode): %s", a->ifname, a->queue, mode, strerror(err));
	return sf_throw(env, "E_XSK", err, NULL, "%s queue %u: cannot create the AF_XDP socket (%s mode): %s (errno %d)", a->ifname,
			a->queue, mode, strerror(err), err);
}

static bool bound_zerocopy(int fd)
{
	struct xdp_options opts = { 0 };
	socklen_t len = sizeof(opts);
	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &len) != 0)
		return false;
	return (opts.flags & XDP_OPTIONS_ZEROCOPY) != 0;
}

static bool enable_busy_poll(int fd)
{
	int one = 1, us = BUSY_POLL_US, budget = BUSY_POLL_BUDGET;
	return setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) == 0 &&
	       setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) == 0 &&
	       setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) == 0;
}

/* Gives every RX frame the fill ring can hold to the kernel. */
static void prime_rings(struct sf_xsk *s)
{
	__u32 idx = 0;
	__u32 n = xsk_ring_prod__reserve(&s->fill, s->ring_size, &idx);
	for (__u32 i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fill, idx + i) = (__u64)i * s->frame_size;
	xsk_ring_prod__submit(&s->fill, n);
	uint32_t half = s->frame_count / 2;
	for (uint32_t i = 0; i < half; i++)
		s->txf.free[i] = (__u64)(half + i) * s->frame_size;
	s->txf.n_free = half;
}

static napi_value xsk_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	struct xsk_open_args *a = calloc(1, sizeof(*a));
	if (!a)
		return sf_throw(env, "E_KERNEL", ENOMEM, NULL, "out of memory");
	napi_value result = NULL;
	struct sf_xsk *s = NULL;
	int saved_ns = -1;
	bool in_ns = false;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !read_open_args(env, argv[0], a))
		goto out;
	bool want_zc = !strcmp(a->mode, "zerocopy"), want_copy = !strcmp(a->mode, "copy"), want_auto = !strcmp(a->mode, "auto");
	if (!want_zc && !want_copy && !want_auto) {
		sf_throw(env, "E_USAGE", EINVAL, "use copy, zerocopy or auto", "unknown bind mode '%s'", a->mode);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		sf_throw(env, "E_KERNEL", ENOMEM, NULL, "out of memory");
		goto out;
	}
	s->magic = XSK_MAGIC;
	s->map_fd = -1;
	s->fd = -1;
	s->queue = a->queue;
	s->frame_size = a->frame_size;
	s->frame_count = a->frame_count;
	s->ring_size = a->ring_size;
	s->txf.free = calloc(a->frame_count / 2, sizeof(uint64_t));
	s->txf.frame_size = a->frame_size;
	s->area_size = (size_t)a->frame_count * a->frame_size;
	s->area = mmap(NULL, s->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->area == MAP_FAILED || !s->txf.free) {
		s->area = NULL;
		sf_throw(env, "E_KERNEL", ENOMEM, "use a smaller frameCount", "cannot allocate the UMEM (%zu bytes)", s->area_size);
		goto fail;
	}
	s->map_fd = bpf_obj_get(a->pin);
	if (s->map_fd < 0) {
		int err = errno;
		if (err == ENOENT)
			sf_throw(env, "E_NOT_ATTACHED", err, "attach secuxflow to the interface first (secuxflow attach --iface IF)",
				 "the XSKMAP pin %s does not exist", a->pin);
		else
			sf_throw_errno(env, -err, "opening the pinned XSKMAP");
		goto fail;
	}
	{
		/* The socket's fd is written into slot `queue`: any other kind of map
		 * would take those 4 bytes as a key or value of another size. */
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(s->map_fd, &info, &len) != 0 || info.type != BPF_MAP_TYPE_XSKMAP || info.key_size != 4 ||
		    info.value_size != 4) {
			sf_throw(env, "E_KERNEL", EINVAL, NULL, "%s is not an XSKMAP", a->pin);
			goto fail;
		}
	}
	if (!sf_netns_enter(env, a->netns, &saved_ns))
		goto fail;
	in_ns = true;
	char reason[256] = "";
	const char *mode_used = want_copy ? "copy" : "zerocopy";
	int err = create_socket(s, a->ifname, want_copy ? XDP_COPY : XDP_ZEROCOPY);
	if (err && want_auto && err != -ENODEV && err != -EPERM && err != -EBUSY) {
		snprintf(reason, sizeof(reason), "zero-copy bind failed: %s (errno %d); fell back to copy mode", strerror(-err), -err);
		mode_used = "copy";
		err = create_socket(s, a->ifname, XDP_COPY);
	}
	if (err) {
		open_error(env, err, a, mode_used);
		goto fail;
	}
	s->fd = xsk_socket__fd(s->xsk);
	bool busy = a->busy_poll && enable_busy_poll(s->fd);
	sf_netns_leave(saved_ns);
	in_ns = false;
	prime_rings(s);
	__u32 key = s->queue;
	if (bpf_map_update_elem(s->map_fd, &key, &s->fd, BPF_ANY) != 0) {
		sf_throw_errno(env, -errno, "putting the AF_XDP socket into the XSKMAP");
		goto fail;
	}
	napi_value handle, obj;
	if (napi_create_external(env, s, finalize_xsk, NULL, &handle) != napi_ok) {
		sf_throw_pending(env, "internal Node-API failure");
		goto fail;
	}
	struct sf_xsk *owned = s;
	s = NULL; /* owned by the external now: its finalizer frees it */
	if (napi_add_env_cleanup_hook(env, cleanup_hook, owned) == napi_ok)
		owned->hooked = true;
	if (napi_create_object(env, &obj) != napi_ok) {
		sf_throw_pending(env, "internal Node-API failure");
		goto out;
	}
	sf_set(env, obj, "handle", handle);
	sf_set(env, obj, "fd", sf_u32(env, (uint32_t)owned->fd));
	sf_set(env, obj, "bindMode", sf_str(env, bound_zerocopy(owned->fd) ? "zerocopy" : "copy"));
	napi_value why;
	if (reason[0])
		why = sf_str(env, reason);
	else
		napi_get_null(env, &why);
	sf_set(env, obj, "fallbackReason", why);
	sf_set(env, obj, "busyPoll", sf_bool(env, busy));
	result = obj;
	goto out;
fail:
	if (in_ns)
		sf_netns_leave(saved_ns);
	if (s) {
		xsk_teardown(s);
		free(s);
	}
out:
	free(a);
	return result;
}

/* ---- data path ---- */

static void kick_rx(struct sf_xsk *s)
{
	if (xsk_ring_prod__needs_wakeup(&s->fill)) {
		recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		s->wakeups++;
	}
}

/* receive(handle, into: Uint8Array, descs: Uint32Array, max) -> count */
static napi_value xsk_receive(napi_env env, napi_callback_info info)
{
	struct sf_batch b;
	struct sf_xsk *s = sf_batch_args(env, info, "receive(into, descs, max)", get_open_xsk, "into", "max", &b);
	if (!s)
		return NULL;
	uint8_t *into = b.buf;
	uint32_t *descs = b.descs;
	size_t into_len = b.buf_len;
	uint32_t max = b.count < b.descs_len / 2 ? b.count : (uint32_t)(b.descs_len / 2);
	__u32 idx_rx = 0;
	__u32 n = max ? xsk_ring_cons__peek(&s->rx, max, &idx_rx) : 0;
	if (n == 0) {
		kick_rx(s);
		return sf_u32(env, 0);
	}
	__u32 idx_fill = 0;
	/* Every frame on the RX ring came off the fill ring, so there is room. */
	__u32 room = xsk_ring_prod__reserve(&s->fill, n, &idx_fill);
	size_t pos = 0;
	__u32 k = 0;
	__u64 mask = ~(__u64)(s->frame_size - 1);
	for (; k < n && k < room; k++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx_rx + k);
		__u64 addr = xsk_umem__add_offset_to_addr(d->addr);
		if (pos + d->len > into_len)
			break;
		memcpy(into + pos, xsk_umem__get_data(s->area, addr), d->len);
		descs[2 * k] = (uint32_t)pos;
		descs[2 * k + 1] = d->len;
		s->rx_bytes += d->len;
		size_t end = pos + d->len;
		pos = (end + 7) & ~(size_t)7;
		/* The host may copy consecutive frames to a module in one piece,
		 * padding included: stale bytes of earlier packets must not ride along. */
		memset(into + end, 0, (pos <= into_len ? pos : into_len) - end);
		*xsk_ring_prod__fill_addr(&s->fill, idx_fill + k) = d->addr & mask;
	}
	if (k < room)
		s->fill.cached_prod -= room - k; /* hand back the unused fill reservations */
	xsk_ring_prod__submit(&s->fill, k);
	xsk_ring_cons__release(&s->rx, k);
	if (k < n) {
		xsk_ring_cons__cancel(&s->rx, n - k);
		s->rx_deferred += n - k;
	}
	s->rx_packets += k;
	kick_rx(s);
	return sf_u32(env, k);
}

/* transmit(handle, from: Uint8Array, descs: Uint32Array, count) -> queued */
/* Every frame lies inside `from` and fits a UMEM frame; else throws naming the first that does not. */
static bool tx_descs_fit(napi_env env, const struct sf_xsk *s, const uint32_t *descs, uint32_t count, size_t from_len)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t off = descs[2 * i], len = descs[2 * i + 1];
		if (off + len > from_len) {
			sf_throw(env, "E_USAGE", 0, NULL, "transmit: frame %u [%llu, +%llu) lies outside the buffer (%zu bytes)", i,
				 (unsigned long long)off, (unsigned long long)len, from_len);
			return false;
		}
		if (len > s->frame_size || len < 14) {
			sf_throw(env, "E_USAGE", 0, "frames must be 14..frameSize bytes", "transmit: frame %u is %llu bytes (frame size %u)", i,
				 (unsigned long long)len, s->frame_size);
			return false;
		}
	}
	return true;
}

static napi_value xsk_transmit(napi_env env, napi_callback_info info)
{
	struct sf_batch b;
	struct sf_xsk *s = sf_batch_args(env, info, "transmit(from, descs, count)", get_open_xsk, "from", "count", &b);
	if (!s)
		return NULL;
	uint8_t *from = b.buf;
	uint32_t *descs = b.descs;
	size_t from_len = b.buf_len;
	uint32_t count = b.count;
	if ((size_t)count * 2 > b.descs_len)
		return sf_throw(env, "E_USAGE", 0, "pass count <= descs.length / 2", "transmit: %u frames but descs holds %zu", count,
				b.descs_len / 2);
	/* The descriptors are copied once, then checked and used from the copy:
	 * JavaScript may change them meanwhile (a SharedArrayBuffer another
	 * thread writes), and a length changed after the check would copy past
	 * the buffer or the UMEM frame. */
	uint32_t stack_copy[2 * 256];
	uint32_t *copy = count <= 256 ? stack_copy : malloc((size_t)count * 2 * sizeof(uint32_t));
	if (!copy)
		return sf_throw(env, "E_KERNEL", ENOMEM, NULL, "transmit: out of memory for %u descriptors", count);
	memcpy(copy, descs, (size_t)count * 2 * sizeof(uint32_t));
	/* Every frame is checked before any is sent, so a bad batch sends nothing. */
	if (!tx_descs_fit(env, s, copy, count, from_len)) {
		if (copy != stack_copy)
			free(copy);
		return NULL;
	}
	__u32 sent = xsk_tx_send(&s->txf, &s->tx, &s->comp, s->ring_size, s->fd, s->area, from, copy, count, &s->wakeups);
	if (copy != stack_copy)
		free(copy);
	return sf_u32(env, sent);
}

/* ---- waiting ---- */

static void watch_fired(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	struct sf_xsk_watch *w = h->data;
	if (!w->owner || !w->cb)
		return;
	napi_env env = w->env;
	napi_handle_scope scope;
	if (napi_open_handle_scope(env, &scope) != napi_ok)
		return;
	napi_value cb, recv, ret;
	if (napi_get_reference_value(env, w->cb, &cb) == napi_ok && cb) {
		napi_get_global(env, &recv); /* make_callback wants an object receiver */
		/* make_callback runs microtasks afterwards, so wait()'s promise settles */
		napi_status st = napi_make_callback(env, w->async, recv, cb, 0, NULL, &ret);
		if (st == napi_pending_exception) {
			napi_value exc;
			napi_get_and_clear_last_exception(env, &exc);
			napi_fatal_exception(env, exc);
		}
	}
	napi_close_handle_scope(env, scope);
}

/* watch(handle, cb | null): start or stop calling cb when the RX ring has frames. */
static napi_value xsk_watch(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct sf_xsk *s = get_xsk(env, argv[0], true);
	if (!s)
		return NULL;
	bool stop = argc < 2 || sf_is_nullish(env, argv[1]);
	struct sf_xsk_watch *w = s->watch;
	if (stop) {
		if (w && w->active) {
			uv_poll_stop(&w->poll);
			w->active = false;
		}
		if (w && w->cb) {
			napi_delete_reference(env, w->cb);
			w->cb = NULL;
		}
		return sf_undefined(env);
	}
	napi_valuetype t;
	if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function)
		return sf_throw(env, "E_USAGE", 0, NULL, "onReadable needs a function");
	if (!w) {
		uv_loop_t *loop = NULL;
		SF_TRY(env, napi_get_uv_event_loop(env, &loop));
		w = calloc(1, sizeof(*w));
		if (!w)
			return sf_throw(env, "E_KERNEL", ENOMEM, NULL, "out of memory");
		int rc = uv_poll_init(loop, &w->poll, s->fd);
		if (rc) {
			free(w);
			return sf_throw(env, "E_XSK", -rc, NULL, "cannot watch the AF_XDP socket: %s", uv_strerror(rc));
		}
		w->poll.data = w;
		w->owner = s;
		w->env = env;
		napi_value name;
		napi_create_string_utf8(env, "secuxflow.xsk", NAPI_AUTO_LENGTH, &name);
		napi_async_init(env, NULL, name, &w->async);
		s->watch = w;
	}
	if (w->cb)
		napi_delete_reference(env, w->cb);
	SF_TRY(env, napi_create_reference(env, argv[1], 1, &w->cb));
	if (!w->active) {
		int rc = uv_poll_start(&w->poll, UV_READABLE, watch_fired);
		if (rc)
			return sf_throw(env, "E_XSK", -rc, NULL, "cannot watch the AF_XDP socket: %s", uv_strerror(rc));
		w->active = true;
	}
	return sf_undefined(env);
}

/* ---- stats and close ---- */

static napi_value xsk_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct sf_xsk *s = get_xsk(env, argv[0], true);
	if (!s)
		return NULL;
	xsk_tx_reclaim(&s->txf, &s->comp, s->ring_size);
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);
	if (getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
		return sf_throw_errno(env, -errno, "reading XDP_STATISTICS");
	napi_value o;
	SF_TRY(env, napi_create_object(env, &o));
	sf_set(env, o, "rxPackets", sf_f64(env, (double)s->rx_packets));
	sf_set(env, o, "rxBytes", sf_f64(env, (double)s->rx_bytes));
	sf_set(env, o, "txPackets", sf_f64(env, (double)s->txf.queued));
	sf_set(env, o, "txCompleted", sf_f64(env, (double)s->txf.completed));
	sf_set(env, o, "rxDeferred", sf_f64(env, (double)s->rx_deferred));
	sf_set(env, o, "rxDropped", sf_f64(env, (double)st.rx_dropped));
	sf_set(env, o, "rxRingFull", sf_f64(env, (double)st.rx_ring_full));
	sf_set(env, o, "fillRingEmpty", sf_f64(env, (double)st.rx_fill_ring_empty_descs));
	sf_set(env, o, "rxInvalidDescs", sf_f64(env, (double)st.rx_invalid_descs));
	sf_set(env, o, "txInvalidDescs", sf_f64(env, (double)st.tx_invalid_descs));
	sf_set(env, o, "txRingEmpty", sf_f64(env, (double)st.tx_ring_empty_descs));
	sf_set(env, o, "wakeups", sf_f64(env, (double)s->wakeups));
	return o;
}

static napi_value xsk_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	/* A missing handle arrives as undefined, which get_xsk refuses. */
	struct sf_xsk *s = get_xsk(env, argv[0], false);
	if (!s)
		return NULL;
	xsk_teardown(s);
	return sf_undefined(env);
}

void sf_register_xsk(napi_env env, napi_value exports)
{
	sf_export(env, exports, "xskOpen", xsk_open);
	sf_export(env, exports, "xskReceive", xsk_receive);
	sf_export(env, exports, "xskTransmit", xsk_transmit);
	sf_export(env, exports, "xskWatch", xsk_watch);
	sf_export(env, exports, "xskStats", xsk_stats);
	sf_export(env, exports, "xskClose", xsk_close);
}
