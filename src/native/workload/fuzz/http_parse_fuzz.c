/*
 * libFuzzer target for the workload's hand-written HTTP/1.1 request parser
 * (http_parse.c) and the query-string decoding netexec runs on what it
 * parses (text.c). It drives them as a connection does (loop.c, http.c):
 * input arrives in pieces into a MAX_HEADER_BYTES buffer, leading blank
 * lines are skipped, a parsed request's header block and then its body are
 * consumed, the next pipelined request follows, a failure status ends it.
 *
 * Besides what AddressSanitizer and UBSan catch, it checks properties and
 * aborts (a crash the fuzzer reports) when one fails:
 *   - the parser answers only NEED_MORE, PARSED, 400, 411, 414, 431 or 505;
 *   - a parsed request lies inside the bytes it was given, its method is a
 *     token of at most 32 bytes, its path starts with '/' (or is "*");
 *   - a failed request's log line (r.line) is the line as sent, without
 *     the NULs the parser writes into the buffer;
 *   - the outcome does not depend on how the bytes were cut: the same input
 *     given at once and given in pieces (cut where the first byte says)
 *     yields the same requests and the same final status.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined
 *          -I src/native/workload http_parse_fuzz.c ../http_parse.c ../text.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_parse.h"
#include "text.h"

#define MAX_EVENTS 64

struct outcome {
  int n;                      /* requests parsed */
  char what[MAX_EVENTS][96];  /* method and path of each, then the final status */
  int final;                  /* NEED_MORE at the end of input, or a failure status */
};

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "property failed: %s\n", what);
    abort();
  }
}

/* What netexec reads from a query string (netexec.c, dial.c), into buffers of the sizes it uses. */
static void decode_query(const char *q) {
  static const char *const keys[] = {"msg", "code", "host", "port", "request", "protocol", "tries", "location", "timeout", "wait"};
  char big[4096], small[64];
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    query_get(q, keys[i], big, sizeof big);
    check(strlen(big) < sizeof big, "query_get stays inside its buffer");
    query_get(q, keys[i], small, sizeof small);
    check(strlen(small) < sizeof small, "query_get stays inside a small buffer");
  }
}

/*
 * Feeds data[0..size) to the parser `cut` bytes at a time (0: all at
 * once), as conn_read/conn_process/http_try_request do.
 */
static void run(const uint8_t *data, size_t size, size_t cut, struct outcome *o) {
  static char in[MAX_HEADER_BYTES];
  size_t in_len = 0, scanned = 0, fed = 0;
  uint64_t discard = 0;
  memset(o, 0, sizeof *o);
  for (;;) {
    /* the bytes that have arrived (recv: at most what the buffer holds) */
    size_t room = sizeof in - in_len, want = cut ? cut : size - fed;
    size_t n = want < room ? want : room;
    if (n > size - fed) n = size - fed;
    memcpy(in + in_len, data + fed, n);
    in_len += n;
    fed += n;
    for (;;) { /* conn_process */
      if (discard) {
        size_t d = discard < in_len ? (size_t)discard : in_len;
        memmove(in, in + d, in_len - d);
        in_len -= d;
        scanned = 0;
        discard -= d;
        if (discard) break;
      }
      size_t skip = 0;
      while (skip < in_len && (in[skip] == '\r' || in[skip] == '\n')) skip++;
      if (skip) {
        memmove(in, in + skip, in_len - skip);
        in_len -= skip;
        scanned = 0;
      }
      if (!in_len) break;
      struct req r;
      size_t end = 0;
      uint64_t clen = 0;
      int st = http_parse(in, in_len, &scanned, &r, &end, &clen);
      if (st == HTTP_NEED_MORE) {
        check(scanned <= in_len, "scanned stays inside the input");
        break;
      }
      if (st != HTTP_PARSED) {
        check(st == 400 || st == 411 || st == 414 || st == 431 || st == 505, "a failure is 400, 411, 414, 431 or 505");
        /* what the log shows for it: the request line as sent (the buffer has NULs where it was split) */
        check(!strstr(r.line, "\\x00"), "a failed request's log line has no NUL the parser wrote");
        o->final = st;
        return;
      }
      check(end > 0 && end <= in_len, "the header block lies inside the input");
      check(strlen(r.method) <= 32, "the method has at most 32 bytes");
      /* (an absolute-form target without a path, http://host, gets the path "/") */
      check(r.path && ((r.path >= in && r.path < in + end) || !strcmp(r.path, "/")), "the path points into the header block");
      check(r.path[0] == '/' || !strcmp(r.path, "*"), "the path starts with / (or is *)");
      check(r.minor == 0 || r.minor == 1, "HTTP/1.0 or HTTP/1.1");
      check(strlen(r.line) < sizeof r.line, "the log line fits");
      if (r.query) decode_query(r.query);
      if (o->n < MAX_EVENTS - 1) snprintf(o->what[o->n], sizeof o->what[0], "%s %.60s k%d", r.method, r.path, r.keep);
      o->n++;
      memmove(in, in + end, in_len - end);
      in_len -= end;
      scanned = 0;
      discard = clen;
      if (!r.keep) { /* Connection: close: nothing after this request is read */
        o->final = -1;
        return;
      }
    }
    if (fed == size) {
      o->final = HTTP_NEED_MORE;
      return;
    }
    if (in_len == sizeof in && !discard) {
      /* full and still incomplete: the parser must have failed (414/431) before this */
      check(0, "a full buffer without a complete request is answered 414 or 431");
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t cut = 1 + data[0] % 97; /* the piece size, from the first byte */
  data++, size--;
  static struct outcome whole, pieces;
  run(data, size, 0, &whole);
  run(data, size, cut, &pieces);
  check(whole.n == pieces.n, "the same number of requests, whole or in pieces");
  for (int i = 0; i < whole.n && i < MAX_EVENTS - 1; i++)
    check(!strcmp(whole.what[i], pieces.what[i]), "the same requests, whole or in pieces");
  check(whole.final == pieces.final, "the same final status, whole or in pieces");
  /* url_decode on raw bytes, as query_get feeds it */
  char out[256];
  url_decode((const char *)data, size, out, sizeof out);
  return 0;
}
