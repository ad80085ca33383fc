import type { UiDrop, UiTopology } from '../contract.js';
import { describePath, flowTitle, type FlowEntry } from './store.js';

/**
 * What the pictures show, as text: nodes, pods, Services, the flows drawn and the last drops
 * (an aria-live region, so a screen reader hears a drop as it comes). Always on the page,
 * whatever the tab.
 */
export function TextLists(props: {
  topology: UiTopology;
  flows: FlowEntry[];
  drops: UiDrop[];
  onSelectFlow(f: FlowEntry): void;
}) {
  const t = props.topology;
  return (
    <aside class="text-lists" aria-label="The cluster as text">
      <section aria-labelledby="h-drops">
        <h2 id="h-drops">Last drops</h2>
        <ol class="drops" aria-live="polite" aria-relevant="additions" data-testid="drops">
          {props.drops.length ? (
            props.drops.map((d) => (
              <li class="drop">
                {`${d.time.slice(11, 19)} ${d.node}: ${d.proto} ${d.srcPod ?? d.src} → ${d.dstPod ?? d.dst} dropped: `}
                <strong>{d.reason}</strong>
                {d.suppressed ? ` (+${d.suppressed} more)` : ''}
                {d.detail ? <small class="detail"> {d.detail}</small> : null}
              </li>
            ))
          ) : (
            <li class="none">none yet</li>
          )}
        </ol>
      </section>
      <section aria-labelledby="h-nodes">
        <h2 id="h-nodes">Nodes ({t.nodes.length})</h2>
        <ul data-testid="nodes">
          {t.nodes.map((n) => (
            <li data-node={n.name}>
              <strong>{n.name}</strong> {n.ip} pods {n.podCidr} gw {n.gateway} {n.ready ? 'Ready' : 'NotReady'}, agent{' '}
              {n.agent}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="h-pods">
        <h2 id="h-pods">Pods ({t.pods.length})</h2>
        <ul data-testid="pods">
          {t.pods.map((p) => (
            <li data-pod={`${p.namespace}/${p.name}`}>
              <strong>{`${p.namespace}/${p.name}`}</strong> {p.ip} on {p.node}
              {p.role ? ` [${p.role}]` : ''} {p.phase}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="h-svcs">
        <h2 id="h-svcs">Services ({t.services.length})</h2>
        <ul data-testid="services">
          {t.services.map((s) => (
            <li data-service={`${s.namespace}/${s.name}`}>
              <strong>{`${s.namespace}/${s.name}`}</strong> {s.type} {s.clusterIP}{' '}
              {s.ports.map((p) => `${p.port}/${p.protocol}`).join(',')} →{' '}
              {s.backends.map((b) => `${b.pod ?? b.ip}:${b.port}${b.ready ? '' : ' (not ready)'}`).join(', ') ||
                'no backends'}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="h-flows">
        <h2 id="h-flows">Flows ({props.flows.length})</h2>
        <ul class="flows" data-testid="flows">
          {props.flows
            .slice(-40)
            .reverse()
            .map((f) => (
              <li data-flow-key={f.key} class={`verdict-${f.verdict.toLowerCase()}`}>
                <button
                  type="button"
                  class="linklike"
                  onClick={() => props.onSelectFlow(f)}
                  aria-label={`Trace ${flowTitle(f)}`}
                >
                  {flowTitle(f)}
                </button>{' '}
                ×{f.total}
                {f.verdict === 'DROPPED' ? <strong class="reason"> {f.reason ?? 'dropped'}</strong> : null}
                <div class="path">{describePath(f)}</div>
              </li>
            ))}
        </ul>
      </section>
    </aside>
  );
}
