/*
 * Sending frames from an AF_XDP socket's TX ring, written once for inline
 * mode's transmit() (sf_xsk.c) and for the live bench's C receiver that
 * forwards the same way (bench/live/xsk_receiver.c -X), so the bench's
 * baseline does exactly the daemon's per-frame work. Plain C, no Node-API.
 */
#ifndef SECUXFLOW_XSK_TX_H
#define SECUXFLOW_XSK_TX_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

/* A TX ring's UMEM frames: the free ones on a stack, taken to send and given back on completion. */
struct xsk_tx_frames {
	__u64 *free; /* addresses of free frames */
	__u32 n_free;
	__u32 frame_size;
	uint64_t queued, completed;
};

/* Takes completed frames back onto the free stack. */
static inline void xsk_tx_reclaim(struct xsk_tx_frames *f, struct xsk_ring_cons *comp, __u32 ring_size)
{
	__u32 idx = 0;
	__u32 n = xsk_ring_cons__peek(comp, ring_size, &idx);
	for (__u32 i = 0; i < n; i++)
		f->free[f->n_free++] = *xsk_ring_cons__comp_addr(comp, idx + i) & ~(__u64)(f->frame_size - 1);
	xsk_ring_cons__release(comp, n);
	f->completed += n;
}

/*
 * Copies up to `count` frames of `from` (frame i at descs[2i], length
 * descs[2i+1], already checked against `from` and the frame size) into free
 * frames, queues them and kicks the kernel; returns how many were queued.
 * Each kick counts in *kicks.
 */
static inline __u32 xsk_tx_send(struct xsk_tx_frames *f, struct xsk_ring_prod *tx, struct xsk_ring_cons *comp, __u32 ring_size, int fd,
				void *area, const uint8_t *from, const uint32_t *descs, __u32 count, uint64_t *kicks)
{
	xsk_tx_reclaim(f, comp, ring_size);
	__u32 n = count < f->n_free ? count : f->n_free;
	__u32 idx = 0;
	n = n ? xsk_ring_prod__reserve(tx, n, &idx) : 0;
	for (__u32 i = 0; i < n; i++) {
		__u64 addr = f->free[--f->n_free];
		struct xdp_desc *d = xsk_ring_prod__tx_desc(tx, idx + i);
		memcpy(xsk_umem__get_data(area, addr), from + descs[2 * i], descs[2 * i + 1]);
		d->addr = addr;
		d->len = descs[2 * i + 1];
		d->options = 0;
	}
	if (n) {
		xsk_ring_prod__submit(tx, n);
		f->queued += n;
	}
	/*
	 * Copy mode sends from the sendto() call, at most 32 frames per call
	 * (the kernel's TX_BATCH_SIZE), answering EAGAIN while more are queued:
	 * kick until the batch is out, so no frame waits for the next send.
	 * Zero-copy drivers only need a kick when they flag it.
	 */
	for (__u32 kick = 0; n && kick < 2 + ring_size / 32 && xsk_ring_prod__needs_wakeup(tx); kick++) {
		(*kicks)++;
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			break;
		if (errno != EAGAIN && errno != EBUSY)
			break; /* ENOBUFS, ENETDOWN: the frames stay queued for the next kick */
		xsk_tx_reclaim(f, comp, ring_size); /* EAGAIN may also mean a full completion ring */
	}
	return n;
}

#endif
