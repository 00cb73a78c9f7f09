/*
 * secuxflow_native: a thin Node-API wrapper over libbpf and libxdp. Policy
 * (what to pin where, which mode to try) lives in TypeScript
 * (host/kernel/native.ts); this layer only maps calls and errno values.
 */
#include "sf_napi.h"

static napi_value init(napi_env env, napi_value exports)
{
	sf_register_object(env, exports);
	sf_register_xdp(env, exports);
	sf_register_maps(env, exports);
	sf_register_xsk(env, exports);
	sf_register_tap(env, exports);
	sf_register_sched(env, exports);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
