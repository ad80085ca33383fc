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
#include "workload.h"

/* ---------- modes ---------- */

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
