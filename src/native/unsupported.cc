// Non-Linux build: AF_PACKET does not exist. The TypeScript wrapper reports
// ERR_NOT_LINUX before it ever calls into this module.
#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("supported", Napi::Boolean::New(env, false));
  return exports;
}
NODE_API_MODULE(podwire_native, Init)
