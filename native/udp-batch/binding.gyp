{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["src/udp_batch.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["src/udp_batch.c"] }]]
    }
  ]
}
