// dist/release-memory.node: glibc's malloc_trim(0) for an idle collector (packages/sdk/src/runtime/idle-memory.ts).
//
// A catch-up leaves glibc's heaps with megabytes of freed chunks below a few that are still in use: free()
// gives memory back to the system only from the top of a heap, so on a daemon measured idle after 100,000
// events 13 of the 18 MiB of the main heap were free and resident (docs/benchmarks.md, "Issue 20: idle
// memory, wave 8"). malloc_trim(0) returns every free page inside every arena (MADV_DONTNEED); Node and V8
// never call it and JavaScript cannot reach it, hence this one function. Built by bundle-app with the C
// compiler and the Node headers it finds; where either is missing (or the C library is not glibc) there is
// no helper and the idle collection runs without it.
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, Trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
