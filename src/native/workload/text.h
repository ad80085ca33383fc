/* Pure text helpers over client bytes (no I/O, no globals): what the fuzz target links. */
#ifndef PODWIRE_WORKLOAD_TEXT_H
#define PODWIRE_WORKLOAD_TEXT_H
#include <stddef.h>

/* Client bytes in a log line: printable ASCII as is, the rest as \xNN, cut at `max`. */
void sanitize(char *dst, size_t dstlen, const char *src, size_t n, size_t max);
/* %XX and '+' decoded, at most outlen - 1 bytes, NUL-terminated */
void url_decode(const char *s, size_t n, char *out, size_t outlen);
/* The first value of `key` in a query string, decoded (Go's FormValue); 1 when the key is there. */
int query_get(const char *q, const char *key, char *out, size_t outlen);

#endif
