{
  "targets": [
    {
      "target_name": "netns_ops",
      "sources": ["src/netns_ops.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["src/netns_ops.c"] }]]
    }
  ]
}
