/*
 * A connection's output buffer (bounded by OUT_MAX) and input consumption.
 */
#include "workload.h"

size_t pending_out(const struct conn *c) { return c->out_len - c->out_off; }

static int out_reserve(struct conn *c, size_t more) {
  if (c->out_off && c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_len + more <= c->out_cap) return 0;
  if (c->out_off) {
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
    if (c->out_len + more <= c->out_cap) return 0;
  }
  size_t cap = c->out_cap ? c->out_cap : 4096;
  while (cap < c->out_len + more) cap *= 2;
  if (cap > OUT_MAX) return -1;
  char *p = realloc(c->out, cap);
  if (!p) return -1;
  c->out = p;
  c->out_cap = cap;
  return 0;
}

void out_append(struct conn *c, const void *p, size_t n) {
  if (!n) return;
  if (out_reserve(c, n)) {
    c->dead = 1;
    return;
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
}

void out_printf(struct conn *c, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n > 0 && !out_reserve(c, (size_t)n + 1)) {
    vsnprintf(c->out + c->out_len, (size_t)n + 1, fmt, ap2);
    c->out_len += (size_t)n;
  } else if (n > 0) {
    c->dead = 1;
  }
  va_end(ap2);
}

void consume_in(struct conn *c, size_t n) {
  if (n >= c->in_len) {
    c->in_len = 0;
  } else {
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
  }
  c->scanned = 0;
}

void identity_line(struct conn *c) {
  out_printf(c, "%s on pod %s/%s (%s): you came from %s\n", id.server, id.ns, id.pod, c->local, c->peer);
}
