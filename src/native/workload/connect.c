/*
 * agnhost connect: a client; exit 0 when connected, else agnhost's fixed
 * error prefix on stderr.
 */
#include "workload.h"

/* agnhost connect: exit 0 when connected; else a fixed prefix on stderr and exit 1. */
int mode_connect(int argc, char **argv) {
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
