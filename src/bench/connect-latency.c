/*
 * connect-latency: new-connection latency through Service VIPs, for
 * `npm run bench -- services`. The bench compiles it (cc -O2) and runs it
 * inside a client pod's network namespace.
 *
 *   connect-latency <vip-file> <port> <samples> <warmup> <seed>
 *
 * <vip-file> holds one IPv4 address a line. Each sample: a non-blocking
 * connect() to a VIP picked at random (xorshift32 from <seed>), timed from
 * the call until the socket is writable — the SYN out, the SYN-ACK back —
 * then closed with SO_LINGER 0 (an RST: no FIN handshake, no TIME_WAIT).
 * Samples follow each other without a pause. The first <warmup> are not
 * reported. Prints one line per sample: microseconds and the local port
 * the kernel chose, or "fail <errno>" (a connect that was refused, reset
 * or not answered in 3 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 3000

static uint32_t rng;
static uint32_t xorshift32(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One connect: microseconds, or -errno; *local = the source port. */
static double sample(const struct in_addr *vip, int port, int *local) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr = *vip;
  double t0 = now_us();
  int err = 0;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
    } else {
      struct pollfd p = {fd, POLLOUT, 0};
      int n = poll(&p, 1, TIMEOUT_MS);
      if (n == 0) err = ETIMEDOUT;
      else if (n < 0) err = errno;
      else {
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
  }
  double us = now_us() - t0;
  struct sockaddr_in me;
  socklen_t melen = sizeof me;
  *local = getsockname(fd, (struct sockaddr *)&me, &melen) == 0 ? ntohs(me.sin_port) : 0;
  close(fd);
  return err ? -err : us;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: connect-latency <vip-file> <port> <samples> <warmup> <seed>\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  size_t cap = 1024, n = 0;
  struct in_addr *vips = malloc(cap * sizeof *vips);
  char line[64];
  while (vips && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    if (n == cap) vips = realloc(vips, (cap *= 2) * sizeof *vips);
    if (vips && inet_pton(AF_INET, line, &vips[n]) == 1) n++;
  }
  fclose(f);
  if (!vips || n == 0) {
    fprintf(stderr, "%s: no IPv4 addresses\n", argv[1]);
    return 2;
  }
  int port = atoi(argv[2]);
  long samples = atol(argv[3]), warmup = atol(argv[4]);
  rng = (uint32_t)strtoul(argv[5], NULL, 10) | 1;
  for (long i = 0; i < warmup + samples; i++) {
    int local = 0;
    double r = sample(&vips[xorshift32() % n], port, &local);
    if (i < warmup) continue;
    if (r < 0) printf("fail %d\n", (int)-r);
    else printf("%.1f %d\n", r, local);
  }
  free(vips);
  return 0;
}
