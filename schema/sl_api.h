/* sl_api.h: what marks a declaration as part of statelog's API.
 *
 * libstatelog is compiled with -fvisibility=hidden: a function or variable
 * is exported from the shared library only when its declaration in a public
 * header carries SL_API (as zstd's ZSTDLIB_API and libgit2's GIT_EXTERN do).
 * Everything else, the components' internals and the generated protobuf-c
 * code included, stays inside the library.  tests/lib/check_exports.py
 * holds the two lists equal: every SL_API declaration is exported, and
 * nothing else is.
 */
#ifndef SL_API_H
#define SL_API_H

#if defined(__GNUC__) && __GNUC__ >= 4
#define SL_API __attribute__((visibility("default")))
#else
#define SL_API
#endif

#endif
