// dist/release-memory.node: glibc's malloc_trim(0) for an idle collector (packages/sdk/src/runtime/idle-memory.ts).
//
// A catch-up leaves glibc's heaps with megabytes of freed chunks below a few that are still in use: free()
// gives memory back to the system only from the top of a heap, so on a daemon measured idle after 100,000
// events 13 of the 18 MiB of the main heap were free and resident (docs/benchmarks.md, "Issue 20: idle
// memory, wave 8"). malloc_trim(0) returns every free page inside every arena (MADV_DONTNEED); Node and V8
// never call it and JavaScript cannot reach it, hence this one function. Built by bundle-app with the C
// compiler it finds; without one there is no helper and the idle collection runs without it.
//
// The three Node-API functions it uses are declared here (Node-API is a stable C ABI; these are part of its
// version 1, Node 10 and later), so a C compiler is all it needs: no Node headers, no node-gyp.
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
extern napi_status napi_get_boolean(napi_env env, bool value, napi_value *result);
extern napi_status napi_create_function(napi_env env, const char *utf8name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *utf8name, napi_value value);
#define napi_ok 0
#define NAPI_AUTO_LENGTH SIZE_MAX

/** trim(): true when glibc gave memory back to the system, false when there was none (or no glibc). */
static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#if defined(__GLIBC__)
  released = malloc_trim(0);
#endif
  napi_value result;
  if (napi_get_boolean(env, released != 0, &result) != napi_ok) return NULL;
  return result;
}

/** What Node calls when the helper is loaded (process.dlopen): exports.trim. */
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
