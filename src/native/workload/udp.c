/*
 * UDP listeners: the identity line, netexec's commands, serve-hostname;
 * replies leave from the address the datagram was sent to.
 */
#include "workload.h"

static unsigned char udp_buf[UDP_BUF];

void udp_readable(struct listener *l) {
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
