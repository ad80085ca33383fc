{
  "targets": [
    {
      "target_name": "podwire_native",
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "sources": ["src/native/packet_socket.cc"] }],
        ["OS!='linux'", { "sources": ["src/native/unsupported.cc"] }]
      ]
    }
  ],
  "conditions": [
    ["OS=='linux'", {
      "targets": [
        {
          "target_name": "podwire-workload",
          "type": "executable",
          "sources": [
            "src/native/workload/main.c",
            "src/native/workload/args.c",
            "src/native/workload/conn.c",
            "src/native/workload/connect.c",
            "src/native/workload/dial.c",
            "src/native/workload/http.c",
            "src/native/workload/http_parse.c",
            "src/native/workload/listen.c",
            "src/native/workload/loop.c",
            "src/native/workload/netexec.c",
            "src/native/workload/text.c",
            "src/native/workload/udp.c",
            "src/native/workload/util.c"
          ],
          "cflags": ["-O2", "-Wall", "-Wextra"],
          "cflags_c": ["-std=gnu11"]
        }
      ]
    }]
  ]
}
