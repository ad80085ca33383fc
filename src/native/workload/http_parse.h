/*
 * The HTTP/1.1 request parser of podwire-workload: pure (bytes in, a
 * request or a status out; no I/O, no globals), so a fuzzer can drive it.
 */
#ifndef PODWIRE_WORKLOAD_HTTP_PARSE_H
#define PODWIRE_WORKLOAD_HTTP_PARSE_H
#include <stddef.h>
#include <stdint.h>

#define MAX_HEADER_BYTES 16384 /* request line + headers; more is 414/431 */

struct req {
  char method[33];
  char *target, *path, *query;
  int minor, keep, head;
  char line[300]; /* the request line, sanitized, for the log */
};

enum { HTTP_NEED_MORE = 0, HTTP_PARSED = 1 };

/*
 * Parses the request at the start of in[0..in_len) (leading blank lines
 * already skipped). HTTP_NEED_MORE: the header block is not complete yet
 * (*scanned: where to look for its end next time). HTTP_PARSED: *r points
 * into `in` (the parser writes NULs into it), the header block is *end
 * bytes and a body of *clen bytes follows. Anything else is the status to
 * answer before closing (400, 411, 414, 431, 505); r->line then holds the
 * request line (sanitized, as sent) if the parser read that far, else "".
 */
int http_parse(char *in, size_t in_len, size_t *scanned, struct req *r, size_t *end, uint64_t *clen);

#endif
