/*
 * podwire-workload: the built-in workloads podwire runs in place of container
 * images (there is no container runtime: a container is a process in the
 * pod's network namespace). A lab may run hundreds of pods on one machine, so
 * each workload is this one small native process: one thread, one poll()
 * loop, libc only.
 *
 *   http --ports 80[,8080] [--server nginx]        HTTP/1.1 identity page
 *   tcp --ports 5432[,...] [--udp-ports 53[,...]] [--server NAME]
 *                                                  generic listener: identity
 *                                                  line, then echo (HTTP
 *                                                  clients get the page)
 *   netexec [--http-port 8080] [--udp-port 8081]   agnhost netexec
 *   serve-hostname [--port 9376] [--tcp] [--udp] [--http=false] [--close]
 *   connect HOST:PORT [--timeout 5s] [--protocol tcp|udp]   agnhost connect
 *   pause                                          sleep until SIGTERM
 *   help                                           usage on stdout, exit 0
 *
 * Identity comes from POD_NAME, POD_NAMESPACE, NODE_NAME (and HOSTNAME for
 * agnhost's "hostname" answers), as the podwire kubelet sets them.
 * stdout is the container's log: one line per request or connection.
 * Nothing a client sends can crash it: malformed or oversized requests get
 * 400/414/431 and a close, slow clients time out, resets are just closes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 16
#define MAX_LISTENERS 64
#define MAX_CONNS 1024
#define MAX_HEADER_BYTES 16384      /* request line + headers; more is 414/431 */
#define OUT_HIGH_WATER (256 * 1024) /* stop reading a client that does not read its answers */
#define OUT_MAX (4 * 1024 * 1024)
/* the timeouts can be shortened at build time (-DHEADER_TIMEOUT_MS=1500) to test them */
#ifndef HEADER_TIMEOUT_MS
#define HEADER_TIMEOUT_MS 30000     /* a request must arrive whole within this */
#endif
#ifndef KEEPALIVE_TIMEOUT_MS
#define KEEPALIVE_TIMEOUT_MS 75000  /* nginx's keepalive_timeout */
#endif
#ifndef WRITE_TIMEOUT_MS
#define WRITE_TIMEOUT_MS 60000
#endif
#ifndef LINGER_TIMEOUT_MS
#define LINGER_TIMEOUT_MS 5000      /* after our FIN, drain the client for this long */
#endif
#define LINGER_MAX_BYTES (256 * 1024)
#define BANNER_DELAY_MS 200         /* generic TCP: time a client gets to speak first (HTTP) */
#define DIAL_TIMEOUT_MS 5000        /* netexec /dial: agnhost's client timeout */
#define MAX_DIAL_CHILDREN 32
#define MAX_DIAL_TRIES 100
#define UDP_BUF 65536

/* ---------- identity and small helpers ---------- */

static struct {
  const char *server;   /* name in pages and logs: nginx, postgres, netexec ... */
  const char *pod, *ns, *node;
  const char *hostname; /* what agnhost's hostname endpoints answer */
  char pod_header[256]; /* POD_NAME made safe for a header value */
} id;

static char uts_name[256];

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static void load_identity(void) {
  if (gethostname(uts_name, sizeof uts_name - 1) != 0 || !uts_name[0]) strcpy(uts_name, "unknown");
  id.pod = env_or("POD_NAME", uts_name);
  id.ns = env_or("POD_NAMESPACE", "unknown");
  id.node = env_or("NODE_NAME", "unknown");
  /* agnhost answers os.Hostname(); the kubelet sets HOSTNAME to the pod's hostname */
  id.hostname = env_or("HOSTNAME", id.pod);
  size_t i;
  for (i = 0; id.pod[i] && i < sizeof id.pod_header - 1; i++) {
    unsigned char ch = (unsigned char)id.pod[i];
    id.pod_header[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
  }
  id.pod_header[i] = 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
    snprintf(out, n, "[%s]:%u", ip, ntohs(s->sin6_port));
  } else if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
    snprintf(out, n, "%s:%u", ip, ntohs(s->sin_port));
  } else {
    snprintf(out, n, "unknown");
  }
}

/* Client bytes in a log line: printable ASCII as is, the rest as \xNN, cut at `max`. */
static void sanitize(char *dst, size_t dstlen, const char *src, size_t n, size_t max) {
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

static void lowercase_errno(char *out, size_t n, int err) {
  snprintf(out, n, "%s", strerror(err));
  if (out[0]) out[0] = (char)tolower((unsigned char)out[0]);
}

/* ---------- usage and flags ---------- */

static const char USAGE[] =
    "usage: podwire-workload MODE [flags]\n"
    "  http --ports 80[,8080...] [--server nginx]       HTTP/1.1 identity page on each port\n"
    "  tcp --ports 5432[,...] [--udp-ports 53[,...]] [--server NAME]\n"
    "                                                   generic listener: identity line, then echo\n"
    "  netexec [--http-port 8080] [--udp-port 8081] [--http-override PATH] [--udp-listen-addresses IPS]\n"
    "                                                   agnhost netexec\n"
    "  serve-hostname [--port 9376] [--tcp] [--udp] [--http=false] [--close]\n"
    "                                                   agnhost serve-hostname\n"
    "  connect HOST:PORT [--timeout 5s] [--protocol tcp|udp] [--udp-data hostname]\n"
    "                                                   agnhost connect\n"
    "  pause                                            sleep until SIGTERM\n"
    "  help                                             this text\n"
    "Identity: POD_NAME, POD_NAMESPACE, NODE_NAME, HOSTNAME (set by the podwire kubelet).\n";

static void usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("podwire-workload: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  fputs(USAGE, stderr);
  exit(2);
}

/* "--name=v" or "--name v" (takes the next argument). */
static int take_flag(int argc, char **argv, int *i, const char *name, const char **val) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0) return 0;
  if (a[2 + n] == '=') {
    *val = a + 3 + n;
    return 1;
  }
  if (a[2 + n] != 0) return 0;
  if (*i + 1 >= argc) usage_error("flag --%s needs a value", name);
  *val = argv[++*i];
  return 1;
}

/* Go-style booleans: "--name", "--name=true", "--name=false". */
static int take_bool(const char *a, const char *name, int *out) {
  size_t n = strlen(name);
  if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0) return 0;
  const char *v = a + 2 + n;
  if (!*v) *out = 1;
  else if (!strcmp(v, "=true") || !strcmp(v, "=1") || !strcmp(v, "=t") || !strcmp(v, "=TRUE")) *out = 1;
  else if (!strcmp(v, "=false") || !strcmp(v, "=0") || !strcmp(v, "=f") || !strcmp(v, "=FALSE")) *out = 0;
  else if (*v == '=') usage_error("invalid boolean value for --%s: %s", name, v + 1);
  else return 0;
  return 1;
}

static int parse_int(const char *s, long min, long max, long *out) {
  char *end;
  if (!s || !*s) return 0;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < min || v > max) return 0;
  *out = v;
  return 1;
}

static int parse_ports(const char *s, int *ports, int max) {
  int n = 0;
  const char *p = s;
  while (*p) {
    char buf[16];
    size_t len = strcspn(p, ",");
    long v;
    if (len == 0 || len >= sizeof buf) usage_error("bad port list: %s", s);
    memcpy(buf, p, len);
    buf[len] = 0;
    if (!parse_int(buf, 1, 65535, &v)) usage_error("bad port: %s", buf);
    int dup = 0;
    for (int k = 0; k < n; k++) dup |= ports[k] == v;
    if (!dup) {
      if (n == max) usage_error("too many ports (at most %d)", max);
      ports[n++] = (int)v;
    }
    p += len;
    if (*p == ',') p++;
  }
  return n;
}

/* Go time.ParseDuration, to milliseconds: "5s", "1m30s", "250ms", "1.5h", "0". */
static int parse_duration(const char *s, int64_t *ms) {
  static const struct { const char *unit; double ns; } units[] = {
      {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  int neg = 0;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  if (!strcmp(s, "0")) {
    *ms = 0;
    return 1;
  }
  if (!*s) return 0;
  while (*s) {
    char *end;
    if (!isdigit((unsigned char)*s) && *s != '.') return 0;
    double v = strtod(s, &end);
    if (end == s) return 0;
    s = end;
    size_t best = 0;
    double mult = 0;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
      size_t ul = strlen(units[k].unit);
      if (!strncmp(s, units[k].unit, ul) && ul > best && !(ul == 1 && s[0] == 'm' && s[1] == 's')) {
        best = ul;
        mult = units[k].ns;
      }
    }
    if (!best) return 0;
    s += best;
    total += v * mult;
  }
  *ms = neg ? 0 : (int64_t)(total / 1e6 + 0.5); /* a negative duration means "now" */
  return 1;
}

/* ---------- signals ---------- */

static volatile sig_atomic_t got_term;
static sigset_t run_mask; /* the mask to wait with: TERM, INT and CHLD unblocked */

static void on_term(int sig) {
  (void)sig;
  got_term = 1;
}
static void on_chld(int sig) { (void)sig; }

static void setup_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = on_term; /* no SA_RESTART: the wait returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_chld;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &run_mask);
  sigdelset(&run_mask, SIGTERM);
  sigdelset(&run_mask, SIGINT);
  sigdelset(&run_mask, SIGCHLD);
}

/* ---------- listeners ---------- */

enum role { R_HTTP, R_GENERIC, R_RAW_HOSTNAME, R_UDP_IDENTITY, R_UDP_NETEXEC, R_UDP_HOSTNAME };

struct listener {
  int fd;
  enum role role;
};
static struct listener listeners[MAX_LISTENERS];
static int nlisteners;

/*
 * Binds ip:port (TCP or UDP). With `optional` (the [::] twin of a 0.0.0.0
 * listener) a machine without IPv6 is not an error. Any other failure is the
 * container failing to start: a clear line on stderr and exit 1.
 */
static void listen_on(const char *ip, int port, int udp, enum role role, int optional) {
  struct sockaddr_storage ss;
  socklen_t len;
  int family;
  char shown[INET6_ADDRSTRLEN + 2];
  const char *proto = udp ? "UDP" : "TCP";
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
    family = s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    len = sizeof *s4;
    snprintf(shown, sizeof shown, "%s", ip);
  } else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
    family = s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    len = sizeof *s6;
    snprintf(shown, sizeof shown, "[%s]", ip);
  } else {
    usage_error("invalid listen address %s", ip);
    return;
  }
  if (nlisteners == MAX_LISTENERS) usage_error("too many listeners");
  int fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (optional && errno == EAFNOSUPPORT) return;
    fprintf(stderr, "socket %s:%d/%s: %s\n", shown, port, proto, strerror(errno));
    exit(1);
  }
  int one = 1;
  /* not for UDP: there SO_REUSEADDR would let two sockets share a port silently */
  if (!udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (udp && family == AF_INET) setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  if (udp && family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || (!udp && listen(fd, 511) != 0)) {
    int e = errno;
    close(fd);
    if (optional && (e == EADDRNOTAVAIL || e == EAFNOSUPPORT)) return;
    fprintf(stderr, "bind %s:%d/%s: %s\n", shown, port, proto, strerror(e));
    exit(1);
  }
  listeners[nlisteners].fd = fd;
  listeners[nlisteners].role = role;
  nlisteners++;
}

static void listen_any(int port, int udp, enum role role) {
  listen_on("0.0.0.0", port, udp, role, 0);
  listen_on("::", port, udp, role, 1);
}

static void announce(const int *tcp, int ntcp, const int *udp, int nudp) {
  char line[512];
  size_t o = (size_t)snprintf(line, sizeof line, "%s (podwire built-in) listening on", id.server);
  const char *sep = " ";
  for (int i = 0; i < ntcp && o < sizeof line; i++, sep = ", ") o += (size_t)snprintf(line + o, sizeof line - o, "%s:%d", sep, tcp[i]);
  for (int i = 0; i < nudp && o < sizeof line; i++, sep = ", ") o += (size_t)snprintf(line + o, sizeof line - o, "%s:%d/UDP", sep, udp[i]);
  printf("%s\n", line);
}

/* ---------- connections ---------- */

enum gstate { G_UNDECIDED, G_ECHO, G_HTTP };

struct conn {
  int fd;
  enum role role;
  enum gstate gstate;
  int banner_sent, dead, close_after, lingering, peer_eof;
  int64_t accepted_at, last_io, req_started, linger_until;
  size_t lingered;
  uint64_t discard; /* request body bytes still to read and drop */
  size_t in_len, scanned;
  char *out;
  size_t out_len, out_off, out_cap;
  char peer[64], local[64];
  char in[MAX_HEADER_BYTES];
};

static struct conn *conns[MAX_CONNS];
static int nconns;
static int spare_fd = -1; /* given up to accept-and-close when out of descriptors */
static int udp_ready;      /* netexec /healthz: a UDP server is running */

/* netexec /exit: when to stop, with which code */
static int64_t exit_at, exit_deadline, exit_grace_ms;
static int exit_code, exiting;
static int dial_children;

static size_t pending_out(const struct conn *c) { return c->out_len - c->out_off; }

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

static void out_append(struct conn *c, const void *p, size_t n) {
  if (!n) return;
  if (out_reserve(c, n)) {
    c->dead = 1;
    return;
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
}

static void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...) {
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

static void consume_in(struct conn *c, size_t n) {
  if (n >= c->in_len) {
    c->in_len = 0;
  } else {
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
  }
  c->scanned = 0;
}

static void identity_line(struct conn *c) {
  out_printf(c, "%s on pod %s/%s (%s): you came from %s\n", id.server, id.ns, id.pod, c->local, c->peer);
}

/* ---------- HTTP ---------- */

struct req {
  char method[33];
  char *target, *path, *query;
  int minor, keep, head;
  char line[300]; /* the request line, sanitized, for the log */
};

static void (*http_handler)(struct conn *, struct req *);

static const char *reason(int status) {
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

static void http_date(char *out, size_t n) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Writes one whole response (status line, headers, body) to `c` and logs it. */
static void http_reply(struct conn *c, const struct req *r, int status, const char *extra_headers, const char *body, size_t len) {
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

static void http_reply_str(struct conn *c, const struct req *r, int status, const char *body) {
  http_reply(c, r, status, NULL, body, strlen(body));
}

/* A request we cannot serve: answer `status` and close; the rest of the input is dropped. */
static void http_fail(struct conn *c, int status) {
  struct req r;
  memset(&r, 0, sizeof r);
  const char *nl = memchr(c->in, '\n', c->in_len);
  size_t n = nl ? (size_t)(nl - c->in) : c->in_len;
  if (n && c->in[n - 1] == '\r') n--;
  sanitize(r.line, sizeof r.line, c->in, n, 200);
  char body[64];
  snprintf(body, sizeof body, "%d %s\n", status, reason(status));
  http_reply(c, &r, status, NULL, body, strlen(body));
  c->in_len = 0;
  c->discard = 0;
}

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

/*
 * Parses one request from c->in if its header block is complete and answers
 * it. Returns 1 when a request (or an error) was handled, 0 when more bytes
 * are needed.
 */
static int http_try_request(struct conn *c, int64_t now) {
  size_t skip = 0;
  while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n')) skip++;
  if (skip) consume_in(c, skip);
  if (!c->in_len) return 0;
  if (!c->req_started) c->req_started = now;

  /* the method: fail at once on bytes no request starts with (TLS, binary) */
  for (size_t i = 0; i < c->in_len && c->in[i] != ' '; i++) {
    if (!is_tchar((unsigned char)c->in[i]) || i >= 32) {
      http_fail(c, 400);
      return 1;
    }
  }

  size_t end = 0;
  for (size_t i = c->scanned; i < c->in_len; i++) {
    if (c->in[i] != '\n') continue;
    if (i + 1 < c->in_len && c->in[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (i + 2 < c->in_len && c->in[i + 1] == '\r' && c->in[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (!end) {
    if (c->in_len >= MAX_HEADER_BYTES) {
      http_fail(c, memchr(c->in, '\n', c->in_len) ? 431 : 414);
      return 1;
    }
    c->scanned = c->in_len > 2 ? c->in_len - 2 : 0;
    return 0;
  }
  if (memchr(c->in, 0, end)) {
    http_fail(c, 400);
    return 1;
  }

  struct req r;
  memset(&r, 0, sizeof r);
  char *p = c->in;
  char *nl = memchr(p, '\n', end);
  size_t linelen = (size_t)(nl - p);
  if (linelen && p[linelen - 1] == '\r') linelen--;
  sanitize(r.line, sizeof r.line, p, linelen, 200);
  p[linelen] = 0;
  char *sp1 = strchr(p, ' ');
  char *sp2 = strrchr(p, ' ');
  if (!sp1 || sp1 == sp2 || sp2 - sp1 < 2 || strchr(p, '\r')) {
    http_fail(c, 400);
    return 1;
  }
  *sp1 = 0;
  *sp2 = 0;
  snprintf(r.method, sizeof r.method, "%.32s", p); /* at most 32: checked above */
  r.target = sp1 + 1;
  const char *ver = sp2 + 1;
  for (const unsigned char *t = (const unsigned char *)r.target; *t; t++) {
    if (*t <= 0x20 || *t == 0x7f) {
      http_fail(c, 400);
      return 1;
    }
  }
  if (strncmp(ver, "HTTP/", 5) || !isdigit((unsigned char)ver[5]) || ver[6] != '.' || !isdigit((unsigned char)ver[7]) || ver[8]) {
    http_fail(c, 400);
    return 1;
  }
  if (ver[5] != '1') {
    http_fail(c, 505);
    return 1;
  }
  r.minor = ver[7] == '0' ? 0 : 1;

  int hosts = 0, te = 0, expect100 = 0, conn_close = 0, conn_keep = 0, have_len = 0;
  uint64_t clen = 0;
  char *line = nl + 1;
  while (line < c->in + end) {
    char *e = memchr(line, '\n', (size_t)(c->in + end - line));
    size_t n = (size_t)(e - line);
    if (n && line[n - 1] == '\r') n--;
    line[n] = 0;
    if (!n) break;
    char *colon = strchr(line, ':');
    if (line[0] == ' ' || line[0] == '\t' || !colon || colon == line || strchr(line, '\r')) {
      http_fail(c, 400);
      return 1;
    }
    for (char *t = line; t < colon; t++) {
      if (!is_tchar((unsigned char)*t)) {
        http_fail(c, 400);
        return 1;
      }
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
      if (!*v || strlen(v) > 18 || strspn(v, "0123456789") != strlen(v)) {
        http_fail(c, 400);
        return 1;
      }
      x = strtoull(v, NULL, 10);
      if (have_len && x != clen) {
        http_fail(c, 400);
        return 1;
      }
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
  if (r.minor == 1 && hosts != 1) {
    http_fail(c, 400);
    return 1;
  }
  if (te) { /* chunked request bodies are not supported: ask for a length */
    http_fail(c, 411);
    return 1;
  }
  r.keep = r.minor == 1 ? !conn_close : (conn_keep && !conn_close);
  /* a client waiting for "100 Continue" may never send the body: do not wait for it */
  if (expect100 && clen) r.keep = 0;
  r.head = !strcmp(r.method, "HEAD");

  if (r.target[0] == '/') {
    r.path = r.target;
  } else if (!strncasecmp(r.target, "http://", 7) || !strncasecmp(r.target, "https://", 8)) {
    char *slash = strchr(strstr(r.target, "//") + 2, '/');
    r.path = slash ? slash : "/";
  } else if (!strcmp(r.target, "*") && !strcmp(r.method, "OPTIONS")) {
    r.path = r.target;
  } else {
    http_fail(c, 400);
    return 1;
  }
  char *q = strchr(r.path, '?');
  if (q) {
    *q = 0;
    r.query = q + 1;
  }
  c->req_started = 0;
  http_handler(c, &r);
  consume_in(c, end);
  c->discard = clen;
  return 1;
}

/* The identity page: http mode, and HTTP clients of the generic listener. */
static void page_handler(struct conn *c, struct req *r) {
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

/* ---------- agnhost serve-hostname ---------- */

static int hostname_close;

static void hostname_handler(struct conn *c, struct req *r) {
  if (hostname_close) r->keep = 0;
  http_reply_str(c, r, 200, id.hostname); /* upstream: fmt.Fprintf(w, "%s", hostname), no newline */
}

/* ---------- agnhost netexec ---------- */

static const char *http_override;
static int64_t started_ms;

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static void url_decode(const char *s, size_t n, char *out, size_t outlen) {
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
static int query_get(const char *q, const char *key, char *out, size_t outlen) {
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

static void netexec_dial(struct conn *c, struct req *r);

static void schedule_exit(int code, int64_t wait_ms, int64_t grace_ms) {
  if (exit_at) return;
  exit_at = now_ms() + wait_ms;
  exit_code = code;
  exit_grace_ms = grace_ms;
}

static void netexec_handler(struct conn *c, struct req *r) {
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

static int wait_fd(int fd, short ev, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {fd, ev, 0};
    int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return -1;
  }
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

static void netexec_dial(struct conn *c, struct req *r) {
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

/* ---------- the event loop ---------- */

static void conn_flush(struct conn *c, int64_t now);

static void send_banner(struct conn *c, int64_t now) {
  if (c->banner_sent) return;
  c->banner_sent = 1;
  identity_line(c);
  conn_flush(c, now);
}

/* 1: the bytes start like an HTTP request line; 0: they do not; -1: too few to tell */
static int looks_like_http(const char *p, size_t n) {
  static const char *const methods[] = {"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  int maybe = 0;
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    size_t ml = strlen(methods[i]);
    if (n >= ml && !memcmp(p, methods[i], ml)) return 1;
    if (n < ml && !memcmp(p, methods[i], n)) maybe = 1;
  }
  return maybe ? -1 : 0;
}

static void conn_process(struct conn *c, int64_t now) {
  while (!c->dead && !c->close_after) {
    if (c->role == R_GENERIC && c->gstate == G_UNDECIDED) {
      if (!c->in_len) return;
      int h = looks_like_http(c->in, c->in_len);
      if (h < 0 && !c->peer_eof) return; /* "GE": wait for more */
      if (h > 0) {
        c->gstate = G_HTTP;
        continue;
      }
      send_banner(c, now);
      c->gstate = G_ECHO;
      continue;
    }
    if (c->role == R_GENERIC && c->gstate == G_ECHO) { /* echo every byte back */
      out_append(c, c->in, c->in_len);
      c->in_len = 0;
      return;
    }
    if (c->discard) {
      size_t n = c->discard < c->in_len ? (size_t)c->discard : c->in_len;
      consume_in(c, n);
      c->discard -= n;
      if (c->discard) return;
    }
    if (pending_out(c) >= OUT_HIGH_WATER) return;
    if (!http_try_request(c, now)) return;
  }
}

static void conn_flush(struct conn *c, int64_t now) {
  while (!c->dead && c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += (size_t)n;
      c->last_io = now;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      c->dead = 1;
      return;
    }
  }
  if (c->dead) return;
  c->out_off = c->out_len = 0;
  if (c->out_cap > 65536) {
    free(c->out);
    c->out = NULL;
    c->out_cap = 0;
  }
  if (c->close_after && !c->lingering) {
    if (c->peer_eof) {
      c->dead = 1;
      return;
    }
    /* lingering close: our FIN first, then drain, so unread input does not turn into an RST that eats the answer */
    shutdown(c->fd, SHUT_WR);
    c->lingering = 1;
    c->linger_until = now + LINGER_TIMEOUT_MS;
  }
}

static void conn_read(struct conn *c, int64_t now) {
  if (c->lingering) {
    char tmp[4096];
    ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
    if (n > 0) c->lingered += (size_t)n;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || c->lingered > LINGER_MAX_BYTES) c->dead = 1;
    return;
  }
  ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) c->dead = 1;
    return;
  }
  if (n == 0) {
    c->peer_eof = 1;
  } else {
    c->in_len += (size_t)n;
    c->last_io = now;
  }
  conn_process(c, now);
  if (c->peer_eof) {
    if (c->role == R_GENERIC && c->gstate == G_UNDECIDED) send_banner(c, now);
    c->close_after = 1;
  }
  conn_flush(c, now);
}

static void accept_all(struct listener *l, int64_t now) {
  for (int k = 0; k < 64; k++) {
    struct sockaddr_storage peer, local;
    socklen_t pl = sizeof peer, ll = sizeof local;
    int fd = accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) { /* take it and close it, or the loop spins */
        close(spare_fd);
        fd = accept(l->fd, NULL, NULL);
        if (fd >= 0) close(fd);
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        fprintf(stderr, "out of file descriptors: connection refused\n");
        continue;
      }
      return;
    }
    if (nconns == MAX_CONNS || exiting) {
      close(fd);
      if (!exiting) fprintf(stderr, "too many connections (%d): connection closed\n", MAX_CONNS);
      continue;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->role = l->role;
    c->accepted_at = c->last_io = now;
    getsockname(fd, (struct sockaddr *)&local, &ll);
    fmt_addr(&peer, c->peer, sizeof c->peer);
    fmt_addr(&local, c->local, sizeof c->local);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[nconns++] = c;
    if (c->role == R_GENERIC) {
      printf("%s TCP connection to %s\n", c->peer, c->local);
    } else if (c->role == R_RAW_HOSTNAME) {
      printf("TCP request from %s\n", c->peer);
      out_append(c, id.hostname, strlen(id.hostname));
      c->close_after = 1;
      conn_flush(c, now);
    }
  }
}

static unsigned char udp_buf[UDP_BUF];

static void udp_readable(struct listener *l) {
  for (int k = 0; k < 64; k++) {
    struct sockaddr_storage peer, local;
    char cbuf[256], reply[1024], peer_s[64], local_s[64], shown[80];
    struct iovec iov = {udp_buf, sizeof udp_buf - 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_name = &peer;
    m.msg_namelen = sizeof peer;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(l->fd, &m, MSG_DONTWAIT);
    if (n < 0) return;
    if ((size_t)n > sizeof udp_buf - 1) n = sizeof udp_buf - 1;
    udp_buf[n] = 0;

    /* the address the datagram was sent to, so the reply leaves from it */
    socklen_t ll = sizeof local;
    getsockname(l->fd, (struct sockaddr *)&local, &ll);
    char rcbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    size_t rclen = 0;
    memset(rcbuf, 0, sizeof rcbuf);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
      if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO && local.ss_family == AF_INET) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(cm), sizeof pi);
        ((struct sockaddr_in *)&local)->sin_addr = pi.ipi_addr;
        uint32_t a = ntohl(pi.ipi_addr.s_addr);
        if ((a >> 28) != 14 && a != 0xffffffffu) { /* not multicast or broadcast */
          struct cmsghdr *rc = (struct cmsghdr *)rcbuf;
          rc->cmsg_level = IPPROTO_IP;
          rc->cmsg_type = IP_PKTINFO;
          rc->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
          struct in_pktinfo out;
          memset(&out, 0, sizeof out);
          out.ipi_spec_dst = pi.ipi_addr;
          memcpy(CMSG_DATA(rc), &out, sizeof out);
          rclen = CMSG_SPACE(sizeof(struct in_pktinfo));
        }
      } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO && local.ss_family == AF_INET6) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(cm), sizeof pi);
        ((struct sockaddr_in6 *)&local)->sin6_addr = pi.ipi6_addr;
        if (pi.ipi6_addr.s6_addr[0] != 0xff) {
          struct cmsghdr *rc = (struct cmsghdr *)rcbuf;
          rc->cmsg_level = IPPROTO_IPV6;
          rc->cmsg_type = IPV6_PKTINFO;
          rc->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
          memcpy(CMSG_DATA(rc), &pi, sizeof pi);
          rclen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        }
      }
    }
    fmt_addr(&peer, peer_s, sizeof peer_s);
    fmt_addr(&local, local_s, sizeof local_s);
    sanitize(shown, sizeof shown, (const char *)udp_buf, (size_t)n, 40);
    printf("%s UDP \"%s\"\n", peer_s, shown);

    int len = -1;
    if (l->role == R_UDP_IDENTITY) {
      len = snprintf(reply, sizeof reply, "%s on pod %s/%s (%s): you came from %s\n", id.server, id.ns, id.pod, local_s, peer_s);
    } else if (l->role == R_UDP_HOSTNAME) {
      len = snprintf(reply, sizeof reply, "%s", id.hostname);
    } else { /* netexec: trimmed, lower-cased commands, as upstream */
      char *t = (char *)udp_buf;
      size_t tl = (size_t)n;
      while (tl && isspace((unsigned char)*t)) t++, tl--;
      while (tl && isspace((unsigned char)t[tl - 1])) tl--;
      t[tl] = 0;
      for (size_t i = 0; i < tl; i++) t[i] = (char)tolower((unsigned char)t[i]);
      if (!strcmp(t, "hostname")) len = snprintf(reply, sizeof reply, "%s", id.hostname);
      else if (!strncmp(t, "echo ", 5)) len = snprintf(reply, sizeof reply, "%s", t + 5);
      else if (!strcmp(t, "clientip")) len = snprintf(reply, sizeof reply, "%s", peer_s);
      else if (tl) printf("Unknown UDP command received from %s: %s\n", peer_s, shown);
    }
    if (len < 0) continue;
    if ((size_t)len >= sizeof reply) len = sizeof reply - 1;
    struct iovec riov = {reply, (size_t)len};
    struct msghdr rm;
    memset(&rm, 0, sizeof rm);
    rm.msg_name = &peer;
    rm.msg_namelen = m.msg_namelen;
    rm.msg_iov = &riov;
    rm.msg_iovlen = 1;
    rm.msg_control = rclen ? rcbuf : NULL;
    rm.msg_controllen = rclen;
    if (sendmsg(l->fd, &rm, MSG_DONTWAIT) < 0 && rclen) {
      rm.msg_control = NULL; /* e.g. a subnet broadcast address: let the kernel pick */
      rm.msg_controllen = 0;
      sendmsg(l->fd, &rm, MSG_DONTWAIT);
    }
  }
}

static void conn_timers(struct conn *c, int64_t now) {
  if (c->dead) return;
  if (c->lingering) {
    if (now >= c->linger_until) c->dead = 1;
    return;
  }
  if (c->role == R_GENERIC && c->gstate == G_UNDECIDED && !c->banner_sent && now >= c->accepted_at + BANNER_DELAY_MS) send_banner(c, now);
  if (pending_out(c)) {
    if (now - c->last_io > WRITE_TIMEOUT_MS) c->dead = 1;
    return;
  }
  int http = c->role == R_HTTP || (c->role == R_GENERIC && c->gstate == G_HTTP);
  if (!http) return; /* generic connections may idle as long as the client likes */
  if (c->req_started && now - c->req_started > HEADER_TIMEOUT_MS) c->dead = 1;
  else if (!c->in_len && now - c->last_io > KEEPALIVE_TIMEOUT_MS) c->dead = 1;
}

static void reap_children(void) {
  int st;
  while (waitpid(-1, &st, WNOHANG) > 0)
    if (dial_children) dial_children--;
}

static void serve(void) {
  static struct pollfd pfds[MAX_LISTENERS + MAX_CONNS];
  for (;;) {
    if (got_term) {
      fflush(stdout);
      exit(0);
    }
    reap_children();
    int64_t now = now_ms();
    if (exit_at && now >= exit_at && !exiting) { /* netexec /exit: stop listening, let answers drain */
      exiting = 1;
      exit_deadline = now + (exit_grace_ms > 1000 ? exit_grace_ms : 1000);
      for (int i = 0; i < nlisteners; i++) close(listeners[i].fd);
      nlisteners = 0;
    }
    if (exiting) {
      int busy = 0;
      for (int i = 0; i < nconns; i++) busy |= !conns[i]->dead && pending_out(conns[i]) > 0;
      if (!busy || now >= exit_deadline) {
        fflush(stdout);
        exit(exit_code);
      }
    }
    int n = 0;
    int64_t next = now + 1000;
    if (exit_at && !exiting && exit_at < next) next = exit_at;
    for (int i = 0; i < nlisteners; i++) pfds[n++] = (struct pollfd){listeners[i].fd, POLLIN, 0};
    int nsnap = nconns;
    for (int i = 0; i < nsnap; i++) {
      struct conn *c = conns[i];
      short ev = 0;
      if (pending_out(c)) ev |= POLLOUT;
      if (c->lingering) ev |= POLLIN;
      else if (!c->close_after && !c->peer_eof && pending_out(c) < OUT_HIGH_WATER && c->in_len < sizeof c->in) ev |= POLLIN;
      if (c->role == R_GENERIC && !c->banner_sent && c->gstate == G_UNDECIDED && c->accepted_at + BANNER_DELAY_MS < next) next = c->accepted_at + BANNER_DELAY_MS;
      pfds[n++] = (struct pollfd){c->fd, ev, 0};
    }
    int64_t wait = next - now;
    if (wait < 0) wait = 0;
    struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
    int r = ppoll(pfds, (nfds_t)n, &ts, &run_mask);
    if (r < 0 && errno != EINTR) {
      perror("poll");
      exit(1);
    }
    now = now_ms();
    if (r > 0) {
      int nl = nlisteners;
      for (int i = 0; i < nl; i++) {
        if (!pfds[i].revents) continue;
        if (listeners[i].role == R_UDP_IDENTITY || listeners[i].role == R_UDP_NETEXEC || listeners[i].role == R_UDP_HOSTNAME) udp_readable(&listeners[i]);
        else accept_all(&listeners[i], now);
      }
      for (int i = 0; i < nsnap; i++) {
        struct conn *c = conns[i];
        short re = pfds[nl + i].revents;
        if (c->dead || !re) continue;
        if (re & POLLNVAL) {
          c->dead = 1;
          continue;
        }
        if (re & (POLLIN | POLLHUP | POLLERR)) conn_read(c, now);
        if (!c->dead && (re & POLLOUT)) {
          conn_flush(c, now);
          if (!c->dead && !pending_out(c) && c->in_len && !c->close_after) {
            conn_process(c, now);
            conn_flush(c, now);
          }
        }
        if (!c->dead && (re & POLLERR) && !(re & POLLIN)) c->dead = 1;
      }
    }
    int k = 0;
    for (int i = 0; i < nconns; i++) {
      struct conn *c = conns[i];
      conn_timers(c, now);
      if (c->dead) {
        if (c->fd >= 0) close(c->fd);
        free(c->out);
        free(c);
      } else {
        conns[k++] = c;
      }
    }
    nconns = k;
  }
}

/* ---------- modes ---------- */

static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int mode_http_or_tcp(int argc, char **argv, int tcp_mode) {
  int tcp[MAX_PORTS], udp[MAX_PORTS], ntcp = 0, nudp = 0;
  id.server = tcp_mode ? "generic" : "nginx";
  for (int i = 2; i < argc; i++) {
    const char *v;
    if (take_flag(argc, argv, &i, "ports", &v)) ntcp = parse_ports(v, tcp, MAX_PORTS);
    else if (tcp_mode && take_flag(argc, argv, &i, "udp-ports", &v)) nudp = parse_ports(v, udp, MAX_PORTS);
    else if (take_flag(argc, argv, &i, "server", &v) && *v) id.server = v;
    else usage_error("%s: unknown argument %s", argv[1], argv[i]);
  }
  if (!ntcp && !nudp) usage_error("%s: --ports is required", argv[1]);
  for (int i = 0; i < ntcp; i++) listen_any(tcp[i], 0, tcp_mode ? R_GENERIC : R_HTTP);
  for (int i = 0; i < nudp; i++) listen_any(udp[i], 1, R_UDP_IDENTITY);
  http_handler = page_handler;
  announce(tcp, ntcp, udp, nudp);
  serve();
  return 0;
}

static int mode_netexec(int argc, char **argv) {
  long http_port = 8080, udp_port = 8081;
  const char *udp_addrs = "";
  id.server = "netexec";
  for (int i = 2; i < argc; i++) {
    const char *v;
    if (take_flag(argc, argv, &i, "http-port", &v)) {
      if (!parse_int(v, 1, 65535, &http_port)) usage_error("netexec: bad --http-port %s", v);
    } else if (take_flag(argc, argv, &i, "udp-port", &v)) {
      if (!parse_int(v, -1, 65535, &udp_port) || udp_port == 0) usage_error("netexec: bad --udp-port %s", v);
    } else if (take_flag(argc, argv, &i, "sctp-port", &v)) {
      long sp;
      if (!parse_int(v, -1, 65535, &sp)) usage_error("netexec: bad --sctp-port %s", v);
      if (sp != -1) fprintf(stderr, "podwire's built-in netexec has no SCTP server: --sctp-port=%ld ignored\n", sp);
    } else if (take_flag(argc, argv, &i, "http-override", &v)) {
      http_override = *v ? v : NULL;
    } else if (take_flag(argc, argv, &i, "udp-listen-addresses", &v)) {
      udp_addrs = v;
    } else if (take_flag(argc, argv, &i, "tls-cert-file", &v) || take_flag(argc, argv, &i, "tls-private-key-file", &v)) {
      if (*v) {
        fprintf(stderr, "podwire's built-in netexec does not serve HTTPS (--tls-cert-file): it has no TLS library\n");
        exit(1);
      }
    } else usage_error("netexec: unknown argument %s", argv[i]);
  }
  int tcp[1] = {(int)http_port}, udp[1] = {(int)udp_port};
  listen_any((int)http_port, 0, R_HTTP);
  if (udp_port != -1) {
    if (!*udp_addrs) {
      listen_any((int)udp_port, 1, R_UDP_NETEXEC);
    } else {
      char buf[1024];
      snprintf(buf, sizeof buf, "%s", udp_addrs);
      for (char *save = NULL, *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save)) listen_on(a, (int)udp_port, 1, R_UDP_NETEXEC, 0);
    }
    udp_ready = 1;
  }
  http_handler = netexec_handler;
  started_ms = now_ms();
  announce(tcp, 1, udp, udp_port != -1);
  serve();
  return 0;
}

static int mode_serve_hostname(int argc, char **argv) {
  int do_tcp = 0, do_udp = 0, do_http = 1;
  long port = 9376;
  id.server = "serve-hostname";
  for (int i = 2; i < argc; i++) {
    const char *v;
    if (take_bool(argv[i], "tcp", &do_tcp) || take_bool(argv[i], "udp", &do_udp) || take_bool(argv[i], "http", &do_http) ||
        take_bool(argv[i], "close", &hostname_close))
      continue;
    if (take_flag(argc, argv, &i, "port", &v)) {
      if (!parse_int(v, 1, 65535, &port)) usage_error("serve-hostname: bad --port %s", v);
    } else usage_error("serve-hostname: unknown argument %s", argv[i]);
  }
  if (do_http && (do_tcp || do_udp)) { /* upstream's log.Fatalf */
    fprintf(stderr, "Can't server TCP/UDP mode and HTTP mode at the same time\n");
    return 1;
  }
  int p[1] = {(int)port};
  if (do_http) listen_any((int)port, 0, R_HTTP);
  if (do_tcp) listen_any((int)port, 0, R_RAW_HOSTNAME);
  if (do_udp) listen_any((int)port, 1, R_UDP_HOSTNAME);
  http_handler = hostname_handler;
  announce(p, do_http || do_tcp, p, do_udp);
  serve();
  return 0;
}

/* agnhost connect: exit 0 when connected; else a fixed prefix on stderr and exit 1. */
static int mode_connect(int argc, char **argv) {
  const char *dest = NULL, *protocol = "tcp", *udp_data = "hostname", *v;
  int64_t timeout_ms = 0;
  for (int i = 2; i < argc; i++) {
    if (take_flag(argc, argv, &i, "timeout", &v)) {
      if (!parse_duration(v, &timeout_ms)) usage_error("connect: invalid --timeout %s (a Go duration: 5s, 500ms)", v);
    } else if (take_flag(argc, argv, &i, "protocol", &v)) {
      protocol = v;
    } else if (take_flag(argc, argv, &i, "udp-data", &v) || take_flag(argc, argv, &i, "sctp-data", &v)) {
      udp_data = v;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      usage_error("connect: unknown flag %s", argv[i]);
    } else if (dest) {
      usage_error("connect: accepts 1 arg(s), received more");
    } else {
      dest = argv[i];
    }
  }
  if (!dest) usage_error("connect: accepts 1 arg(s), received 0");
  int udp = !strcmp(protocol, "udp");
  if (!udp && strcmp(protocol, "tcp") && *protocol) {
    fprintf(stderr, "UNKNOWN: unsupported protocol %s%s\n", protocol, strcmp(protocol, "sctp") ? "" : " (podwire's built-in agnhost has no SCTP)");
    return 1;
  }
  /* net.SplitHostPort */
  char host[256], port[64];
  const char *colon;
  if (dest[0] == '[') {
    const char *rb = strchr(dest, ']');
    if (!rb || rb[1] != ':') {
      fprintf(stderr, "UNKNOWN: address %s: missing port in address\n", dest);
      return 1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(rb - dest - 1), dest + 1);
    colon = rb + 1;
  } else {
    colon = strrchr(dest, ':');
    if (!colon) {
      fprintf(stderr, "UNKNOWN: address %s: missing port in address\n", dest);
      return 1;
    }
    if (memchr(dest, ':', (size_t)(colon - dest))) {
      fprintf(stderr, "UNKNOWN: address %s: too many colons in address\n", dest);
      return 1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - dest), dest);
  }
  snprintf(port, sizeof port, "%s", colon + 1);
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  int g = getaddrinfo(host[0] ? host : NULL, port[0] ? port : "0", &hints, &ai);
  if (g != 0) {
    fprintf(stderr, "DNS: lookup %s: %s\n", host, g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
    return 1;
  }
  int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : INT64_MAX;
  int last_err = 0;
  char addr[80] = "?", e[128];
  for (struct addrinfo *a = ai; a; a = a->ai_next) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, a->ai_addr, a->ai_addrlen);
    fmt_addr(&ss, addr, sizeof addr);
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | (udp ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0) {
      last_err = errno;
      continue;
    }
    if (udp) {
      /* connected UDP: send the payload, wait for any answer */
      char msg[1100], buf[1024];
      snprintf(msg, sizeof msg, "%s\n", udp_data);
      if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        lowercase_errno(e, sizeof e, errno);
        fprintf(stderr, "OTHER: dial udp %s: %s\n", addr, e);
        return 1;
      }
      ssize_t n = send(fd, msg, strlen(msg), 0);
      int w = n < 0 ? -1 : wait_fd(fd, POLLIN, deadline);
      if (w > 0) n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (w == 0) {
        fprintf(stderr, "TIMEOUT: read udp %s: i/o timeout\n", addr);
        return 1;
      }
      if (n < 0) {
        int err = errno;
        lowercase_errno(e, sizeof e, err);
        fprintf(stderr, "%s: read udp %s: %s\n", err == ECONNREFUSED ? "REFUSED" : "UNKNOWN", addr, e);
        return 1;
      }
      if (n == 0) {
        fprintf(stderr, "OTHER: No data received from the server. Cannot guarantee the server received the request.\n");
        return 1;
      }
      return 0;
    }
    int soerr = 0;
    socklen_t el = sizeof soerr;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) soerr = errno;
      else {
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w == 0) soerr = ETIMEDOUT;
        else if (w < 0) soerr = errno;
        else getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
      }
    }
    close(fd);
    if (!soerr) return 0;
    last_err = soerr;
    if (soerr == ETIMEDOUT && now_ms() >= deadline) break;
  }
  freeaddrinfo(ai);
  if (last_err == ETIMEDOUT) fprintf(stderr, "TIMEOUT\n");
  else if (last_err == ECONNREFUSED) fprintf(stderr, "REFUSED\n");
  else {
    lowercase_errno(e, sizeof e, last_err);
    fprintf(stderr, "OTHER: dial tcp %s: connect: %s\n", addr, e);
  }
  return 1;
}

static int mode_pause(int argc, char **argv) {
  (void)argv;
  if (argc > 2) usage_error("pause: takes no arguments");
  while (!got_term) sigsuspend(&run_mask);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) usage_error("a mode is required");
  const char *mode = argv[1];
  load_identity();
  if (!strcmp(mode, "help") || !strcmp(mode, "--help") || !strcmp(mode, "-h")) {
    fputs(USAGE, stdout);
    return 0;
  }
  if (!strcmp(mode, "connect")) {
    signal(SIGPIPE, SIG_IGN);
    return mode_connect(argc, argv);
  }
  setup_signals();
  if (!strcmp(mode, "pause")) return mode_pause(argc, argv);
  raise_fd_limit();
  if (!strcmp(mode, "http")) return mode_http_or_tcp(argc, argv, 0);
  if (!strcmp(mode, "tcp")) return mode_http_or_tcp(argc, argv, 1);
  if (!strcmp(mode, "netexec")) return mode_netexec(argc, argv);
  if (!strcmp(mode, "serve-hostname")) return mode_serve_hostname(argc, argv);
  usage_error("unknown mode %s", mode);
  return 2;
}
