/*
 * Answering HTTP: status lines, the response and its log line, failures, the
 * request loop step over a connection's input, the identity page and serve-
 * hostname's page.
 */
#include "workload.h"

void (*http_handler)(struct conn *, struct req *);
int hostname_close;

const char *reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return NULL;
  }
}

void http_date(char *out, size_t n) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Writes one whole response (status line, headers, body) to `c` and logs it. */
void http_reply(struct conn *c, const struct req *r, int status, const char *extra_headers, const char *body, size_t len) {
  char date[64], code_text[32];
  const char *why = reason(status);
  if (!why) {
    snprintf(code_text, sizeof code_text, "status code %d", status);
    why = code_text;
  }
  int bodyless = status == 204 || status == 304;
  http_date(date, sizeof date);
  out_printf(c, "HTTP/1.1 %d %s\r\nServer: %s (podwire built-in)\r\nDate: %s\r\n", status, why, id.server, date);
  if (!bodyless) {
    if (len) out_printf(c, "Content-Type: text/plain; charset=utf-8\r\n");
    out_printf(c, "Content-Length: %zu\r\n", len);
  }
  out_printf(c, "Connection: %s\r\nX-Pod-Name: %s\r\n%s\r\n", r->keep ? "keep-alive" : "close", id.pod_header, extra_headers ? extra_headers : "");
  if (!r->head && !bodyless) out_append(c, body, len);
  printf("%s \"%s\" %d %zu\n", c->peer, r->line, status, r->head || bodyless ? (size_t)0 : len);
  if (!r->keep) c->close_after = 1;
}

void http_reply_str(struct conn *c, const struct req *r, int status, const char *body) {
  http_reply(c, r, status, NULL, body, strlen(body));
}

/*
 * A request we cannot serve: answer `status` and close; the rest of the
 * input is dropped. `line`: the request line as the parser logged it, when
 * it got that far (the buffer then has NULs where the parser split it);
 * else the first line of the raw input.
 */
static void http_fail(struct conn *c, int status, const char *line) {
  struct req r;
  memset(&r, 0, sizeof r);
  if (line[0]) {
    snprintf(r.line, sizeof r.line, "%s", line);
  } else {
    const char *nl = memchr(c->in, '\n', c->in_len);
    size_t n = nl ? (size_t)(nl - c->in) : c->in_len;
    if (n && c->in[n - 1] == '\r') n--;
    sanitize(r.line, sizeof r.line, c->in, n, 200);
  }
  char body[64];
  snprintf(body, sizeof body, "%d %s\n", status, reason(status));
  http_reply(c, &r, status, NULL, body, strlen(body));
  c->in_len = 0;
  c->discard = 0;
}

/*
 * Parses one request from c->in if its header block is complete and answers
 * it. Returns 1 when a request (or an error) was handled, 0 when more bytes
 * are needed.
 */
int http_try_request(struct conn *c, int64_t now) {
  size_t skip = 0;
  while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n')) skip++;
  if (skip) consume_in(c, skip);
  if (!c->in_len) return 0;
  if (!c->req_started) c->req_started = now;

  struct req r;
  size_t end = 0;
  uint64_t clen = 0;
  int st = http_parse(c->in, c->in_len, &c->scanned, &r, &end, &clen);
  if (st == HTTP_NEED_MORE) return 0;
  if (st != HTTP_PARSED) {
    http_fail(c, st, r.line);
    return 1;
  }
  c->req_started = 0;
  http_handler(c, &r);
  consume_in(c, end);
  c->discard = clen;
  return 1;
}

/* The identity page: http mode, and HTTP clients of the generic listener. */
void page_handler(struct conn *c, struct req *r) {
  char body[1024];
  snprintf(body, sizeof body, "%s on pod %s/%s (%s, node %s): you came from %s\n", id.server, id.ns, id.pod, c->local, id.node, c->peer);
  if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
    /* nginx answers 405 to other methods on static content */
    http_reply(c, r, 405, "Allow: GET, HEAD\r\n", body, strlen(body));
  } else if (!strcmp(r->path, "/healthz")) {
    http_reply_str(c, r, 200, "ok\n");
  } else {
    http_reply_str(c, r, 200, body);
  }
}

void hostname_handler(struct conn *c, struct req *r) {
  if (hostname_close) r->keep = 0;
  http_reply_str(c, r, 200, id.hostname); /* upstream: fmt.Fprintf(w, "%s", hostname), no newline */
}
