/* XDP attach/detach/query, program info and BPF_PROG_TEST_RUN. */
#include "sf_napi.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SF_TEST_RUN_MAX_REPEAT 100000000u
#define BUSY_HINT "another XDP program is attached: remove it (xdp-loader unload / ip link set dev IF xdp off) or use --replace"

#define NO_IFACE_HINT "check the name with `ip link`"

/* The one argument, an interface name; false with a JS exception pending. */
static bool iface_arg(napi_env env, napi_callback_info info, char *name, size_t size)
{
	size_t argc = 1;
	napi_value argv[1];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
		sf_throw(env, "E_KERNEL", 0, NULL, "argument iface is required");
		return false;
	}
	return sf_arg_str(env, argv[0], "iface", name, size);
}

static napi_value if_name_to_index(napi_env env, napi_callback_info info)
{
	char name[IF_NAMESIZE + 16];
	if (!iface_arg(env, info, name, sizeof(name)))
		return NULL;
	unsigned idx = if_nametoindex(name);
	if (!idx)
		return sf_throw(env, "E_NO_IFACE", errno, NO_IFACE_HINT, "interface %s does not exist", name);
	return sf_u32(env, idx);
}

/*
 * The RX queues an AF_XDP socket can bind to (the device's real_num_rx_queues),
 * asked of the driver in this thread's network namespace: sysfs answers for
 * the namespace it was mounted in, which nsenter does not change. -1 when the
 * driver does not report channels (lo, some virtual devices).
 */
static napi_value if_rx_channels(napi_env env, napi_callback_info info)
{
	char name[IF_NAMESIZE + 16];
	if (!iface_arg(env, info, name, sizeof(name)))
		return NULL;
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	size_t len = strnlen(name, sizeof(name));
	if (len >= IF_NAMESIZE)
		return sf_throw(env, "E_NO_IFACE", ENODEV, "interface names have at most 15 characters", "interface %s does not exist", name);
	memcpy(ifr.ifr_name, name, len);
	ifr.ifr_data = (void *)&ch;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sf_throw_errno(env, errno, "opening a socket to ask the driver for its channels");
	int rc = ioctl(fd, SIOCETHTOOL, &ifr);
	int err = errno;
	close(fd);
	if (rc < 0) {
		if (err == ENODEV)
			return sf_throw(env, "E_NO_IFACE", err, NO_IFACE_HINT, "interface %s does not exist", name);
		napi_value v;
		SF_TRY(env, napi_create_int32(env, -1, &v));
		return v;
	}
	return sf_u32(env, ch.rx_count + ch.combined_count);
}

static __u32 mode_flag(const char *mode)
{
	if (!strcmp(mode, "native"))
		return XDP_FLAGS_DRV_MODE;
	if (!strcmp(mode, "skb"))
		return XDP_FLAGS_SKB_MODE;
	if (!strcmp(mode, "hw"))
		return XDP_FLAGS_HW_MODE;
	return 0;
}

static napi_value attach_error(napi_env env, int err, uint32_t ifindex, const char *mode)
{
	char what[96];
	err = err < 0 ? -err : err;
	snprintf(what, sizeof(what), "attaching XDP (%s) to ifindex %u", mode, ifindex);
	if (err == EBUSY || err == EEXIST)
		return sf_throw(env, "E_XDP_BUSY", err, BUSY_HINT, "%s: XDP program already attached by another tool", what);
	return sf_throw_errno(env, err, what);
}

static napi_value xdp_attach(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	uint32_t ifindex;
	int32_t prog_fd;
	char mode[16];
	bool replace = false;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_u32(env, argv[0], "ifindex", &ifindex) || !sf_arg_i32(env, argv[1], "progFd", &prog_fd) ||
	    !sf_arg_str(env, argv[2], "mode", mode, sizeof(mode)) || !sf_arg_bool(env, argv[3], &replace))
		return NULL;
	__u32 extra = replace ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST;
	if (!strcmp(mode, "auto")) {
		int err = bpf_xdp_attach((int)ifindex, prog_fd, XDP_FLAGS_DRV_MODE | extra, NULL);
		if (!err)
			return sf_str(env, "native");
		if (err == -EBUSY || err == -EEXIST || err == -ENODEV || err == -EPERM)
			return attach_error(env, err, ifindex, "native");
		err = bpf_xdp_attach((int)ifindex, prog_fd, XDP_FLAGS_SKB_MODE | extra, NULL);
		if (!err)
			return sf_str(env, "skb");
		return attach_error(env, err, ifindex, "skb");
	}
	__u32 flag = mode_flag(mode);
	if (!flag || flag == XDP_FLAGS_HW_MODE)
		return sf_throw(env, "E_KERNEL", EINVAL, "use native, skb or auto", "unknown XDP mode '%s'", mode);
	int err = bpf_xdp_attach((int)ifindex, prog_fd, flag | extra, NULL);
	if (err)
		return attach_error(env, err, ifindex, mode);
	return sf_str(env, mode);
}

static napi_value xdp_detach(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	uint32_t ifindex, expected = 0;
	char mode[16];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_u32(env, argv[0], "ifindex", &ifindex) || !sf_arg_str(env, argv[1], "mode", mode, sizeof(mode)))
		return NULL;
	if (argc > 2 && !sf_arg_u32(env, argv[2], "expectedProgId", &expected))
		return NULL;
	__u32 flag = mode_flag(mode);
	if (!flag)
		return sf_throw(env, "E_KERNEL", EINVAL, "use native, skb or hw", "unknown XDP mode '%s'", mode);
	int err;
	if (expected) {
		int old = bpf_prog_get_fd_by_id(expected);
		if (old < 0)
			return sf_throw(env, "E_NOT_ATTACHED", errno, NULL, "program id %u is gone: nothing to detach", expected);
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old);
		err = bpf_xdp_attach((int)ifindex, -1, flag | XDP_FLAGS_REPLACE, &opts);
		close(old);
	} else {
		err = bpf_xdp_detach((int)ifindex, flag, NULL);
	}
	if (err) {
		if (err == -EEXIST || err == -EBUSY)
			return sf_throw(env, "E_XDP_BUSY", -err, "check with `ip link show`",
					"ifindex %u: the attached program is not program %u, not detaching it", ifindex, expected);
		char what[64];
		snprintf(what, sizeof(what), "detaching XDP from ifindex %u", ifindex);
		return sf_throw_errno(env, err, what);
	}
	return sf_undefined(env);
}

static void prog_name(__u32 id, char *out, size_t cap)
{
	out[0] = 0;
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	struct bpf_prog_info pi;
	__u32 len = sizeof(pi);
	memset(&pi, 0, sizeof(pi));
	if (!bpf_obj_get_info_by_fd(fd, &pi, &len))
		snprintf(out, cap, "%s", pi.name);
	close(fd);
}

static napi_value xdp_query(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	uint32_t ifindex;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_u32(env, argv[0], "ifindex", &ifindex))
		return NULL;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query((int)ifindex, 0, &q);
	if (err) {
		char what[64];
		snprintf(what, sizeof(what), "querying XDP on ifindex %u", ifindex);
		return sf_throw_errno(env, err, what);
	}
	napi_value r, mode;
	SF_TRY(env, napi_create_object(env, &r));
	__u32 id = q.prog_id;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		mode = sf_str(env, "native");
		break;
	case XDP_ATTACHED_SKB:
		mode = sf_str(env, "skb");
		break;
	case XDP_ATTACHED_HW:
		mode = sf_str(env, "hw");
		break;
	case XDP_ATTACHED_MULTI:
		/* One program per mode: report the native one first. */
		id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
		mode = sf_str(env, q.drv_prog_id ? "native" : "skb");
		break;
	default:
		napi_get_null(env, &mode);
	}
	char name[BPF_OBJ_NAME_LEN + 1];
	if (id)
		prog_name(id, name, sizeof(name));
	else
		name[0] = 0;
	sf_set(env, r, "progId", sf_u32(env, id));
	sf_set(env, r, "progName", sf_str(env, name));
	sf_set(env, r, "mode", mode);
	return r;
}

static napi_value prog_info(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (!sf_fd_arg(env, info, &fd))
		return NULL;
	struct bpf_prog_info pi;
	if (!sf_obj_info(env, fd, &pi, sizeof(pi), "reading program info"))
		return NULL;
	napi_value r;
	SF_TRY(env, napi_create_object(env, &r));
	sf_set(env, r, "id", sf_u32(env, pi.id));
	sf_set(env, r, "name", sf_str(env, pi.name));
	return r;
}

static napi_value prog_test_run(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	int32_t fd;
	uint32_t repeat;
	void *in, *out;
	size_t in_len, out_len;
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!sf_arg_i32(env, argv[0], "progFd", &fd) || !sf_arg_bytes(env, argv[1], "data", &in, &in_len) ||
	    !sf_arg_u32(env, argv[2], "repeat", &repeat) || !sf_arg_bytes(env, argv[3], "out", &out, &out_len))
		return NULL;
	/* The kernel reads an output size of 0 as "no limit" and would write the
	 * whole packet there; a bound on repeat keeps a call from blocking this
	 * thread for minutes (the bench uses up to a million). */
	if (out_len == 0)
		return sf_throw(env, "E_KERNEL", EINVAL, NULL, "the output buffer for BPF_PROG_TEST_RUN is empty");
	if (repeat > SF_TEST_RUN_MAX_REPEAT)
		return sf_throw(env, "E_KERNEL", EINVAL, NULL, "repeat %u is over %u", repeat, SF_TEST_RUN_MAX_REPEAT);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len, .data_out = out,
		    .data_size_out = (__u32)out_len, .repeat = (int)(repeat ? repeat : 1));
	/* The kernel's duration is a whole number of ns per run; this thread's
	 * CPU time over the call gives the fraction (the call's own setup, spread
	 * over a large repeat count, is a few thousandths of a ns). */
	struct timespec t0, t1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	int err = bpf_prog_test_run_opts(fd, &opts);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	if (err) {
		int e = errno;
		if (e == EINVAL && in_len < 14)
			return sf_throw(env, "E_KERNEL", e, "XDP test runs need at least an Ethernet header (14 bytes)",
					"BPF_PROG_TEST_RUN refused a %zu-byte packet", in_len);
		return sf_throw_errno(env, e, "BPF_PROG_TEST_RUN");
	}
	napi_value r;
	SF_TRY(env, napi_create_object(env, &r));
	sf_set(env, r, "retval", sf_u32(env, opts.retval));
	sf_set(env, r, "durationNs", sf_u32(env, opts.duration));
	sf_set(env, r, "cpuNs", sf_f64(env, (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)));
	sf_set(env, r, "sizeOut", sf_u32(env, opts.data_size_out));
	return r;
}

void sf_register_xdp(napi_env env, napi_value exports)
{
	sf_export(env, exports, "ifNameToIndex", if_name_to_index);
	sf_export(env, exports, "ifRxChannels", if_rx_channels);
	sf_export(env, exports, "xdpAttach", xdp_attach);
	sf_export(env, exports, "xdpDetach", xdp_detach);
	sf_export(env, exports, "xdpQuery", xdp_query);
	sf_export(env, exports, "progInfo", prog_info);
	sf_export(env, exports, "progTestRun", prog_test_run);
}
