/*
 * Host-mode delivery (typed in host/kernel/delivery.ts): a TAP device beside
 * the protected interface. A frame written to a TAP fd is received by the
 * kernel as if it had arrived on the TAP's wire; the TAP has no XDP program,
 * so a packet that passed inspection is not punted a second time.
 *
 * Set up so the local stack takes the frames as its own:
 *   - MAC and MTU copied from the protected interface (frames are addressed
 *     to that MAC; a different one would make them PACKET_OTHERHOST);
 *   - rp_filter=0 on the TAP: the route back to the sender is via the
 *     protected interface, and a device without an address fails even loose
 *     reverse-path filtering (fib_validate_source); the kernel applies
 *     max(conf/all, device), so conf/all must be 0 too (checked, E_XSK);
 *   - a virtio-net header on every write: a frame whose TCP/UDP checksum
 *     field holds only the pseudo-header sum was sent with checksum offload
 *     (CHECKSUM_PARTIAL, as veth and containers do) and is marked
 *     NEEDS_CSUM again, exactly what it was before XDP took it; every other
 *     frame is verified by the stack as usual;
 *   - IFF_NOARP and addr_gen_mode=1 (no IPv6 link-local): the TAP never
 *     speaks on its own; it only injects.
 * The device is not persistent: closing the fd removes it.
 */
#include "sf_napi.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap_frame.h"

/* linux/if.h and net/if.h clash; declare the one libc function we need. */
extern unsigned int if_nametoindex(const char *ifname);

#define TAP_MAGIC 0x54415031u /* "TAP1" */

struct sf_tap {
	uint32_t magic;
	int fd;
	char name[IFNAMSIZ];
	uint64_t delivered, failed, bytes;
};

static void tap_teardown(struct sf_tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static void finalize_tap(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	struct sf_tap *t = data;
	tap_teardown(t);
	t->magic = 0;
	free(t);
}

static struct sf_tap *get_tap(napi_env env, napi_value v, bool open_only)
{
	struct sf_tap *t = sf_external(env, v, TAP_MAGIC, "not a delivery handle");
	if (t && open_only && t->fd < 0) {
		sf_throw(env, "E_USAGE", 0, "open a new one with openDelivery", "host-mode delivery is closed");
		return NULL;
	}
	return t;
}

static void *get_open_tap(napi_env env, napi_value v)
{
	return get_tap(env, v, true);
}

/* conf/all/rp_filter as a number (0 when unreadable: nothing to fight). */
static int all_rp_filter(void)
{
	char buf[8] = "";
	int fd = open("/proc/sys/net/ipv4/conf/all/rp_filter", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : 0;
}

/* tapOpen({ ifname, tapName, netns }) -> { handle, fd, tapName, ifindex } */
static napi_value tap_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	char ifname[IFNAMSIZ + 1], tap_name[IFNAMSIZ + 1], netns[4096];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1)
		return sf_throw(env, "E_USAGE", 0, NULL, "tapOpen(options)");
	if (!sf_prop_str(env, argv[0], "ifname", ifname, sizeof(ifname), false) ||
	    !sf_prop_str(env, argv[0], "tapName", tap_name, sizeof(tap_name), false) ||
	    !sf_prop_str(env, argv[0], "netns", netns, sizeof(netns), true))
		return NULL;

	int saved = -1;
	if (!sf_netns_enter(env, netns, &saved))
		return NULL;
	int err;
	napi_value result = NULL;
	int fd = -1;
	unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		sf_throw(env, "E_NO_IFACE", errno, "check the name with `ip link`", "interface %s does not exist", ifname);
		goto fail;
	}
	if (!tap_name[0])
		snprintf(tap_name, sizeof(tap_name), "sfd%u", ifindex);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == EACCES || err == EPERM)
			sf_throw_errno(env, err, "opening /dev/net/tun");
		else
			sf_throw(env, "E_XSK", err, "load the tun module (modprobe tun) or create the node: mknod /dev/net/tun c 10 200",
				 "cannot open /dev/net/tun: %s", strerror(err));
		goto fail;
	}
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	req.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(req.ifr_name, IFNAMSIZ, "%s", tap_name);
	if (ioctl(fd, TUNSETIFF, &req) < 0) {
		err = errno;
		if (err == EPERM)
			sf_throw_errno(env, err, "creating the delivery TAP");
		else
			sf_throw(env, "E_XSK", err, err == EBUSY ? "another process uses that name: pick another tapName" : NULL,
				 "cannot create TAP device %s: %s", tap_name, strerror(err));
		goto fail;
	}
	int hdr_size = sizeof(struct virtio_net_hdr);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0) {
		sf_throw(env, "E_XSK", errno, NULL, "cannot set the TAP's virtio-net header size: %s", strerror(errno));
		goto fail;
	}
	int rpf = all_rp_filter();
	if (rpf != 0) {
		sf_throw(env, "E_XSK", EINVAL,
			 "set it to 0 (sysctl -w net.ipv4.conf.all.rp_filter=0) and keep reverse-path filtering per interface "
			 "(net.ipv4.conf.<if>.rp_filter) instead",
			 "host-mode delivery on %s: net.ipv4.conf.all.rp_filter is %d, so the kernel would drop every re-delivered "
			 "packet as spoofed (it applies the larger of conf/all and the TAP's own setting)",
			 ifname, rpf);
		goto fail;
	}
	const char *step = "";
	err = tap_configure(ifname, tap_name, &step);
	if (err) {
		sf_throw(env, err == -EPERM ? "E_NO_ROOT" : "E_XSK", -err, NULL, "host-mode delivery on %s: %s: %s", ifname, step,
			 strerror(-err));
		goto fail;
	}
	sf_netns_leave(saved);
	saved = -1;
	struct sf_tap *t = calloc(1, sizeof(*t));
	if (!t) {
		sf_throw(env, "E_KERNEL", ENOMEM, NULL, "out of memory");
		goto fail;
	}
	t->magic = TAP_MAGIC;
	t->fd = fd;
	snprintf(t->name, sizeof(t->name), "%s", tap_name);
	napi_value handle, obj;
	if (napi_create_external(env, t, finalize_tap, NULL, &handle) != napi_ok || napi_create_object(env, &obj) != napi_ok) {
		free(t);
		sf_throw_pending(env, "internal Node-API failure");
		goto fail;
	}
	sf_set(env, obj, "handle", handle);
	sf_set(env, obj, "fd", sf_u32(env, (uint32_t)fd));
	sf_set(env, obj, "tapName", sf_str(env, tap_name));
	sf_set(env, obj, "ifindex", sf_u32(env, ifindex));
	result = obj;
	return result;
fail:
	if (fd >= 0)
		close(fd);
	sf_netns_leave(saved);
	return NULL;
}

/* tapWrite(handle, from, descs, count) -> delivered */
static napi_value tap_write(napi_env env, napi_callback_info info)
{
	struct sf_batch b;
	struct sf_tap *t = sf_batch_args(env, info, "deliver(from, descs, count)", get_open_tap, "from", "count", &b);
	if (!t)
		return NULL;
	uint8_t *from = b.buf;
	uint32_t *descs = b.descs;
	size_t from_len = b.buf_len;
	uint32_t count = b.count;
	if ((size_t)count * 2 > b.descs_len)
		return sf_throw(env, "E_USAGE", 0, NULL, "deliver: %u frames but descs holds %zu", count, b.descs_len / 2);
	uint32_t ok = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t o = descs[2 * i], len = descs[2 * i + 1];
		if (o + len > from_len || len < 14) {
			t->failed++;
			continue;
		}
		struct virtio_net_hdr h;
		tap_vnet_hdr(from + o, len, &h);
		struct iovec iov[2] = { { &h, sizeof(h) }, { from + o, len } };
		if (writev(t->fd, iov, 2) == (ssize_t)(sizeof(h) + len)) {
			ok++;
			t->bytes += len;
		} else {
			t->failed++;
		}
	}
	t->delivered += ok;
	return sf_u32(env, ok);
}

static napi_value tap_stats(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct sf_tap *t = get_tap(env, argv[0], false);
	if (!t)
		return NULL;
	SF_TRY(env, napi_create_object(env, &o));
	sf_set(env, o, "delivered", sf_f64(env, (double)t->delivered));
	sf_set(env, o, "failed", sf_f64(env, (double)t->failed));
	sf_set(env, o, "bytes", sf_f64(env, (double)t->bytes));
	return o;
}

static napi_value tap_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct sf_tap *t = get_tap(env, argv[0], false);
	if (!t)
		return NULL;
	tap_teardown(t);
	return sf_undefined(env);
}

void sf_register_tap(napi_env env, napi_value exports)
{
	sf_export(env, exports, "tapOpen", tap_open);
	sf_export(env, exports, "tapWrite", tap_write);
	sf_export(env, exports, "tapStats", tap_stats);
	sf_export(env, exports, "tapClose", tap_close);
}
