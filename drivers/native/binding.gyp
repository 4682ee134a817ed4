{
  'targets': [
    {
      'target_name': 'rampart_native',
      'sources': ['src/addon.c', 'src/aead.c', 'src/netio.c', 'src/esp_batch.c'],
      'cflags': ['-O2', '-Wall', '-Wno-deprecated-declarations'],
      'defines': ['NAPI_VERSION=8'],
    }
  ]
}
