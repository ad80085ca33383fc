import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { waitFor, restartAgent, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import type { ApiClient, KubeObject } from '../../src/control/client/index.js';
import type { UiSession } from '../../src/ui/contract.js';
import { STATE_ROOT, testPrefix, stopLab, inNs, demoLabAcrossNodes } from './helpers.js';

// The page of `podwire ui` in a real browser (Debian's chromium driven by playwright-core) against
// the real `podwire ui` process and a real 2-node lab with the demo app: the topology names
// exactly the nodes and pods the API server reports; a real curl from node1's client to a pod on
// node2 appears as a flow through VXLAN, and one to the Service's VIP through the Service's hop;
// under iperf3 the transfer stays one element and the page keeps drawing; a NetworkPolicy's drop
// shows its reason; the Policy tab's grid has a cell per pair and explains one; a lab break from the Instructor menu shows up as drops and break-on-drop
// freezes the view; step mode reveals one layer per click; the status line says when node2's
// agent is down and when it is back. Screenshots at 1280×720 go to
// test-output/ui/ (docs/img/ui-topology.png is one of them, committed by hand).
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true')
  throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(repo, 'test-output', 'ui');
const prefix = testPrefix('uib');
let state: LabState;
let api: ApiClient;
let ui: ResultPromise | undefined;
let url = '';
let session: UiSession;
let browser: BrowserContext | undefined;
let page: Page;
let userDataDir = '';
/** the demo's client (pinned to node1) and a backend pod on node2 */
let client: KubeObject;
let remote: KubeObject;

const podId = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
const texts = (selector: string) => page.locator(selector).allInnerTexts();
const attrs = (selector: string, name: string) =>
  page.locator(selector).evaluateAll((els, n) => els.map((e) => e.getAttribute(n) ?? ''), name);
const shot = (name: string) => page.screenshot({ path: path.join(OUT, `${name}.png`) });
const curl = (to: string, extra: string[] = []) =>
  inNs(`${prefix}-pod-client`, ['curl', '-s', '-o', '/dev/null', '--max-time', '3', ...extra, `http://${to}:8080/`], {
    timeoutMs: 10_000,
  });

describe.skipIf(!haveChromium)('podwire ui in a browser', () => {
  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    ({ state, api, client, remote } = await demoLabAcrossNodes(prefix));

    // the real `podwire ui` on a port the kernel picks; it prints its URL
    ui = execa(process.execPath, [CLI_ENTRY, '--lab', prefix, 'ui', '--port', '0'], {
      env: { PODWIRE_STATE_ROOT: STATE_ROOT },
      reject: false,
      buffer: true,
    });
    let said = '';
    ui.stdout!.on('data', (d: Buffer) => (said += d.toString()));
    await waitFor('podwire ui to print its URL', 30_000, () => /http:\/\/127\.0\.0\.1:\d+/.test(said));
    url = said.match(/http:\/\/127\.0\.0\.1:\d+/)![0];
    session = (await (await fetch(`${url}/api/session`)).json()) as UiSession;

    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwire-chromium-'));
    // no outside network here: without these flags chromium keeps trying Google's services
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    await page.goto(url);
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    if (ui) {
      ui.kill('SIGTERM');
      await ui;
    }
    api?.close();
    await stopLab(prefix);
  }, 120_000);

  it('the topology shows exactly the nodes and pods the API server reports', async () => {
    const nodes = (await api.list('nodes')).items.map((n) => n.metadata.name).sort();
    const pods = (await api.list('pods')).items
      .filter((p) => p.status?.podIP)
      .map(podId)
      .sort();
    expect(nodes).toEqual(['node1', 'node2']);
    // the page's lists and the SVG's boxes, once the topology event has caught up with the pods' IPs
    await waitFor('the page to list the API’s pods', 30_000, async () => {
      const listed = (await attrs('[data-testid=pods] li[data-pod]', 'data-pod')).sort();
      const drawn = (await attrs('svg.topology g.pod[data-pod]', 'data-pod')).sort();
      return JSON.stringify(listed) === JSON.stringify(pods) && JSON.stringify(drawn) === JSON.stringify(pods);
    });
    expect((await attrs('[data-testid=nodes] li[data-node]', 'data-node')).sort()).toEqual(nodes);
    expect((await attrs('svg.topology g.k8s-node[data-node]', 'data-node')).sort()).toEqual(nodes);
    // names and addresses are SVG text: what a screen reader and this test read
    const node2 = await api.get('nodes', undefined, 'node2');
    const svgText = await page.locator('svg.topology').textContent();
    expect(svgText).toContain(
      `node2 · ${node2.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address}`,
    );
    expect(svgText).toContain(`${podId(client)}`);
    expect(svgText).toContain(client.status.podIP);
    expect(svgText).toMatch(/cbr0 \d+\.\d+\.\d+\.1/);
    expect(svgText).toContain('underlay network (eth0)');
    expect(await page.locator('[data-testid=services] li[data-service="default/backend"]').textContent()).toContain(
      remote.metadata.name,
    );
  });

  it('a curl from node1’s client to a pod on node2 appears as a flow through VXLAN', async () => {
    const want = [podId(client), podId(remote), 'VXLAN node1 → node2 over eth0'];
    const flowText = async () =>
      (await texts('[data-testid=flows] li')).find((t) => want.every((w) => t.includes(w))) ?? '';
    await waitFor(
      'the curl’s flow on the page',
      30_000,
      async () => {
        const r = await curl(remote.status.podIP);
        expect(r.exitCode, String(r.stderr)).toBe(0);
        return (await flowText()) !== '';
      },
      1000,
    );
    expect(await flowText()).toMatch(/tcp\/8080/i);
    // and on the picture: the flow's element, named by both pods and its hops
    const drawn = await attrs('svg.topology g.flow', 'aria-label');
    expect(drawn.find((l) => want.every((w) => l.includes(w)))).toBeTruthy();
    // through the Service: the frontend is a hop of the path, the backend it chose named
    const vip = (await api.get('services', 'default', 'backend')).spec.clusterIP as string;
    const viaService = async () =>
      (await texts('[data-testid=flows] li')).find(
        (t) =>
          t.includes(podId(client)) &&
          t.includes('via Service default/backend') &&
          t.includes('→ Service default/backend →'),
      ) ?? '';
    await waitFor(
      'the curl through the Service on the page',
      30_000,
      async () => {
        const r = await curl(vip);
        expect(r.exitCode, String(r.stderr)).toBe(0);
        return (await viaService()) !== '';
      },
      1000,
    );
    await shot('topology');
  });

  it('under iperf3 load the page keeps one element per flow and keeps drawing', async () => {
    // the longest gap between two animation frames while the load runs: a frozen page has long ones
    await page.evaluate(() => {
      const w = window as unknown as { maxGap: number; last: number };
      w.maxGap = 0;
      w.last = performance.now();
      const tick = (t: number) => {
        w.maxGap = Math.max(w.maxGap, t - w.last);
        w.last = t;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const server = inNs(`${prefix}-pod-${remote.metadata.name}`, ['iperf3', '-s', '-1', '-p', '5201'], {
      timeoutMs: 30_000,
    });
    await waitFor('iperf3 -s to listen', 10_000, async () => {
      const r = await inNs(`${prefix}-pod-${remote.metadata.name}`, ['ss', '-ltnH', 'sport = :5201']);
      return String(r.stdout).includes('5201');
    });
    const load = await inNs(
      `${prefix}-pod-client`,
      ['iperf3', '-c', remote.status.podIP, '-p', '5201', '-t', '3', '-J'],
      {
        timeoutMs: 30_000,
      },
    );
    await server;
    expect(load.exitCode, String(load.stderr)).toBe(0);
    const sent = JSON.parse(String(load.stdout)).end.sum_sent.bytes as number;
    expect(sent).toBeGreaterThan(1e6);
    const isIperf = (l: string) => l.includes(podId(client)) && l.includes(podId(remote)) && l.includes('/5201');
    await waitFor('the iperf3 flow on the picture', 15_000, async () =>
      (await attrs('svg.topology g.flow', 'aria-label')).some(isIperf),
    );
    // every packet of the transfer folded into one element; the picture stays under its cap
    const labels = await attrs('svg.topology g.flow', 'aria-label');
    expect(labels.filter(isIperf)).toHaveLength(1);
    expect(labels.length).toBeLessThanOrEqual(80);
    const maxGap = await page.evaluate(() => (window as unknown as { maxGap: number }).maxGap);
    console.log(
      `ui-browser: iperf3 sent ${(sent / 1e6).toFixed(0)} MB; the page's longest frame gap ${maxGap.toFixed(0)} ms`,
    );
    // a frozen page stops drawing for many seconds; a loaded 2-core machine alone gives ~1.5 s
    expect(maxGap).toBeLessThan(5000);
  });

  it('a NetworkPolicy’s drop shows its reason', async () => {
    const name = 'ui-test-deny';
    const deny: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'default', name },
      spec: { podSelector: { matchLabels: { tier: 'backend' } }, policyTypes: ['Ingress'] },
    };
    await api.create(deny);
    try {
      // the drops list (or the dropped flow, if the server's rate limit folded this drop into another's count)
      const drop = async () =>
        [
          ...(await texts('[data-testid=drops] li.drop')),
          ...(await texts('[data-testid=flows] li.verdict-dropped')),
        ].find(
          (t) => t.includes('policy-denied-ingress') && (t.includes(podId(remote)) || t.includes(remote.status.podIP)),
        ) ?? '';
      await waitFor(
        'the policy’s drop on the page',
        30_000,
        async () => {
          await curl(remote.status.podIP);
          return (await drop()) !== '';
        },
        1000,
      );
      // in the picture too: the flow in red with the reason at its hop
      expect(await page.locator('svg.topology g.flow.verdict-dropped .drop-mark').allTextContents()).toContain(
        '✖ policy-denied-ingress',
      );
      await shot('drop');
      // the README's picture: the same, filtered to the client's flows and drops (the pod filter)
      await page.fill('input[aria-label="Filter by pod"]', 'client');
      await expect.poll(() => page.locator('[data-testid=drops] li.drop').count()).toBeGreaterThan(0);
      await shot('topology-client');
      await page.fill('input[aria-label="Filter by pod"]', '');
    } finally {
      await api.delete('networkpolicies', 'default', name);
    }
  });

  it('the Policy tab draws the probe matrix as a grid and explains a cell', async () => {
    await page.click('#tab-policy');
    await page.selectOption('select[aria-label="Probe namespace"]', 'default');
    await page.getByRole('button', { name: 'Probe every pair' }).click();
    await page.locator('table.matrix').waitFor({ timeout: 60_000 });
    const cells = page.locator('table.matrix td.cell button');
    const pods = (await api.list('pods', { namespace: 'default' })).items.length;
    expect(await cells.count()).toBe(pods * pods);
    // no policy left in default (the deny one was deleted): every probed cell allowed, in words
    const words = new Set((await cells.allInnerTexts()).map((t) => t.trim()));
    expect([...words].filter((w) => w !== '—')).toEqual(['✔ allowed']);
    await cells.nth(1).click();
    expect(await page.locator('.explain h3').textContent()).toMatch(/→ .*: allowed/);
    expect(((await page.locator('.explain pre').textContent()) ?? '').length).toBeGreaterThan(0);
    expect(await page.locator('figure.policy-graph figcaption').allTextContents()).toEqual([
      expect.stringMatching(/^Without NetworkPolicy — \d+ allowed connections$/),
      expect.stringMatching(/^With the namespace's NetworkPolicies — \d+ allowed connections$/),
    ]);
    await shot('policy');
  });

  it('step mode reveals one more layer per click of Next', async () => {
    await page.click('#tab-layers');
    await page.selectOption('select[aria-label="Source pod"]', podId(client));
    await page.fill('input[aria-label="Target"]', podId(remote));
    await page.fill('input[aria-label="Port"]', '8080');
    await page.selectOption('select[aria-label="Protocol"]', 'tcp');
    await page.getByRole('button', { name: 'Step mode' }).click();
    const reached = () => page.locator('.step-result li.layer:not(.state-not-reached)').count();
    await page.locator('.step-result').waitFor({ timeout: 30_000 });
    const first = await reached();
    expect(first).toBeGreaterThanOrEqual(1);
    const next = page.getByRole('button', { name: 'Next layer' });
    let n = first;
    // two clicks, each one more layer (the probe is held at the last one reached)
    for (let click = 1; click <= 2; click++) {
      await next.click();
      await waitFor(`layer ${n + 1} after click ${click}`, 30_000, async () => (await reached()) === n + 1);
      n++;
    }
    expect(n).toBe(first + 2);
    await shot('layers-step');
  });

  it('a lab break from the Instructor menu shows up as drops, and break-on-drop freezes the view at the first', async () => {
    await page.click('#tab-instructor');
    await page.locator('tr[data-scenario="mtu-mismatch"]').waitFor({ timeout: 15_000 });
    // break-on-drop first: the view must stop at the first mtu-exceeded
    // (the filter before the box: ticked with an empty filter, any drop of the lab's own would freeze it)
    await page.fill('input[aria-label="Break-on-drop filter"]', 'mtu-exceeded');
    await page.getByLabel('Freeze the view at the first matching drop').check();
    await page.fill('input[aria-label="Target of mtu-mismatch"]', 'client');
    await page.getByRole('button', { name: 'Break mtu-mismatch' }).click();
    await expect.poll(() => page.locator('.action-message').textContent(), { timeout: 30_000 }).toMatch(/^done/);
    try {
      // a 1488-byte ping with DF: the client's eth0 now takes it, the path (1450) does not. (TCP would
      // not show it: the server's MSS keeps its segments small.)
      // in the drops list, or as a dropped flow when the server's drop rate limit folded it into a
      // neighbour's `suppressed` (the lab's own traffic drops too: not-ours for the API server's port)
      const drop = async () =>
        [
          ...(await texts('[data-testid=drops] li.drop')),
          ...(await texts('[data-testid=flows] li.verdict-dropped')),
        ].find((t) => t.includes('mtu-exceeded') && t.includes(podId(client))) ?? '';
      await waitFor(
        'mtu-exceeded on the page',
        30_000,
        async () => {
          await inNs(`${prefix}-pod-client`, [
            'ping',
            '-M',
            'do',
            '-s',
            '1460',
            '-c',
            '1',
            '-W',
            '1',
            remote.status.podIP,
          ]);
          return (await drop()) !== '';
        },
        1000,
      );
      await expect.poll(() => page.locator('.frozen').textContent(), { timeout: 10_000 }).toContain('mtu-exceeded');
      await shot('instructor-break');
      await page.getByRole('button', { name: 'Resume live view' }).click();
    } finally {
      await page.getByRole('button', { name: 'Fix mtu-mismatch' }).click();
      await expect.poll(() => page.locator('.action-message').textContent(), { timeout: 30_000 }).toMatch(/^done/);
    }
  });

  it('the status line says when node2’s agent is down and when it is back', async () => {
    await page.click('#tab-topology');
    // every text the status line takes, recorded in the page as it changes (a short "down" is not missed)
    await page.evaluate(() => {
      const w = window as unknown as { statusLog: string[] };
      const el = document.querySelector('[data-testid=status]')!;
      w.statusLog = [el.textContent ?? ''];
      new MutationObserver(() => w.statusLog.push(el.textContent ?? '')).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node2' });
    const log = () => page.evaluate(() => (window as unknown as { statusLog: string[] }).statusLog);
    await waitFor('the status line: node2’s agent down, then back', 30_000, async () => {
      const l = await log();
      const down = l.findIndex((t) => t.includes('agent down on node2 — reconnecting…'));
      return down >= 0 && l.slice(down + 1).some((t) => t.startsWith('live') && !t.includes('down'));
    });
  });
});
