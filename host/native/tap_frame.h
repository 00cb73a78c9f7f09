/*
 * What a TAP needs to hand frames to the local stack as the protected
 * interface's own, written once for host-mode delivery (sf_tap.c) and for the
 * live bench's C receiver that delivers the same way (bench/live/xsk_receiver.c),
 * so the bench's baseline does exactly the daemon's per-frame work:
 *   tap_configure()  MAC and MTU copied, rp_filter=0, no IPv6 link-local,
 *                    up without ARP (sf_tap.c's header comment says why);
 *   tap_vnet_hdr()   the virtio-net header each frame is written with.
 * Plain C, no Node-API; include after the system headers below.
 */
#ifndef SECUXFLOW_TAP_FRAME_H
#define SECUXFLOW_TAP_FRAME_H

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/virtio_net.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int tap_write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, value, strlen(value));
	int err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* Copies one attribute of `from` onto `to` with its get and set ioctls; 0 or -errno with *step set. */
static inline int tap_copy_attr(int sock, const char *from, const char *to, unsigned long get, const char *get_step, unsigned long set,
		     const char *set_step, const char **step)
{
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	snprintf(req.ifr_name, IFNAMSIZ, "%s", from);
	if (ioctl(sock, get, &req) < 0)
		return *step = get_step, -errno;
	snprintf(req.ifr_name, IFNAMSIZ, "%s", to);
	if (ioctl(sock, set, &req) < 0)
		return *step = set_step, -errno;
	return 0;
}

/* Copies MAC and MTU of `from` onto `to` and brings `to` up without ARP. */
static inline int tap_configure(const char *from, const char *to, const char **step)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return *step = "opening a control socket", -errno;
	struct ifreq req;
	int err = tap_copy_attr(sock, from, to, SIOCGIFHWADDR, "reading the interface's MAC address", SIOCSIFHWADDR,
			    "setting the TAP's MAC address", step);
	if (!err)
		err = tap_copy_attr(sock, from, to, SIOCGIFMTU, "reading the interface's MTU", SIOCSIFMTU, "setting the TAP's MTU", step);
	if (err)
		goto out;
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", to);
	if ((err = tap_write_sysctl(path, "0")) != 0) {
		*step = "setting rp_filter=0 on the TAP";
		goto out;
	}
	/* absent when IPv6 is disabled: then there is nothing to keep quiet */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", to);
	tap_write_sysctl(path, "1");
	memset(&req, 0, sizeof(req));
	snprintf(req.ifr_name, IFNAMSIZ, "%s", to);
	if (ioctl(sock, SIOCGIFFLAGS, &req) < 0) {
		err = -errno, *step = "reading the TAP's flags";
		goto out;
	}
	req.ifr_flags |= IFF_UP | IFF_NOARP;
	if (ioctl(sock, SIOCSIFFLAGS, &req) < 0) {
		err = -errno, *step = "bringing the TAP up";
		goto out;
	}
out:
	close(sock);
	return err;
}

static inline uint32_t tap_sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static inline uint16_t tap_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Fills h for one frame: NEEDS_CSUM when its TCP/UDP checksum field holds
 * exactly the pseudo-header sum (a sender's offloaded, still partial
 * checksum), nothing otherwise. Untagged IPv4 (unfragmented) and IPv6 whose
 * first next header is TCP or UDP.
 */
static inline void tap_vnet_hdr(const uint8_t *f, size_t len, struct virtio_net_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < 14 + 20)
		return;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	size_t l3 = 14, l4;
	uint8_t proto;
	uint32_t pseudo;
	if (type == 0x0800) {
		const uint8_t *ip = f + l3;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		uint16_t tot = (uint16_t)(ip[2] << 8 | ip[3]);
		if ((ip[0] >> 4) != 4 || ihl < 20 || l3 + tot > len || tot < ihl || ((ip[6] & 0x3f) | ip[7]))
			return; /* not v4, truncated, or a fragment */
		proto = ip[9];
		l4 = l3 + ihl;
		pseudo = tap_sum16(ip + 12, 8, 0) + proto + (uint32_t)(tot - ihl);
	} else if (type == 0x86dd) {
		if (len < 14 + 40)
			return;
		const uint8_t *ip = f + l3;
		uint16_t plen = (uint16_t)(ip[4] << 8 | ip[5]);
		proto = ip[6];
		l4 = l3 + 40;
		if (l4 + plen > len)
			return;
		pseudo = tap_sum16(ip + 8, 32, 0) + proto + plen;
	} else {
		return;
	}
	size_t off = proto == 6 ? 16 : proto == 17 ? 6 : 0;
	if (!off || l4 + off + 2 > len)
		return;
	uint16_t field = (uint16_t)(f[l4 + off] << 8 | f[l4 + off + 1]);
	if (field != 0 && field == tap_fold(pseudo)) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)l4;
		h->csum_offset = (uint16_t)off;
	}
}

#endif
