{
  "targets": [
    {
      "target_name": "secuxflow_native",
      "sources": [
        "host/native/addon.c",
        "host/native/sf_napi.c",
        "host/native/sf_object.c",
        "host/native/sf_xdp.c",
        "host/native/sf_maps.c",
        "host/native/sf_netns.c",
        "host/native/sf_xsk.c",
        "host/native/sf_tap.c",
        "host/native/sf_sched.c"
      ],
      "include_dirs": ["xdp", "/usr/include/<!(uname -m)-linux-gnu"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-format-truncation"],
      "libraries": ["-lxdp", "-lbpf", "-lelf", "-lz"]
    }
  ]
}
