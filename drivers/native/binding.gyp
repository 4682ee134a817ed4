{
  'targets': [
    {
      'target_name': 'rampart_native',
      'sources': ['src/addon.c', 'src/aead.c', 'src/netio.c'],
      'cflags': ['-O2', '-Wall', '-Wno-deprecated-declarations'],
      'defines': ['NAPI_VERSION=8'],
    }
  ]
}
