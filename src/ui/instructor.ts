/**
 * The endpoints behind the Layers view, the Policy view and the instructor
 * controls of `podwire ui` (issue #16), each through the same library code
 * as its CLI verb: `podwire trace` (lab/trace-run.ts), `podwire probe`
 * (src/probe), `podwire lab break|fix` (lab/faults.ts, which records what is
 * broken in the lab's state dir) and the demo app of `lab up --demo`.
 * JSON shapes: contract.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiClient } from '../control/client/index.js';
import { execaRunner } from '../host/index.js';
import { SCENARIOS, applyDemo, breakLab, brokenNow, fixLab, labApiServer, trace, type LabState } from '../lab/index.js';
import { probe } from '../probe/index.js';
import type { UiActionResult, UiScenario, UiStepState, UiTraceRequest, UiTraceResult } from './contract.js';
import { UiHttpError, type UiContext, type UiRoute } from './routes.js';
import { probeMatrixToUi } from './probe-cells.js';
import { StepSession } from './step.js';
import { traceLadder } from './trace-ladder.js';
import { captureProbe, type ProbeCapture } from './trace-pcap.js';
import { randomBytes } from 'node:crypto';

/** How many trace results (and their pcaps) and step sessions are kept. */
const KEEP = 20;

const POD = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** "ns/pod" or "pod" → the lab's pod name (lab pods are named without their namespace). */
function podName(s: string): string {
  const parts = s.split('/');
  const name = parts[parts.length - 1];
  if (parts.length > 2 || !POD.test(name)) throw new UiHttpError(400, `"${s}" is not a pod ("ns/pod" or "pod")`);
  return name;
}

/** The request as `podwire trace` takes its target: <pod|ip|name>[:port][/proto], or svc/… as it is. */
export function traceTarget(r: UiTraceRequest): { from: string; target: string } {
  if (typeof r?.from !== 'string' || typeof r?.to !== 'string' || !r.to)
    throw new UiHttpError(400, 'body must be {"from": "ns/pod", "to": "ns/pod" | a name | an IP, "port"?, "proto"?}');
  if (r.port !== undefined && (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535))
    throw new UiHttpError(400, `port ${String(r.port)} is not 1-65535`);
  if (r.proto !== undefined && !['tcp', 'udp', 'icmp'].includes(r.proto))
    throw new UiHttpError(400, 'proto must be tcp, udp or icmp');
  const svc = /^(svc|service|services)\//.test(r.to);
  const host = svc ? r.to : r.to.includes('/') ? podName(r.to) : r.to;
  if (!svc && !/^[A-Za-z0-9.-]+$/.test(host)) throw new UiHttpError(400, `"${r.to}" is not a pod, a name or an IP`);
  const target = `${host}${r.port ? `:${r.port}` : ''}${r.proto ? `/${r.proto}` : ''}`;
  return { from: podName(r.from), target };
}

/** A library error as the page's 4xx: what the user asked for does not exist or cannot be. */
function asHttp(err: unknown): never {
  if (err instanceof UiHttpError) throw err;
  const e = err as Error & { code?: string };
  const status = e.code === 'ERR_NO_SUCH_POD' || e.code === 'ERR_NOT_FOUND' ? 404 : 400;
  throw new UiHttpError(status, e.message, status === 404 ? 'ERR_UI_NOT_FOUND' : 'ERR_UI_BAD_REQUEST', { cause: err });
}

function actionStatus(err: unknown): number {
  const code = (err as { code?: string }).code;
  if (code === 'ERR_NO_SUCH_SCENARIO' || code === 'ERR_NO_SUCH_NODE' || code === 'ERR_NO_SUCH_POD') return 404;
  if (code === 'ERR_FAULT') return 409;
  return 400;
}

/** Keeps the newest KEEP entries of a map. */
function keep<V>(m: Map<string, V>, id: string, v: V): void {
  m.set(id, v);
  while (m.size > KEEP) m.delete(m.keys().next().value as string);
}

export function instructorRoutes(ctx: UiContext): UiRoute[] {
  const state: LabState = ctx.lab;
  const traces = new Map<string, { result: UiTraceResult; pcap: Buffer | null }>();
  const steps = new Map<string, StepSession>();
  // break, fix and reset change the lab one at a time, as the CLI would from one terminal
  let busy: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const run = busy.then(f, f);
    busy = run.catch(() => undefined);
    return run;
  };
  const act = async (res: ServerResponse, f: () => Promise<string>): Promise<void> => {
    try {
      const message = await serial(f);
      ctx.sendJson(res, { ok: true, message } satisfies UiActionResult);
    } catch (err) {
      ctx.sendJson(res, { ok: false, message: (err as Error).message } satisfies UiActionResult, actionStatus(err));
    }
  };
  const body = async <T>(req: IncomingMessage): Promise<T> => ((await ctx.readJsonBody(req)) ?? {}) as T;
  // An agent follows one probe at a time (GET /trace sets it): traces run one
  // after another, and a new one gives up a step-mode probe still on its way.
  let tracing: Promise<unknown> = Promise.resolve();
  let stepping: StepSession | null = null;
  const oneTrace = <T>(f: () => Promise<T>): Promise<T> => {
    const run = tracing.then(async () => {
      if (stepping && !stepping.finished) await stepping.abort();
      stepping = null;
      return f();
    });
    tracing = run.catch(() => undefined);
    return run;
  };

  return [
    {
      method: 'POST',
      path: /^\/api\/trace$/,
      async handler(req, res) {
        const t = traceTarget(await body<UiTraceRequest>(req));
        let cap: ProbeCapture | null = null;
        let outcome;
        try {
          outcome = await oneTrace(() =>
            trace(state, t.from, t.target, {
              beforeInject: async (p) => {
                cap = await captureProbe(state, p).catch(() => null);
              },
            }),
          );
        } catch (err) {
          await (cap as ProbeCapture | null)?.stop().catch(() => null);
          asHttp(err);
        }
        const pcap = cap ? await (cap as ProbeCapture).stop().catch(() => null) : null;
        const id = randomBytes(6).toString('hex');
        const p = outcome.probe;
        const result: UiTraceResult = {
          id,
          verdict: outcome.result.verdict,
          summary: outcome.result.summary,
          layers: traceLadder({
            result: outcome.result,
            events: outcome.events ?? [],
            dnsLayers: outcome.dnsLayers,
            ...(outcome.address ? { address: outcome.address, name: t.target.replace(/[:/].*$/, '') } : {}),
            srcPod: t.from,
            srcNode: p?.srcNode ?? '',
            ...((outcome.deliveredTo ?? p?.dstPod) ? { dstPod: outcome.deliveredTo ?? p?.dstPod } : {}),
            ...(p?.dstNode ? { dstNode: p.dstNode } : {}),
            final: true,
          }),
          ...(pcap ? { pcapUrl: `/api/trace/${id}/pcap` } : {}),
        };
        keep(traces, id, { result, pcap });
        ctx.sendJson(res, result);
      },
    },
    {
      method: 'GET',
      path: /^\/api\/trace\/([0-9a-f]+)\/pcap$/,
      handler(_req, res, m) {
        const t = traces.get(m[1]);
        if (!t?.pcap)
          throw new UiHttpError(404, `no capture of trace ${m[1]} (the last ${KEEP} are kept)`, 'ERR_UI_NOT_FOUND');
        res.writeHead(200, {
          'content-type': 'application/x-pcapng',
          'content-disposition': `attachment; filename="trace-${m[1]}.pcapng"`,
          'content-length': t.pcap.length,
        });
        res.end(t.pcap);
      },
    },
    {
      method: 'POST',
      path: /^\/api\/step$/,
      async handler(req, res) {
        const t = traceTarget(await body<UiTraceRequest>(req));
        const s = new StepSession(state, t);
        let view: UiStepState;
        try {
          view = await oneTrace(async () => {
            stepping = s;
            return s.start();
          });
        } catch (err) {
          asHttp(err);
        }
        keep(steps, s.id, s);
        ctx.sendJson(res, view);
      },
    },
    {
      method: 'POST',
      path: /^\/api\/step\/([0-9a-f]+)\/next$/,
      async handler(_req, res, m) {
        const s = steps.get(m[1]);
        if (!s) throw new UiHttpError(404, `no step-mode probe ${m[1]}`, 'ERR_UI_NOT_FOUND');
        try {
          ctx.sendJson(res, await s.next());
        } catch (err) {
          asHttp(err);
        }
      },
    },
    {
      method: 'GET',
      path: /^\/api\/probe$/,
      async handler(req, res) {
        const q = new URL(req.url ?? '/', 'http://ui').searchParams;
        const namespace = q.get('namespace') || 'default';
        const port = Number(q.get('port') || 80);
        const proto = (q.get('proto') || 'tcp').toLowerCase();
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UiHttpError(400, 'port must be 1-65535');
        if (proto !== 'tcp' && proto !== 'udp') throw new UiHttpError(400, 'proto must be tcp or udp');
        const server = labApiServer(state);
        if (!server) throw new UiHttpError(400, 'this lab has no API server: probe needs the policy model');
        const api = new ApiClient(server);
        try {
          const m = await probe(
            { api, state, runner: execaRunner() },
            { namespace, ports: [port], protocols: [proto], to: 'pods', timeoutMs: 1000, parallel: 3 },
          );
          ctx.sendJson(res, probeMatrixToUi(m, namespace, port, proto));
        } catch (err) {
          asHttp(err);
        } finally {
          api.close();
        }
      },
    },
    {
      method: 'GET',
      path: /^\/api\/scenarios$/,
      handler(_req, res) {
        const broken = brokenNow(state);
        const list: UiScenario[] = SCENARIOS.map((s) => ({
          name: s.name,
          summary: s.summary,
          findWith: s.findWith,
          target: s.target,
          ...(s.defaultTarget ? { defaultTarget: s.defaultTarget } : {}),
          broken: broken.filter((b) => b.scenario === s.name).map((b) => b.target),
        }));
        ctx.sendJson(res, list);
      },
    },
    {
      method: 'POST',
      path: /^\/api\/break$/,
      async handler(req, res) {
        const b = await body<{ scenario?: unknown; target?: unknown }>(req);
        await act(res, async () => {
          if (typeof b.scenario !== 'string')
            throw new UiHttpError(400, 'body must be {"scenario": "<name>", "target"?}');
          const s = SCENARIOS.find((x) => x.name === b.scenario);
          const target = typeof b.target === 'string' && b.target ? b.target : s?.defaultTarget;
          if (s && !target) throw new UiHttpError(400, `say which ${s.target} to break ${s.name} on`);
          const done = await breakLab(state, b.scenario, target ?? '');
          return `broken: ${done.name} on ${target}; find it with: ${done.findWith}`;
        });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/fix$/,
      async handler(req, res) {
        const b = await body<{ scenario?: unknown; target?: unknown }>(req);
        await act(res, async () => {
          const fixed = await fixLab(
            state,
            typeof b.scenario === 'string' && b.scenario ? b.scenario : undefined,
            typeof b.target === 'string' && b.target ? b.target : undefined,
          );
          return fixed.length
            ? fixed.map((f) => `fixed: ${f.scenario} on ${f.target}`).join('; ')
            : 'nothing is broken';
        });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/reset$/,
      async handler(_req, res) {
        await act(res, async () => {
          const fixed = await fixLab(state);
          if (!labApiServer(state)) throw new UiHttpError(400, 'this lab has no API server: no demo app to reset to');
          const pods = await applyDemo(state, () => {});
          return `${fixed.length ? `fixed ${fixed.map((f) => `${f.scenario} on ${f.target}`).join(', ')}; ` : ''}the demo app is applied, ${pods.length} pods Ready`;
        });
      },
    },
  ];
}
