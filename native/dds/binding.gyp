# The CycloneDDS addon (native/dds/build.mjs runs idlc into gen/ first, then node-gyp with this file).
{
  "targets": [
    {
      "target_name": "h1_dds",
      "sources": ["src/dds_addon.c", "gen/unitree_go.c"],
      "include_dirs": ["gen", "<!@(echo ${CYCLONEDDS_HOME:+$CYCLONEDDS_HOME/include})"],
      "libraries": ["<!@(echo ${CYCLONEDDS_HOME:+-L$CYCLONEDDS_HOME/lib -Wl,-rpath,$CYCLONEDDS_HOME/lib})", "-lddsc", "-lm"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
