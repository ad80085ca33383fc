/*
 * The HTTP/1.1 request parser: request line, headers, framing (Content-
 * Length, no chunked bodies), keep-alive. Pure: the fuzz target
 * (fuzz/http_parse_fuzz.c) drives it directly.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http_parse.h"
#include "text.h"

static int is_tchar(int ch) {
  return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int token_in_list(const char *list, const char *token) {
  size_t tl = strlen(token);
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    size_t n = strcspn(p, ",");
    size_t m = n;
    while (m && (p[m - 1] == ' ' || p[m - 1] == '\t')) m--;
    if (m == tl && !strncasecmp(p, token, tl)) return 1;
    p += n;
  }
  return 0;
}

int http_parse(char *in, size_t in_len, size_t *scanned, struct req *r, size_t *end_out, uint64_t *clen_out) {
  memset(r, 0, sizeof *r);
  /* the method: fail at once on bytes no request starts with (TLS, binary) */
  for (size_t i = 0; i < in_len && in[i] != ' '; i++) {
    if (!is_tchar((unsigned char)in[i]) || i >= 32) return 400;
  }

  size_t end = 0;
  for (size_t i = *scanned; i < in_len; i++) {
    if (in[i] != '\n') continue;
    if (i + 1 < in_len && in[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (i + 2 < in_len && in[i + 1] == '\r' && in[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (!end) {
    if (in_len >= MAX_HEADER_BYTES) return memchr(in, '\n', in_len) ? 431 : 414;
    *scanned = in_len > 2 ? in_len - 2 : 0;
    return 0;
  }
  if (memchr(in, 0, end)) return 400;

  char *p = in;
  char *nl = memchr(p, '\n', end);
  size_t linelen = (size_t)(nl - p);
  if (linelen && p[linelen - 1] == '\r') linelen--;
  sanitize(r->line, sizeof r->line, p, linelen, 200);
  p[linelen] = 0;
  char *sp1 = strchr(p, ' ');
  char *sp2 = strrchr(p, ' ');
  if (!sp1 || sp1 == sp2 || sp2 - sp1 < 2 || strchr(p, '\r')) return 400;
  *sp1 = 0;
  *sp2 = 0;
  snprintf(r->method, sizeof r->method, "%.32s", p); /* at most 32: checked above */
  r->target = sp1 + 1;
  const char *ver = sp2 + 1;
  for (const unsigned char *t = (const unsigned char *)r->target; *t; t++) {
    if (*t <= 0x20 || *t == 0x7f) return 400;
  }
  if (strncmp(ver, "HTTP/", 5) || !isdigit((unsigned char)ver[5]) || ver[6] != '.' || !isdigit((unsigned char)ver[7]) || ver[8]) return 400;
  if (ver[5] != '1') return 505;
  r->minor = ver[7] == '0' ? 0 : 1;

  int hosts = 0, te = 0, expect100 = 0, conn_close = 0, conn_keep = 0, have_len = 0;
  uint64_t clen = 0;
  char *line = nl + 1;
  while (line < in + end) {
    char *e = memchr(line, '\n', (size_t)(in + end - line));
    size_t n = (size_t)(e - line);
    if (n && line[n - 1] == '\r') n--;
    line[n] = 0;
    if (!n) break;
    char *colon = strchr(line, ':');
    if (line[0] == ' ' || line[0] == '\t' || !colon || colon == line || strchr(line, '\r')) return 400;
    for (char *t = line; t < colon; t++) {
      if (!is_tchar((unsigned char)*t)) return 400;
    }
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = 0;
    if (!strcasecmp(line, "host")) {
      hosts++;
    } else if (!strcasecmp(line, "content-length")) {
      uint64_t x = 0;
      if (!*v || strlen(v) > 18 || strspn(v, "0123456789") != strlen(v)) return 400;
      x = strtoull(v, NULL, 10);
      if (have_len && x != clen) return 400;
      have_len = 1;
      clen = x;
    } else if (!strcasecmp(line, "transfer-encoding")) {
      te = 1;
    } else if (!strcasecmp(line, "connection")) {
      conn_close |= token_in_list(v, "close");
      conn_keep |= token_in_list(v, "keep-alive");
    } else if (!strcasecmp(line, "expect")) {
      expect100 |= !strcasecmp(v, "100-continue");
    }
    line = e + 1;
  }
  if (r->minor == 1 && hosts != 1) return 400;
  if (te) { /* chunked request bodies are not supported: ask for a length */
    return 411;
  }
  r->keep = r->minor == 1 ? !conn_close : (conn_keep && !conn_close);
  /* a client waiting for "100 Continue" may never send the body: do not wait for it */
  if (expect100 && clen) r->keep = 0;
  r->head = !strcmp(r->method, "HEAD");

  if (r->target[0] == '/') {
    r->path = r->target;
  } else if (!strncasecmp(r->target, "http://", 7) || !strncasecmp(r->target, "https://", 8)) {
    char *slash = strchr(strstr(r->target, "//") + 2, '/');
    r->path = slash ? slash : "/";
  } else if (!strcmp(r->target, "*") && !strcmp(r->method, "OPTIONS")) {
    r->path = r->target;
  } else {
    return 400;
  }
  char *q = strchr(r->path, '?');
  if (q) {
    *q = 0;
    r->query = q + 1;
  }
  *end_out = end;
  *clen_out = clen;
  return HTTP_PARSED;
}
