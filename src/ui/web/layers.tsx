import { useState } from 'preact/hooks';
import type {
  UiLayer,
  UiLayerName,
  UiPod,
  UiService,
  UiStepState,
  UiTraceRequest,
  UiTraceResult,
} from '../contract.js';
import { postJson } from './api.js';

/**
 * The Layers view: a trace from a chosen pod to a target, drawn as the articles' ladder
 * DNS → Service → NetworkPolicy → Route → VXLAN → Delivery with each layer's packet fields; or the
 * same probe in step mode, one layer released per "Next".
 */

export const LADDER: UiLayerName[] = ['DNS', 'Service', 'NetworkPolicy', 'Route', 'VXLAN', 'Delivery'];

export interface TraceForm {
  from: string;
  to: string;
  port: string;
  proto: '' | 'tcp' | 'udp' | 'icmp';
}

export function requestOf(f: TraceForm): UiTraceRequest {
  const r: UiTraceRequest = { from: f.from.trim(), to: f.to.trim() };
  const port = Number(f.port);
  if (f.port.trim() && Number.isInteger(port) && port > 0) r.port = port;
  if (f.proto) r.proto = f.proto;
  return r;
}

function Ladder(props: { layers: UiLayer[]; holding?: boolean }) {
  const byName = new Map(props.layers.map((l) => [l.name, l]));
  const last = props.layers[props.layers.length - 1];
  return (
    <ol class="ladder" aria-label="Layers the probe went through">
      {LADDER.map((name) => {
        const l = byName.get(name);
        const held = props.holding && l && l === last;
        return (
          <li class={`layer state-${l ? l.state : 'not-reached'} ${held ? 'held' : ''}`} data-layer={name}>
            <div class="layer-head">
              <strong>{name}</strong>
              <span class="layer-state">{l ? l.state : 'not reached'}</span>
              {l?.node ? <span class="layer-node">on {l.node}</span> : null}
              {held ? <span class="layer-held">probe held here</span> : null}
            </div>
            {l ? (
              <>
                <p class="layer-summary">{l.summary}</p>
                {l.reason ? <p class="layer-reason">reason: {l.reason}</p> : null}
                {Object.keys(l.fields).length ? (
                  <dl class="fields">
                    {Object.entries(l.fields).map(([k, v]) => (
                      <>
                        <dt>{k}</dt>
                        <dd>{v}</dd>
                      </>
                    ))}
                  </dl>
                ) : null}
              </>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export function Layers(props: {
  pods: UiPod[];
  services: UiService[];
  form: TraceForm;
  setForm(f: TraceForm): void;
  stepAvailable: boolean;
}) {
  const { form, setForm } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [trace, setTrace] = useState<UiTraceResult | undefined>(undefined);
  const [step, setStep] = useState<UiStepState | undefined>(undefined);

  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    setError('');
    try {
      await what();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const doTrace = () =>
    run(async () => {
      setStep(undefined);
      setTrace(await postJson<UiTraceResult>('/api/trace', requestOf(form)));
    });
  const doStep = () =>
    run(async () => {
      setTrace(undefined);
      setStep(await postJson<UiStepState>('/api/step', requestOf(form)));
    });
  const doNext = () =>
    run(async () => {
      if (step) setStep(await postJson<UiStepState>(`/api/step/${encodeURIComponent(step.id)}/next`, {}));
    });

  const targets = [
    ...props.pods.map((p) => `${p.namespace}/${p.name}`),
    ...props.services.map((s) => `${s.name}.${s.namespace}.svc.cluster.local`),
    ...props.services.map((s) => s.clusterIP),
  ];
  return (
    <section class="layers-view" aria-label="Layers">
      <form
        class="trace-form"
        onSubmit={(e) => {
          e.preventDefault();
          void doTrace();
        }}
      >
        <label>
          Source pod
          <select
            value={form.from}
            onChange={(e) => setForm({ ...form, from: (e.target as HTMLSelectElement).value })}
            aria-label="Source pod"
          >
            <option value="">(choose)</option>
            {props.pods.map((p) => (
              <option value={`${p.namespace}/${p.name}`}>{`${p.namespace}/${p.name}`}</option>
            ))}
          </select>
        </label>
        <label>
          Target (pod, Service name or IP)
          <input
            list="trace-targets"
            value={form.to}
            onInput={(e) => setForm({ ...form, to: (e.target as HTMLInputElement).value })}
            aria-label="Target"
          />
          <datalist id="trace-targets">
            {targets.map((t) => (
              <option value={t} />
            ))}
          </datalist>
        </label>
        <label>
          Port
          <input
            inputMode="numeric"
            size={6}
            value={form.port}
            onInput={(e) => setForm({ ...form, port: (e.target as HTMLInputElement).value })}
            aria-label="Port"
          />
        </label>
        <label>
          Protocol
          <select
            value={form.proto}
            onChange={(e) => setForm({ ...form, proto: (e.target as HTMLSelectElement).value as TraceForm['proto'] })}
            aria-label="Protocol"
          >
            <option value="">default</option>
            <option value="tcp">tcp</option>
            <option value="udp">udp</option>
            <option value="icmp">icmp</option>
          </select>
        </label>
        <button type="submit" disabled={busy || !form.from || !form.to}>
          Trace
        </button>
        <button
          type="button"
          disabled={busy || !form.from || !form.to || !props.stepAvailable}
          onClick={() => void doStep()}
        >
          Step mode
        </button>
        {step && !step.done ? (
          <button type="button" class="next" disabled={busy} onClick={() => void doNext()} aria-label="Next layer">
            Next
          </button>
        ) : null}
      </form>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      <div aria-live="polite">
        {trace ? (
          <div class="trace-result" data-trace-id={trace.id}>
            <p class="verdict">
              <strong>{trace.verdict}</strong> — {trace.summary}
              {trace.pcapUrl ? (
                <>
                  {' '}
                  ·{' '}
                  <a href={trace.pcapUrl} download>
                    download pcapng
                  </a>
                </>
              ) : null}
            </p>
            <Ladder layers={trace.layers} />
          </div>
        ) : null}
        {step ? (
          <div class="step-result" data-step-id={step.id}>
            <p class="verdict">
              Step mode: {step.layers.length} of {LADDER.length} layers{' '}
              {step.done
                ? `— done${step.verdict ? `: ${step.verdict}` : ''}`
                : '— press Next to release the probe one layer'}
            </p>
            <Ladder layers={step.layers} holding={!step.done} />
          </div>
        ) : null}
      </div>
    </section>
  );
}
