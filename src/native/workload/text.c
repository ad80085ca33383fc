/*
 * Client bytes made safe for a log line, and query strings decoded as Go's
 * FormValue: pure, no I/O.
 */
#include <stdio.h>
#include <string.h>
#include "text.h"

/* Client bytes in a log line: printable ASCII as is, the rest as \xNN, cut at `max`. */
void sanitize(char *dst, size_t dstlen, const char *src, size_t n, size_t max) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 5 < dstlen; i++) {
    unsigned char ch = (unsigned char)src[i];
    if (i >= max) {
      o += (size_t)snprintf(dst + o, dstlen - o, "...");
      break;
    }
    if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') dst[o++] = (char)ch;
    else o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", ch);
  }
  dst[o < dstlen ? o : dstlen - 1] = 0;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

void url_decode(const char *s, size_t n, char *out, size_t outlen) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < outlen; i++) {
    if (s[i] == '+') out[o++] = ' ';
    else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else out[o++] = s[i];
  }
  out[o] = 0;
}

/* The first value of `key` in a query string, decoded (Go's FormValue). */
int query_get(const char *q, const char *key, char *out, size_t outlen) {
  out[0] = 0;
  if (!q) return 0;
  const char *p = q;
  while (*p) {
    size_t len = strcspn(p, "&");
    const char *eq = memchr(p, '=', len);
    size_t nlen = eq ? (size_t)(eq - p) : len;
    char name[128];
    url_decode(p, nlen, name, sizeof name);
    if (!strcmp(name, key)) {
      if (eq) url_decode(eq + 1, len - nlen - 1, out, outlen);
      return 1;
    }
    p += len;
    if (*p == '&') p++;
  }
  return 0;
}
