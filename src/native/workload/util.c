/*
 * Identity (POD_NAME, POD_NAMESPACE, NODE_NAME, HOSTNAME), the monotonic
 * clock, addresses and errno as Go prints them, waiting on one descriptor.
 */
#include "workload.h"

struct identity id;

static char uts_name[256];

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

void load_identity(void) {
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

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n) {
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

void lowercase_errno(char *out, size_t n, int err) {
  snprintf(out, n, "%s", strerror(err));
  if (out[0]) out[0] = (char)tolower((unsigned char)out[0]);
}

int wait_fd(int fd, short ev, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {fd, ev, 0};
    int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return -1;
  }
}
