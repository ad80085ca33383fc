/*
 * netpol-probe: when does a NetworkPolicy change take effect on the wire?
 * For `npm run bench -- netpol`: the bench compiles it (cc -O2) and runs it
 * inside a client pod's network namespace.
 *
 *   netpol-probe <want> <interval_us> <timeout_ms> <streak> <max_ms> <ip> <port> [<ip> <port>]...
 *
 * <want> is "blocked" or "open". For every target, a new TCP connection
 * every <interval_us> (non-blocking connect, closed with an RST), many in
 * flight: a connect answered within <timeout_ms> is open, one not answered
 * is blocked (a policy drop is silent; <timeout_ms> stays under TCP's 1 s
 * initial RTO, so no SYN is sent twice and a probe's outcome belongs to the
 * instant it started). Anything else (refused, reset) is an error and
 * counts as neither.
 *
 * First it checks the state before the change: each target must give the
 * opposite of <want> once. Then it prints "ready" — the caller makes its
 * change — and probes until, for every target, <streak> probes in a row
 * (in the order they started) gave <want>. Prints one line per target, in
 * the order given: the wall-clock time (CLOCK_REALTIME, µs) at which the
 * first probe of that streak started, the probes started and the errors.
 * Exits 1, printing "timeout", if <max_ms> pass first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PENDING, OPEN, BLOCKED, ERROR };

struct probe {
  int fd;
  int state;
  double start_us;      /* CLOCK_MONOTONIC */
  double start_wall_us; /* CLOCK_REALTIME */
};

struct target {
  struct sockaddr_in sa;
  struct probe *probes;
  long n, cap;
  long done_at; /* index of the streak's first probe, -1 while searching */
};

static double clock_us(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void start_probe(struct target *t) {
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 1024;
    t->probes = realloc(t->probes, t->cap * sizeof *t->probes);
    if (!t->probes) exit(3);
  }
  struct probe *p = &t->probes[t->n++];
  p->start_us = clock_us(CLOCK_MONOTONIC);
  p->start_wall_us = clock_us(CLOCK_REALTIME);
  p->state = PENDING;
  p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0) {
    p->state = ERROR;
    return;
  }
  struct linger lg = {1, 0};
  setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  if (connect(p->fd, (struct sockaddr *)&t->sa, sizeof t->sa) == 0) p->state = OPEN;
  else if (errno != EINPROGRESS) p->state = ERROR;
  if (p->state != PENDING) {
    close(p->fd);
    p->fd = -1;
  }
}

static void finish(struct probe *p, int state) {
  p->state = state;
  close(p->fd);
  p->fd = -1;
}

/* Settle what can be settled: answered sockets, and those past the timeout. */
static void collect(struct target *ts, int nt, double timeout_us, int wait_ms) {
  struct pollfd pfd[8192];
  struct probe *owner[8192];
  int n = 0;
  for (int i = 0; i < nt; i++)
    for (long k = 0; k < ts[i].n && n < 8192; k++)
      if (ts[i].probes[k].state == PENDING) {
        pfd[n] = (struct pollfd){ts[i].probes[k].fd, POLLOUT, 0};
        owner[n++] = &ts[i].probes[k];
      }
  if (poll(pfd, n, wait_ms) > 0) {
    for (int j = 0; j < n; j++) {
      if (!pfd[j].revents) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(owner[j]->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      finish(owner[j], err ? ERROR : OPEN);
    }
  }
  double now = clock_us(CLOCK_MONOTONIC);
  for (int j = 0; j < n; j++)
    if (owner[j]->state == PENDING && now - owner[j]->start_us > timeout_us) finish(owner[j], BLOCKED);
}

/* Index of the first probe of a settled streak of `want`, or -1. */
static long streak_at(struct target *t, int want, int streak) {
  long run = 0;
  for (long k = 0; k < t->n; k++) {
    int s = t->probes[k].state;
    if (s == PENDING) return -1;
    run = s == want ? run + 1 : 0;
    if (run == streak) return k - streak + 1;
  }
  return -1;
}

static void reset(struct target *t) {
  for (long k = 0; k < t->n; k++)
    if (t->probes[k].state == PENDING) finish(&t->probes[k], ERROR);
  t->n = 0;
  t->done_at = -1;
}

int main(int argc, char **argv) {
  if (argc < 8 || (argc - 6) % 2 != 0 || (strcmp(argv[1], "blocked") && strcmp(argv[1], "open"))) {
    fprintf(stderr, "usage: netpol-probe blocked|open <interval_us> <timeout_ms> <streak> <max_ms> <ip> <port> [<ip> <port>]...\n");
    return 2;
  }
  int want = strcmp(argv[1], "blocked") == 0 ? BLOCKED : OPEN;
  int other = want == BLOCKED ? OPEN : BLOCKED;
  double interval_us = atof(argv[2]);
  double timeout_us = atof(argv[3]) * 1000;
  int streak = atoi(argv[4]);
  double max_us = atof(argv[5]) * 1000;
  int nt = (argc - 6) / 2;
  struct target *ts = calloc(nt, sizeof *ts);
  for (int i = 0; i < nt; i++) {
    ts[i].sa.sin_family = AF_INET;
    ts[i].sa.sin_port = htons((unsigned short)atoi(argv[7 + 2 * i]));
    if (inet_pton(AF_INET, argv[6 + 2 * i], &ts[i].sa.sin_addr) != 1) {
      fprintf(stderr, "%s: not an IPv4 address\n", argv[6 + 2 * i]);
      return 2;
    }
  }

  /* the state before: one probe at a time per target until it gives the opposite of want */
  double t0 = clock_us(CLOCK_MONOTONIC);
  for (int i = 0; i < nt; i++) {
    for (;;) {
      reset(&ts[i]);
      start_probe(&ts[i]);
      while (ts[i].probes[0].state == PENDING) collect(&ts[i], 1, timeout_us, 10);
      if (ts[i].probes[0].state == other) break;
      if (clock_us(CLOCK_MONOTONIC) - t0 > max_us) {
        printf("timeout before: %s is not %s\n", argv[6 + 2 * i], other == OPEN ? "open" : "blocked");
        return 1;
      }
      usleep(10000);
    }
    reset(&ts[i]);
  }
  printf("ready\n");
  fflush(stdout);

  double epoch = clock_us(CLOCK_MONOTONIC), next = epoch;
  for (;;) {
    double now = clock_us(CLOCK_MONOTONIC);
    if (now >= next) {
      for (int i = 0; i < nt; i++)
        if (ts[i].done_at < 0) start_probe(&ts[i]);
      next += interval_us;
    }
    int wait_ms = (int)((next - clock_us(CLOCK_MONOTONIC)) / 1000);
    collect(ts, nt, timeout_us, wait_ms < 0 ? 0 : wait_ms);
    int left = 0;
    for (int i = 0; i < nt; i++) {
      if (ts[i].done_at >= 0) continue;
      ts[i].done_at = streak_at(&ts[i], want, streak);
      if (ts[i].done_at < 0) left++;
    }
    if (!left) break;
    if (clock_us(CLOCK_MONOTONIC) - epoch > max_us) {
      printf("timeout\n");
      return 1;
    }
  }
  for (int i = 0; i < nt; i++) {
    long errors = 0;
    for (long k = 0; k < ts[i].n; k++) errors += ts[i].probes[k].state == ERROR;
    printf("%.0f %ld %ld\n", ts[i].probes[ts[i].done_at].start_wall_us, ts[i].n, errors);
    reset(&ts[i]);
  }
  return 0;
}
