import { useEffect, useRef, useState } from 'preact/hooks';
import type { UiDrop, UiFlow, UiFlowBatch, UiSession, UiStatus, UiTopology } from '../contract.js';
import { connectEvents, startSession } from './api.js';
import { Instructor } from './instructor.js';
import { Layers, type TraceForm } from './layers.js';
import { Policy } from './policy.js';
import {
  dropFiltered,
  dropMatches,
  dropText,
  flowMatches,
  flowTitle,
  mergeFlows,
  NO_FILTER,
  pushDrop,
  type FlowEntry,
  type FlowFilter,
} from './store.js';
import { TextLists } from './textlists.js';
import { Topology } from './topology.js';

/**
 * The page: one live state fed by the server's events, drawn at most once per animation frame
 * (under iperf3 the server sends a batch every ~500 ms, drops faster; the page folds them between
 * frames), four tabs over it and the text lists beside them.
 */

interface Live {
  topology: UiTopology;
  flows: Map<string, FlowEntry>;
  drops: UiDrop[];
  status?: UiStatus;
}
const EMPTY: UiTopology = { nodes: [], pods: [], services: [], policies: [], ingresses: [] };
const EVENTS = ['topology', 'flows', 'drop', 'status'] as const;
type Tab = 'topology' | 'layers' | 'policy' | 'instructor';
const TABS: Tab[] = ['topology', 'layers', 'policy', 'instructor'];
const tabOf = (hash: string): Tab => TABS.find((t) => `#${t}` === hash) ?? 'topology';

export function App() {
  const live = useRef<Live>({ topology: EMPTY, flows: new Map(), drops: [] });
  const [, setFrame] = useState(0);
  const scheduled = useRef(false);
  const [session, setSession] = useState<UiSession | undefined>(undefined);
  const [sessionError, setSessionError] = useState('');
  const [stream, setStream] = useState<'connecting' | 'open' | 'lost'>('connecting');
  // the tab is in the URL's hash (#instructor, as `podwire ui --open-instructor` prints): a link opens it
  const [tab, setTabState] = useState<Tab>(() => tabOf(location.hash));
  const setTab = (t: Tab) => {
    setTabState(t);
    history.replaceState(null, '', `#${t}`);
  };
  const [filter, setFilter] = useState<FlowFilter>(NO_FILTER);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [form, setForm] = useState<TraceForm>({ from: '', to: '', port: '', proto: '' });
  const [breakOnDrop, setBreakOnDrop] = useState({ on: false, filter: '' });
  const bodRef = useRef(breakOnDrop);
  bodRef.current = breakOnDrop;
  /** the view frozen by break-on-drop: what it showed, and the drop that froze it */
  const [frozen, setFrozen] = useState<{ at: string; view: Live } | undefined>(undefined);
  const frozenRef = useRef(frozen);
  frozenRef.current = frozen;

  const redraw = () => {
    if (scheduled.current) return;
    scheduled.current = true;
    requestAnimationFrame(() => {
      scheduled.current = false;
      setFrame((n) => n + 1);
    });
  };

  const maybeFreeze = (what: UiDrop | UiFlow, text: string) => {
    const b = bodRef.current;
    if (!b.on || frozenRef.current || !dropMatches(b.filter, what)) return;
    const l = live.current;
    const f = { at: text, view: { ...l, flows: new Map(l.flows), drops: [...l.drops] } };
    frozenRef.current = f;
    setFrozen(f);
  };

  useEffect(() => {
    const session = () =>
      startSession().then(
        (s) => {
          setSession(s);
          setSessionError('');
        },
        (e: Error) => setSessionError(e.message),
      );
    void session();
    let lost = false;
    return connectEvents(EVENTS, {
      onOpen: () => {
        setStream('open');
        // back after a loss: the server may have restarted with a new token, which every POST needs
        if (lost) void session();
        lost = false;
      },
      onLost: () => {
        lost = true;
        setStream('lost');
      },
      onEvent(name, data) {
        const l = live.current;
        if (name === 'topology') l.topology = data as UiTopology;
        else if (name === 'flows') {
          const batch = data as UiFlowBatch;
          l.flows = mergeFlows(l.flows, batch, Date.now());
          for (const f of batch.flows)
            if (f.verdict === 'DROPPED') maybeFreeze(f, flowTitle(f) + (f.reason ? `: ${f.reason}` : ''));
        } else if (name === 'drop') {
          l.drops = pushDrop(l.drops, data as UiDrop);
          maybeFreeze(data as UiDrop, dropText(data as UiDrop));
        } else if (name === 'status') l.status = data as UiStatus;
        redraw();
      },
    });
  }, []);

  const view = frozen ? frozen.view : live.current;
  const t = view.topology;
  const flows = [...view.flows.values()].filter((f) => flowMatches(f, filter));
  const namespaces = [...new Set([...t.pods.map((p) => p.namespace), ...t.services.map((s) => s.namespace)])].sort();
  const selectFlow = (f: UiFlow) => {
    setSelected(f.key);
    setForm({
      from: f.src.pod ?? '',
      to: f.service ?? f.dst.pod ?? f.dst.ip,
      port: f.dst.port !== undefined ? String(f.dst.port) : '',
      proto: (['tcp', 'udp', 'icmp'].includes(f.proto.toLowerCase())
        ? f.proto.toLowerCase()
        : '') as TraceForm['proto'],
    });
  };

  const status = live.current.status;
  const downAgents = status
    ? Object.entries(status.agents)
        .filter(([, s]) => s === 'down')
        .map(([n]) => n)
    : [];
  const statusText = [
    stream === 'open'
      ? 'live'
      : stream === 'connecting'
        ? 'connecting to podwire ui…'
        : 'connection to podwire ui lost — reconnecting…',
    status?.apiserver === 'down' ? 'API server down — reconnecting…' : status ? 'API server up' : '',
    downAgents.length ? `agent down on ${downAgents.join(', ')} — reconnecting…` : '',
    status?.message ?? '',
    sessionError ? `session: ${sessionError}` : '',
  ]
    .filter(Boolean)
    .join(' · ');

  const tabs: [Tab, string][] = [
    ['topology', 'Topology'],
    ['layers', 'Layers'],
    ['policy', 'Policy'],
    ['instructor', 'Instructor'],
  ];
  return (
    <div class="app">
      <header>
        <h1>podwire{session ? ` · ${session.lab}` : ''}</h1>
        <p
          class={`status-line ${stream !== 'open' || status?.apiserver === 'down' || downAgents.length ? 'bad' : 'good'}`}
          role="status"
          data-testid="status"
        >
          {statusText}
        </p>
        <nav role="tablist" aria-label="Views">
          {tabs.map(([id, name]) => (
            <button
              type="button"
              role="tab"
              id={`tab-${id}`}
              aria-selected={tab === id}
              aria-controls={`panel-${id}`}
              onClick={() => setTab(id)}
            >
              {name}
            </button>
          ))}
        </nav>
      </header>
      {frozen ? (
        <div class="frozen" role="alert">
          Frozen at drop: {frozen.at}{' '}
          <button type="button" onClick={() => setFrozen(undefined)}>
            Resume live view
          </button>
        </div>
      ) : null}
      <main>
        <div class="panel" id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
          {tab === 'topology' ? (
            <section class="topology-view" aria-label="Topology">
              <div class="toolbar filters" role="search" aria-label="Flow filters">
                <FilterSelect
                  label="Namespace"
                  name="namespace"
                  value={filter.namespace}
                  options={namespaces}
                  onChange={(namespace) => setFilter({ ...filter, namespace })}
                />
                <label>
                  Pod
                  <input
                    value={filter.pod}
                    aria-label="Filter by pod"
                    placeholder="name or IP"
                    onInput={(e) => setFilter({ ...filter, pod: (e.target as HTMLInputElement).value })}
                  />
                </label>
                <FilterSelect
                  label="Service"
                  name="Service"
                  value={filter.service}
                  options={t.services.map((s) => `${s.namespace}/${s.name}`)}
                  onChange={(service) => setFilter({ ...filter, service })}
                />
                <label>
                  Verdict
                  <select
                    value={filter.verdict}
                    aria-label="Filter by verdict"
                    onChange={(e) =>
                      setFilter({ ...filter, verdict: (e.target as HTMLSelectElement).value as FlowFilter['verdict'] })
                    }
                  >
                    <option value="">all</option>
                    <option value="FORWARDED">forwarded</option>
                    <option value="TRANSLATED">translated</option>
                    <option value="DROPPED">dropped</option>
                  </select>
                </label>
              </div>
              {t.nodes.length ? (
                <Topology topology={t} flows={flows} selected={selected} onSelectFlow={(f) => selectFlow(f)} />
              ) : (
                <p>Waiting for the topology…</p>
              )}
              {selected ? (
                <p class="hint">
                  Flow selected: the Layers tab is filled in for its trace.{' '}
                  <button type="button" onClick={() => setTab('layers')}>
                    Trace it
                  </button>
                </p>
              ) : null}
            </section>
          ) : tab === 'layers' ? (
            <Layers
              pods={t.pods}
              services={t.services}
              form={form}
              setForm={setForm}
              stepAvailable={session?.features.step ?? true}
            />
          ) : tab === 'policy' ? (
            <Policy namespaces={namespaces.length ? namespaces : ['default']} />
          ) : (
            <Instructor
              available={session?.features.instructor ?? false}
              breakOnDrop={breakOnDrop}
              setBreakOnDrop={setBreakOnDrop}
            />
          )}
        </div>
        <TextLists
          topology={t}
          flows={flows}
          drops={live.current.drops.filter((d) => dropFiltered(d, filter)) /* live while the picture is frozen */}
          onSelectFlow={(f) => {
            selectFlow(f);
            setTab('layers');
          }}
        />
      </main>
    </div>
  );
}

/** One of the Topology view's filters: a labelled select, "all" first. */
function FilterSelect(p: {
  label: string;
  name: string;
  value: string;
  options: string[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {p.label}
      <select
        value={p.value}
        aria-label={`Filter by ${p.name}`}
        onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value="">all</option>
        {p.options.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}
