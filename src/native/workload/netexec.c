/*
 * agnhost netexec's HTTP endpoints (/hostname, /clientip, /echo, /exit,
 * /redirect, /dial …).
 */
#include "workload.h"

const char *http_override;
int64_t started_ms;

static void go_now(char *out, size_t n) {
  struct timespec ts;
  struct tm tm;
  char date[64], zone[32], frac[16];
  clock_gettime(CLOCK_REALTIME, &ts);
  localtime_r(&ts.tv_sec, &tm);
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  strftime(zone, sizeof zone, "%z %Z", &tm);
  snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
  for (size_t l = strlen(frac); l > 1 && frac[l - 1] == '0'; l--) frac[l - 1] = 0; /* Go trims zeros */
  if (!frac[1]) frac[0] = 0;
  int64_t up = now_ms() - started_ms;
  snprintf(out, n, "%s%s %s m=+%lld.%03lld000000", date, frac, zone, (long long)(up / 1000), (long long)(up % 1000));
}

static void schedule_exit(int code, int64_t wait_ms, int64_t grace_ms) {
  if (exit_at) return;
  exit_at = now_ms() + wait_ms;
  exit_code = code;
  exit_grace_ms = grace_ms;
}

void netexec_handler(struct conn *c, struct req *r) {
  char path[2048], query[4096] = "", a[4096], b[64], d[64];
  if (http_override) { /* --http-override: answer every request as if it were this GET */
    const char *qm = strchr(http_override, '?');
    size_t pl = qm ? (size_t)(qm - http_override) : strlen(http_override);
    snprintf(path, sizeof path, "%.*s", (int)pl, http_override);
    if (qm) snprintf(query, sizeof query, "%s", qm + 1);
  } else {
    snprintf(path, sizeof path, "%s", r->path);
    if (r->query) snprintf(query, sizeof query, "%s", r->query);
  }
  if (!strcmp(path, "/hostname") || !strcmp(path, "/hostName")) {
    http_reply_str(c, r, 200, id.hostname);
  } else if (!strcmp(path, "/clientip")) {
    http_reply_str(c, r, 200, c->peer);
  } else if (!strcmp(path, "/healthz")) {
    /* upstream: 200 once the UDP server runs, else 412 (so also with --udp-port=-1) */
    http_reply_str(c, r, udp_ready ? 200 : 412, "");
  } else if (!strcmp(path, "/echo")) {
    long code = 200;
    query_get(query, "msg", a, sizeof a);
    if (query_get(query, "code", b, sizeof b) && b[0]) {
      if (!parse_int(b, LONG_MIN, LONG_MAX, &code)) {
        char msg[160];
        sanitize(d, sizeof d, b, strlen(b), 40);
        snprintf(msg, sizeof msg, "argument 'code' must be an integer or empty, got \"%s\"\n", d);
        http_reply_str(c, r, 200, msg);
        return;
      }
      if (code < 200 || code > 999) {
        http_reply_str(c, r, 400, "podwire: /echo supports status codes 200-999\n");
        return;
      }
    }
    http_reply_str(c, r, (int)code, a);
  } else if (!strcmp(path, "/exit") || !strcmp(path, "/shutdown")) {
    long code = 0;
    int64_t wait_ms = 0, timeout_ms = 0;
    if (!strcmp(path, "/exit")) {
      char msg[200];
      query_get(query, "code", a, sizeof a);
      query_get(query, "timeout", b, sizeof b);
      query_get(query, "wait", d, sizeof d);
      if (b[0] && !parse_duration(b, &timeout_ms)) {
        snprintf(msg, sizeof msg, "argument 'timeout' must be a valid golang duration or empty, got \"%.40s\"\n", b);
        http_reply_str(c, r, 200, msg);
        return;
      }
      if (d[0] && !parse_duration(d, &wait_ms)) {
        snprintf(msg, sizeof msg, "argument 'wait' must be a valid golang duration or empty, got \"%.40s\"\n", d);
        http_reply_str(c, r, 200, msg);
        return;
      }
      if (a[0] && !parse_int(a, INT32_MIN, INT32_MAX, &code)) {
        snprintf(msg, sizeof msg, "argument 'code' must be an integer [0-127] or empty, got \"%.40s\"\n", a);
        http_reply_str(c, r, 200, msg);
        return;
      }
    }
    /* upstream exits without answering; podwire answers first, so clients see a reply */
    printf("Will begin shutdown in %lldms, allowing %lldms for connections to close, then will exit with %ld\n", (long long)wait_ms, (long long)timeout_ms, code);
    r->keep = 0;
    http_reply_str(c, r, 200, "");
    schedule_exit((int)(code & 0xff), wait_ms, timeout_ms);
  } else if (!strcmp(path, "/dial")) {
    netexec_dial(c, r);
  } else if (!strcmp(path, "/redirect")) {
    long code = 302;
    query_get(query, "location", a, sizeof a);
    if (query_get(query, "code", b, sizeof b) && b[0] && (!parse_int(b, 300, 399, &code))) {
      http_reply_str(c, r, 200, "argument 'code' must be an integer or empty\n");
      return;
    }
    for (const unsigned char *t = (const unsigned char *)a; *t; t++) {
      if (*t < 0x20 || *t == 0x7f) {
        http_reply_str(c, r, 400, "podwire: location must not contain control characters\n");
        return;
      }
    }
    char hdr[4200];
    snprintf(hdr, sizeof hdr, "Location: %s\r\n", a);
    http_reply(c, r, (int)code, hdr, "", 0);
  } else if (!strcmp(path, "/shell")) {
    http_reply_str(c, r, 403,
                   "podwire's built-in netexec does not run shell commands: /shell needs the real agnhost image. "
                   "Run commands in the pod with podwire exec instead.\n");
  } else if (!strcmp(path, "/upload")) {
    http_reply_str(c, r, 501, "podwire's built-in netexec does not store uploads\n");
  } else {
    char now[192], body[224];
    go_now(now, sizeof now);
    snprintf(body, sizeof body, "NOW: %s", now);
    http_reply_str(c, r, 200, body);
  }
}
