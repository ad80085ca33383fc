/*
 * Usage and flags: Go's flag syntax (--name v, --name=v, booleans), port
 * lists, Go durations.
 */
#include "workload.h"

const char USAGE[] =
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

void usage_error(const char *fmt, ...) {
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
int take_flag(int argc, char **argv, int *i, const char *name, const char **val) {
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
int take_bool(const char *a, const char *name, int *out) {
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

int parse_int(const char *s, long min, long max, long *out) {
  char *end;
  if (!s || !*s) return 0;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < min || v > max) return 0;
  *out = v;
  return 1;
}

int parse_ports(const char *s, int *ports, int max) {
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
int parse_duration(const char *s, int64_t *ms) {
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
