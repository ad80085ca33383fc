/*
 * netexec /dial: a forked child dials HTTP or UDP (tries times) and answers
 * with agnhost's JSON, so the loop never blocks.
 */
#include "workload.h"

/* --- /dial: a forked child dials and answers, so the loop never blocks --- */

struct sbuf {
  char *p;
  size_t len, cap;
};

static void sb_add(struct sbuf *s, const char *p, size_t n) {
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 256;
    while (cap < s->len + n + 1) cap *= 2;
    char *np = realloc(s->p, cap);
    if (!np) _exit(1);
    s->p = np;
    s->cap = cap;
  }
  memcpy(s->p + s->len, p, n);
  s->len += n;
  s->p[s->len] = 0;
}

static void sb_str(struct sbuf *s, const char *str) { sb_add(s, str, strlen(str)); }

/* JSON string as Go's encoding/json writes it (<, > and & escaped too). */
static void sb_json(struct sbuf *s, const char *p, size_t n) {
  sb_str(s, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    char esc[8];
    if (ch == '"') sb_str(s, "\\\"");
    else if (ch == '\\') sb_str(s, "\\\\");
    else if (ch == '\n') sb_str(s, "\\n");
    else if (ch == '\r') sb_str(s, "\\r");
    else if (ch == '\t') sb_str(s, "\\t");
    else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&') {
      snprintf(esc, sizeof esc, "\\u%04x", ch);
      sb_str(s, esc);
    } else sb_add(s, (const char *)&ch, 1);
  }
  sb_str(s, "\"");
}

static void dial_http(const struct sockaddr_storage *ss, socklen_t sl, const char *request, struct sbuf *ok, struct sbuf *err) {
  char addr[80], url[2300], msg[2600], e[128];
  fmt_addr(ss, addr, sizeof addr);
  snprintf(url, sizeof url, "http://%s/%s", addr, request);
  int64_t deadline = now_ms() + DIAL_TIMEOUT_MS;
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    lowercase_errno(e, sizeof e, errno);
    snprintf(msg, sizeof msg, "Get \"%s\": dial tcp %s: socket: %s", url, addr, e);
    sb_str(err, msg);
    return;
  }
  int soerr = 0;
  socklen_t el = sizeof soerr;
  if (connect(fd, (const struct sockaddr *)ss, sl) != 0 && errno != EINPROGRESS) soerr = errno;
  else if (wait_fd(fd, POLLOUT, deadline) <= 0) soerr = ETIMEDOUT;
  else getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
  if (soerr) {
    close(fd);
    if (soerr == ETIMEDOUT) snprintf(msg, sizeof msg, "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", url);
    else {
      lowercase_errno(e, sizeof e, soerr);
      snprintf(msg, sizeof msg, "Get \"%s\": dial tcp %s: connect: %s", url, addr, e);
    }
    sb_str(err, msg);
    return;
  }
  /* the request target: the request as given, with bytes a request line cannot carry escaped */
  struct sbuf req = {0};
  sb_str(&req, "GET /");
  for (const unsigned char *t = (const unsigned char *)request; *t; t++) {
    char pct[4];
    if (*t <= 0x20 || *t >= 0x7f || strchr("\"<>\\^`{|}", *t)) {
      snprintf(pct, sizeof pct, "%%%02X", *t);
      sb_str(&req, pct);
    } else sb_add(&req, (const char *)t, 1);
  }
  sb_str(&req, " HTTP/1.1\r\nHost: ");
  sb_str(&req, addr);
  sb_str(&req, "\r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\n\r\n");
  size_t off = 0;
  int failed = 0;
  while (off < req.len && !failed) {
    ssize_t n = send(fd, req.p + off, req.len - off, MSG_NOSIGNAL);
    if (n > 0) off += (size_t)n;
    else if (n < 0 && (errno == EAGAIN || errno == EINTR)) failed = wait_fd(fd, POLLOUT, deadline) <= 0 ? ETIMEDOUT : 0;
    else failed = errno ? errno : EPIPE;
  }
  free(req.p);
  struct sbuf resp = {0};
  while (!failed) {
    char buf[8192];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      sb_add(&resp, buf, (size_t)n);
      if (resp.len > 1024 * 1024) break;
    } else if (n == 0) break;
    else if (errno == EAGAIN || errno == EINTR) failed = wait_fd(fd, POLLIN, deadline) <= 0 ? ETIMEDOUT : 0;
    else failed = errno;
  }
  close(fd);
  char *hdr_end = resp.p ? strstr(resp.p, "\r\n\r\n") : NULL;
  if (failed == ETIMEDOUT) {
    snprintf(msg, sizeof msg, "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", url);
  } else if (failed && !hdr_end) {
    lowercase_errno(e, sizeof e, failed);
    snprintf(msg, sizeof msg, "Get \"%s\": read tcp %s: %s", url, addr, e);
  } else if (!resp.len) {
    snprintf(msg, sizeof msg, "Get \"%s\": EOF", url);
  } else if (!hdr_end || strncmp(resp.p, "HTTP/1.", 7)) {
    snprintf(msg, sizeof msg, "Get \"%s\": malformed HTTP response", url);
  } else {
    /* the body: Content-Length, chunked, or up to the close */
    char *body = hdr_end + 4;
    size_t blen = resp.len - (size_t)(body - resp.p);
    *hdr_end = 0;
    char *cl = strcasestr(resp.p, "\r\ncontent-length:");
    int chunked = strcasestr(resp.p, "\r\ntransfer-encoding: chunked") != NULL;
    if (chunked) {
      struct sbuf dec = {0};
      char *p = body, *end = body + blen;
      while (p < end) {
        char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf) break;
        unsigned long sz = strtoul(p, NULL, 16);
        p = lf + 1;
        if (!sz || sz > (size_t)(end - p)) break;
        sb_add(&dec, p, sz);
        p += sz + 2;
      }
      sb_add(ok, dec.p ? dec.p : "", dec.len);
      free(dec.p);
    } else {
      if (cl) {
        unsigned long want = strtoul(cl + 17, NULL, 10);
        if (want < blen) blen = want;
      }
      sb_add(ok, body, blen);
    }
    free(resp.p);
    return;
  }
  free(resp.p);
  sb_str(err, msg);
}

static void dial_udp(const struct sockaddr_storage *ss, socklen_t sl, const char *request, struct sbuf *ok, struct sbuf *err) {
  char msg[400], e[128], raddr[80], laddr[80] = "?";
  fmt_addr(ss, raddr, sizeof raddr);
  int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (const struct sockaddr *)ss, sl) != 0) {
    lowercase_errno(e, sizeof e, errno);
    snprintf(msg, sizeof msg, "udp dial failed. err:dial udp %s: %s", raddr, e);
    sb_str(err, msg);
    if (fd >= 0) close(fd);
    return;
  }
  struct sockaddr_storage ls;
  socklen_t ll = sizeof ls;
  if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0) fmt_addr(&ls, laddr, sizeof laddr);
  if (send(fd, request, strlen(request), 0) < 0) {
    lowercase_errno(e, sizeof e, errno);
    snprintf(msg, sizeof msg, "udp connection write failed. err:write udp %s->%s: write: %s", laddr, raddr, e);
    sb_str(err, msg);
    close(fd);
    return;
  }
  char buf[2048];
  ssize_t n = -1;
  int w = wait_fd(fd, POLLIN, now_ms() + DIAL_TIMEOUT_MS);
  if (w > 0) n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  close(fd);
  if (n > 0) {
    sb_add(ok, buf, (size_t)n);
    return;
  }
  if (w <= 0) snprintf(msg, sizeof msg, "reading from udp connection failed. err:'read udp %s->%s: i/o timeout'", laddr, raddr);
  else if (n == 0) snprintf(msg, sizeof msg, "reading from udp connection failed. err:'<nil>'");
  else {
    lowercase_errno(e, sizeof e, errno);
    snprintf(msg, sizeof msg, "reading from udp connection failed. err:'read udp %s->%s: read: %s'", laddr, raddr, e);
  }
  sb_str(err, msg);
}

static void child_respond(int fd, const char *peer, const char *line, int status, const char *body) {
  char date[64];
  struct sbuf s = {0};
  char head[512];
  http_date(date, sizeof date);
  snprintf(head, sizeof head,
           "HTTP/1.1 %d %s\r\nServer: %s (podwire built-in)\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: %zu\r\nConnection: close\r\nX-Pod-Name: %s\r\n\r\n",
           status, reason(status), id.server, date, strlen(body), id.pod_header);
  sb_str(&s, head);
  sb_str(&s, body);
  for (size_t off = 0; off < s.len;) {
    ssize_t n = send(fd, s.p + off, s.len - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += (size_t)n;
  }
  printf("%s \"%s\" %d %zu\n", peer, line, status, strlen(body));
  fflush(stdout);
  shutdown(fd, SHUT_WR);
  close(fd);
}

void netexec_dial(struct conn *c, struct req *r) {
  char host[256], port[64], request[2048], protocol[32], tries_s[32], msg[512];
  const char *q = r->query;
  query_get(q, "host", host, sizeof host);
  query_get(q, "port", port, sizeof port);
  query_get(q, "request", request, sizeof request);
  query_get(q, "protocol", protocol, sizeof protocol);
  query_get(q, "tries", tries_s, sizeof tries_s);
  long tries = 1;
  if (tries_s[0] && !parse_int(tries_s, LONG_MIN, LONG_MAX, &tries)) {
    snprintf(msg, sizeof msg, "tries parameter is invalid. strconv.Atoi: parsing \"%.40s\": invalid syntax\n", tries_s);
    http_reply_str(c, r, 400, msg);
    return;
  }
  if (tries > MAX_DIAL_TRIES) tries = MAX_DIAL_TRIES;
  if (!request[0]) {
    http_reply_str(c, r, 400, "request parameter not specified. <nil>\n");
    return;
  }
  for (char *t = protocol; *t; t++) *t = (char)tolower((unsigned char)*t);
  int udp = !strcmp(protocol, "udp");
  if (!udp && protocol[0] && strcmp(protocol, "http")) {
    snprintf(msg, sizeof msg, "unsupported protocol. %.20s%s\n", protocol, strcmp(protocol, "sctp") ? "" : " (podwire's built-in netexec has no SCTP)");
    http_reply_str(c, r, 400, msg);
    return;
  }
  if (dial_children >= MAX_DIAL_CHILDREN) {
    http_reply_str(c, r, 503, "podwire: too many /dial requests in progress\n");
    return;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    http_reply_str(c, r, 500, "podwire: fork failed\n");
    return;
  }
  if (pid > 0) { /* the child answers; this copy of the connection is done */
    dial_children++;
    close(c->fd);
    c->fd = -1;
    c->dead = 1;
    return;
  }
  /* child: own nothing but this connection */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int i = 0; i < nlisteners; i++) close(listeners[i].fd);
  for (int i = 0; i < nconns; i++)
    if (conns[i] != c && conns[i]->fd >= 0) close(conns[i]->fd);
  if (spare_fd >= 0) close(spare_fd);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);

  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  int g = getaddrinfo(host[0] ? host : NULL, port[0] ? port : "0", &hints, &ai);
  if (g != 0 || !ai) {
    snprintf(msg, sizeof msg, "host and/or port param are invalid. lookup %.200s: %s\n", host, gai_strerror(g));
    child_respond(c->fd, c->peer, r->line, 400, msg);
    _exit(0);
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
  socklen_t sl = ai->ai_addrlen;
  freeaddrinfo(ai);
  struct sbuf responses = {0}, errors = {0}, json = {0};
  int nresp = 0, nerr = 0, last_ok = 0;
  for (long i = 0; i < tries; i++) {
    struct sbuf ok = {0}, err = {0};
    if (udp) dial_udp(&ss, sl, request, &ok, &err);
    else dial_http(&ss, sl, request, &ok, &err);
    if (err.len) {
      sb_str(&errors, nerr++ ? "," : "");
      sb_json(&errors, err.p, err.len);
      last_ok = 0;
    } else {
      sb_str(&responses, nresp++ ? "," : "");
      sb_json(&responses, ok.p ? ok.p : "", ok.len);
      last_ok = ok.len > 0;
    }
    free(ok.p);
    free(err.p);
  }
  /* upstream: "responses" only when the last try got a non-empty answer; keys sorted */
  sb_str(&json, "{");
  if (nerr) {
    sb_str(&json, "\"errors\":[");
    sb_add(&json, errors.p, errors.len);
    sb_str(&json, "]");
  }
  if (last_ok) {
    sb_str(&json, nerr ? ",\"responses\":[" : "\"responses\":[");
    sb_add(&json, responses.p, responses.len);
    sb_str(&json, "]");
  }
  sb_str(&json, "}");
  child_respond(c->fd, c->peer, r->line, 200, json.p);
  _exit(0);
}
