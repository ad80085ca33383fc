import { useEffect, useState } from 'preact/hooks';
import type { UiActionResult, UiScenario } from '../contract.js';
import { getJson, postJson } from './api.js';

/**
 * The Instructor menu: the lab's break scenarios with Break and Fix, a reset to the demo app, and
 * break-on-drop (the page freezes at the first drop that matches the filter — the app holds that
 * state, this only sets it).
 */
export function Instructor(props: {
  available: boolean;
  breakOnDrop: { on: boolean; filter: string };
  setBreakOnDrop(v: { on: boolean; filter: string }): void;
}) {
  const [scenarios, setScenarios] = useState<UiScenario[] | undefined>(undefined);
  const [targets, setTargets] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const load = async () => {
    try {
      setScenarios(await getJson<UiScenario[]>('/api/scenarios'));
    } catch (e) {
      setMessage(`scenarios: ${(e as Error).message}`);
    }
  };
  useEffect(() => {
    if (props.available) void load();
  }, [props.available]);
  const act = async (url: string, body: unknown) => {
    setBusy(true);
    setMessage(`${url} …`);
    try {
      const r = await postJson<UiActionResult>(url, body);
      setMessage(`${r.ok ? 'done' : 'failed'}: ${r.message}`);
    } catch (e) {
      setMessage(`failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
      void load();
    }
  };
  const bod = props.breakOnDrop;
  return (
    <section class="instructor-view" aria-label="Instructor">
      <fieldset class="break-on-drop">
        <legend>Break on drop</legend>
        <label>
          <input
            type="checkbox"
            checked={bod.on}
            onChange={(e) => props.setBreakOnDrop({ ...bod, on: (e.target as HTMLInputElement).checked })}
          />{' '}
          Freeze the view at the first matching drop
        </label>
        <label>
          Filter (words of the drop: pod, node, reason)
          <input
            value={bod.filter}
            onInput={(e) => props.setBreakOnDrop({ ...bod, filter: (e.target as HTMLInputElement).value })}
            aria-label="Break-on-drop filter"
            placeholder="any drop"
          />
        </label>
      </fieldset>
      {!props.available ? (
        <p>Instructor controls need the lab's state directory; this server has none.</p>
      ) : (
        <>
          <div class="toolbar">
            <button type="button" disabled={busy} onClick={() => void act('/api/reset', {})}>
              Reset to the demo app
            </button>
          </div>
          {scenarios ? (
            <table class="scenarios" aria-label="Break scenarios">
              <thead>
                <tr>
                  <th scope="col">Scenario</th>
                  <th scope="col">What breaks</th>
                  <th scope="col">Target</th>
                  <th scope="col">Broken on</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {scenarios.map((s) => {
                  const target = targets[s.name] ?? s.defaultTarget ?? '';
                  const body = target ? { scenario: s.name, target } : { scenario: s.name };
                  return (
                    <tr data-scenario={s.name}>
                      <th scope="row">{s.name}</th>
                      <td>
                        {s.summary}
                        <br />
                        <small>find it with: {s.findWith}</small>
                      </td>
                      <td>
                        <input
                          value={target}
                          placeholder={s.target}
                          aria-label={`Target of ${s.name}`}
                          onInput={(e) => setTargets({ ...targets, [s.name]: (e.target as HTMLInputElement).value })}
                        />
                      </td>
                      <td>{s.broken.length ? s.broken.join(', ') : '—'}</td>
                      <td>
                        <button
                          type="button"
                          disabled={busy}
                          aria-label={`Break ${s.name}`}
                          onClick={() => void act('/api/break', body)}
                        >
                          Break
                        </button>{' '}
                        <button
                          type="button"
                          disabled={busy}
                          aria-label={`Fix ${s.name}`}
                          onClick={() => void act('/api/fix', body)}
                        >
                          Fix
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : (
            <p>Loading scenarios…</p>
          )}
        </>
      )}
      <p class="action-message" role="status">
        {message}
      </p>
    </section>
  );
}
