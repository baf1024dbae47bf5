{
  "targets": [
    {
      "target_name": "tcp_md5",
      "sources": ["src/tcp_md5.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["src/tcp_md5.c"] }]]
    }
  ]
}
