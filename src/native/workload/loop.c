/*
 * Signals and the event loop: one ppoll over listeners and connections;
 * accept, read, process, write, lingering close, timeouts, netexec /exit.
 */
#include "workload.h"

struct conn *conns[MAX_CONNS];
int nconns;
int spare_fd = -1;
int udp_ready;
int64_t exit_at, exit_deadline, exit_grace_ms;
int exit_code, exiting;
int dial_children;

/* ---------- signals ---------- */

volatile sig_atomic_t got_term;
sigset_t run_mask; /* the mask to wait with: TERM, INT and CHLD unblocked */

static void on_term(int sig) {
  (void)sig;
  got_term = 1;
}
static void on_chld(int sig) { (void)sig; }

void setup_signals(void) {
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

void serve(void) {
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

void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}
