{
  "targets": [
    {
      "target_name": "kubelab_netns",
      "sources": ["kubelab_netns.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
