import { BenchError } from './errors.js';
/**
 * The nginx that `bench ingress` puts beside podwire's controller: Debian's
 * nginx, configured by hand as the same reverse proxy the controller is for
 * the bench's one Ingress rule — HTTP on 80 and HTTPS on 443 (the same
 * certificate and key as the Ingress's Secret), `location /` proxied over
 * HTTP/1.1 keep-alive to the backend Service's ClusterIP, with the request
 * headers podwire's proxy sets (src/ingress/proxy/headers.ts: Host kept,
 * X-Forwarded-For/Proto/Host/Port, X-Real-IP) and an access log line per
 * request in ingress-nginx's `upstreaminfo` format, as podwire writes one.
 *
 * Where podwire's controller has no setting of its own, ingress-nginx's
 * defaults (its nginx.tmpl and ConfigMap defaults) are taken: one worker
 * here (the core budget is one core), worker_connections 16384,
 * keepalive_timeout 75s and keepalive_requests 1000 towards clients,
 * upstream keepalive 320 connections / 10000 requests / 60s,
 * proxy_buffering off (podwire streams bodies too), TLS 1.2 and 1.3.
 * Session tickets are left at nginx's default (on): node's TLS server
 * sends them too, so both do the same work per handshake.
 *
 * Every path (pid, logs, temp files) is under `dir`: the bench's own
 * temporary directory; nothing of /etc/nginx or /var is read or written.
 * Pure: the unit test reads the text.
 */
export interface NginxProxyConf {
  /** the bench's directory for this nginx (absolute) */
  dir: string;
  /** the backend Service, ClusterIP:port */
  upstream: string;
  certFile: string;
  keyFile: string;
  httpPort?: number;
  httpsPort?: number;
  /** idle keep-alive connections kept to the upstream (ingress-nginx: upstream-keepalive-connections 320) */
  upstreamKeepalive?: number;
}

/** ingress-nginx's log format (its ConfigMap's default log-format-upstream; its $req_id is nginx's $request_id). */
export const UPSTREAMINFO_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
  '$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr ' +
  '$upstream_response_length $upstream_response_time $upstream_status $request_id';

/** The upstream's name in the log and the config, as ingress-nginx names one: namespace-service-port. */
export const UPSTREAM_NAME = 'ingbench-backend-80';

export function nginxProxyConf(c: NginxProxyConf): string {
  if (!c.dir.startsWith('/'))
    throw new BenchError('ERR_BAD_CONFIG', `nginx's directory must be absolute, got "${c.dir}"`);
  const d = c.dir.replace(/\/+$/, '');
  const http = c.httpPort ?? 80;
  const https = c.httpsPort ?? 443;
  return `# podwire bench ingress: Debian's nginx as the same reverse proxy as the Ingress (generated)
worker_processes 1;
daemon off;
master_process on;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;

events {
  worker_connections 16384;
  multi_accept on;
}

http {
  client_body_temp_path ${d}/client_body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;

  log_format upstreaminfo '${UPSTREAMINFO_FORMAT}';
  access_log ${d}/access.log upstreaminfo;

  keepalive_timeout 75s;
  keepalive_requests 1000;
  server_tokens off;

  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  ssl_session_timeout 10m;

  upstream ${UPSTREAM_NAME} {
    server ${c.upstream};
    keepalive ${c.upstreamKeepalive ?? 320};
    keepalive_requests 10000;
    keepalive_timeout 60s;
  }

  server {
    listen ${http} default_server backlog=4096;
    listen ${https} ssl default_server backlog=4096;
    server_name _;
    ssl_certificate ${c.certFile};
    ssl_certificate_key ${c.keyFile};

    set $proxy_upstream_name ${UPSTREAM_NAME};
    set $proxy_alternative_upstream_name "";

    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_buffering off;
      proxy_pass http://${UPSTREAM_NAME};
    }
  }
}
`;
}
