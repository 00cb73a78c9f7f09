/*
 * Scheduling of the calling thread only. On Linux, sched_setscheduler(0)
 * and setpriority(PRIO_PROCESS, gettid()) act on one thread, so a queue
 * worker can raise itself while the main thread and V8's helper threads
 * keep the default policy (docs/live.md says why that split matters).
 */
#define _GNU_SOURCE
#include "sf_napi.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* setThreadScheduling(realtime: boolean, value): SCHED_FIFO at priority
 * `value`, or SCHED_OTHER at nice `value`. Returns the thread id. */
static napi_value set_thread_scheduling(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	SF_TRY(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	bool realtime = false;
	int32_t value = 0;
	if (argc < 2)
		return sf_throw(env, "E_KERNEL", 0, NULL, "setThreadScheduling needs (realtime, value)");
	if (!sf_arg_bool(env, argv[0], &realtime) || !sf_arg_i32(env, argv[1], "value", &value))
		return NULL;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int rc;
	if (realtime) {
		struct sched_param p = { .sched_priority = value };
		rc = sched_setscheduler(0, SCHED_FIFO, &p);
	} else {
		struct sched_param p = { .sched_priority = 0 };
		rc = sched_setscheduler(0, SCHED_OTHER, &p);
		if (rc == 0)
			rc = setpriority(PRIO_PROCESS, (id_t)tid, value);
	}
	if (rc != 0) {
		int err = errno;
		if (err == EPERM)
			return sf_throw(env, "E_NO_ROOT", err, "run the daemon as root, or give it CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE)",
					"cannot set the queue thread's scheduling (%s %d): permission denied", realtime ? "realtime priority" : "nice", value);
		return sf_throw(env, "E_USAGE", err, realtime ? "realtime priorities are 1..99" : "nice values are -20..19",
				"cannot set the queue thread's scheduling (%s %d): %s", realtime ? "realtime priority" : "nice", value, strerror(err));
	}
	return sf_u32(env, (uint32_t)tid);
}

void sf_register_sched(napi_env env, napi_value exports)
{
	sf_export(env, exports, "setThreadScheduling", set_thread_scheduling);
}
