/*
 * Listening sockets: TCP and UDP on 0.0.0.0 and [::], the line announcing
 * them.
 */
#include "workload.h"

struct listener listeners[MAX_LISTENERS];
int nlisteners;

/*
 * Binds ip:port (TCP or UDP). With `optional` (the [::] twin of a 0.0.0.0
 * listener) a machine without IPv6 is not an error. Any other failure is the
 * container failing to start: a clear line on stderr and exit 1.
 */
void listen_on(const char *ip, int port, int udp, enum role role, int optional) {
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

void listen_any(int port, int udp, enum role role) {
  listen_on("0.0.0.0", port, udp, role, 0);
  listen_on("::", port, udp, role, 1);
}

void announce(const int *tcp, int ntcp, const int *udp, int nudp) {
  char line[512];
  size_t o = (size_t)snprintf(line, sizeof line, "%s (podwire built-in) listening on", id.server);
  const char *sep = " ";
  for (int i = 0; i < ntcp && o < sizeof line; i++, sep = ", ") o += (size_t)snprintf(line + o, sizeof line - o, "%s:%d", sep, tcp[i]);
  for (int i = 0; i < nudp && o < sizeof line; i++, sep = ", ") o += (size_t)snprintf(line + o, sizeof line - o, "%s:%d/UDP", sep, udp[i]);
  printf("%s\n", line);
}
