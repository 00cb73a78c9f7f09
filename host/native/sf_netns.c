/*
 * Entering another network namespace for the few calls that create sockets
 * and devices there. setns(CLONE_NEWNET) moves only the calling thread, and
 * a socket or TAP keeps the namespace it was created in, so the caller
 * returns to its own namespace right after and keeps using the objects.
 */
#define _GNU_SOURCE
#include "sf_napi.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int enter(const char *path, int *saved)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		int err = -errno;
		close(self);
		return err;
	}
	int rc = setns(target, CLONE_NEWNET);
	int err = rc ? -errno : 0;
	close(target);
	if (rc) {
		close(self);
		return err;
	}
	*saved = self;
	return 0;
}

bool sf_netns_enter(napi_env env, const char *path, int *saved)
{
	*saved = -1;
	if (!path || !*path)
		return true;
	int err = enter(path, saved);
	if (err)
		sf_throw(env, err == -ENOENT ? "E_NO_IFACE" : "E_XSK", -err, "check the namespace with `ip netns list`",
			 "cannot enter network namespace %s: %s", path, strerror(-err));
	return !err;
}

void sf_netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Going back cannot fail for a namespace we were in a moment ago. */
	if (setns(saved, CLONE_NEWNET) != 0)
		abort();
	close(saved);
}
