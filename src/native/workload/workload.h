/*
 * podwire-workload: what its units share (see main.c for what it is).
 *
 *   util.c       identity, clocks, addresses, errno text, waiting on one fd
 *   text.c       client bytes made safe for logs; query strings (pure)
 *   args.c       usage and flags (Go's flag syntax, durations)
 *   http_parse.c the HTTP/1.1 request parser (pure: bytes in, a request or a status out)
 *   http.c       answering requests: responses, the identity page, serve-hostname
 *   netexec.c    agnhost netexec's endpoints
 *   dial.c       netexec /dial: a forked child dials HTTP or UDP and answers
 *   conn.c       a connection's output buffer
 *   listen.c     listening sockets
 *   loop.c       signals and the poll loop: accept, read, parse, write, timers
 *   udp.c        UDP listeners (identity, netexec commands, hostname)
 *   connect.c    agnhost connect (a client, no loop)
 *   main.c       the modes and main()
 */
#ifndef PODWIRE_WORKLOAD_H
#define PODWIRE_WORKLOAD_H

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

#include "http_parse.h"
#include "text.h"

/* ---------- identity and small helpers (util.c) ---------- */

struct identity {
  const char *server;   /* name in pages and logs: nginx, postgres, netexec ... */
  const char *pod, *ns, *node;
  const char *hostname; /* what agnhost's hostname endpoints answer */
  char pod_header[256]; /* POD_NAME made safe for a header value */
};
extern struct identity id;

void load_identity(void);
int64_t now_ms(void);
void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n);
void lowercase_errno(char *out, size_t n, int err);
/* 1: fd is ready for `ev`; 0: the deadline passed; -1: poll failed */
int wait_fd(int fd, short ev, int64_t deadline);

/* ---------- usage and flags (args.c) ---------- */

extern const char USAGE[];
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
int take_flag(int argc, char **argv, int *i, const char *name, const char **val);
int take_bool(const char *a, const char *name, int *out);
int parse_int(const char *s, long min, long max, long *out);
int parse_ports(const char *s, int *ports, int max);
int parse_duration(const char *s, int64_t *ms);

/* ---------- listeners (listen.c) ---------- */

enum role { R_HTTP, R_GENERIC, R_RAW_HOSTNAME, R_UDP_IDENTITY, R_UDP_NETEXEC, R_UDP_HOSTNAME };

struct listener {
  int fd;
  enum role role;
};
extern struct listener listeners[MAX_LISTENERS];
extern int nlisteners;

void listen_on(const char *ip, int port, int udp, enum role role, int optional);
void listen_any(int port, int udp, enum role role);
void announce(const int *tcp, int ntcp, const int *udp, int nudp);

/* ---------- connections (conn.c, loop.c) ---------- */

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

extern struct conn *conns[MAX_CONNS];
extern int nconns;
extern int spare_fd; /* given up to accept-and-close when out of descriptors */
extern int udp_ready; /* netexec /healthz: a UDP server is running */
/* netexec /exit: when to stop, with which code */
extern int64_t exit_at, exit_deadline, exit_grace_ms;
extern int exit_code, exiting;
extern int dial_children;

size_t pending_out(const struct conn *c);
void out_append(struct conn *c, const void *p, size_t n);
void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void consume_in(struct conn *c, size_t n);
void identity_line(struct conn *c);

/* ---------- the loop (loop.c) and UDP (udp.c) ---------- */

extern volatile sig_atomic_t got_term;
extern sigset_t run_mask; /* the mask to wait with: TERM, INT and CHLD unblocked */
void setup_signals(void);
void raise_fd_limit(void);
void serve(void) __attribute__((noreturn));
void udp_readable(struct listener *l);

/* ---------- HTTP (http.c) ---------- */

extern void (*http_handler)(struct conn *, struct req *);
extern int hostname_close;
const char *reason(int status);
void http_date(char *out, size_t n);
void http_reply(struct conn *c, const struct req *r, int status, const char *extra_headers, const char *body, size_t len);
void http_reply_str(struct conn *c, const struct req *r, int status, const char *body);
int http_try_request(struct conn *c, int64_t now);
void page_handler(struct conn *c, struct req *r);
void hostname_handler(struct conn *c, struct req *r);

/* ---------- agnhost netexec (netexec.c, dial.c) ---------- */

extern const char *http_override;
extern int64_t started_ms;
void netexec_handler(struct conn *c, struct req *r);
void netexec_dial(struct conn *c, struct req *r);

/* ---------- agnhost connect (connect.c) ---------- */

int mode_connect(int argc, char **argv);

#endif
