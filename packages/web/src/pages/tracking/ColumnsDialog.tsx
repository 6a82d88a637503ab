import { useState } from 'react';
import { Button } from '../../components/Button.js';
import { Dialog } from '../../components/Dialog.js';
import { Field } from '../../components/Field.js';
import { Checkbox, Input } from '../../components/Input.js';

/** The metric and param keys shown as columns of the runs table, in the order chosen. */
export interface ChosenColumns {
  metrics: string[];
  params: string[];
}

export interface ColumnsDialogProps {
  /** Keys found in the runs loaded so far. */
  available: ChosenColumns;
  shown: ChosenColumns;
  /** Called at every tick: the table behind the dialog follows at once. */
  onChange: (next: ChosenColumns) => void;
  /** Back to the default columns (the first keys of the first page). */
  onReset: () => void;
  onClose: () => void;
}

/**
 * Picks the metrics and params shown as columns. The keys are those of the runs loaded so far,
 * plus any chosen earlier; with many keys, the search box narrows the lists.
 */
export function ColumnsDialog({ available, shown, onChange, onReset, onClose }: ColumnsDialogProps) {
  const [query, setQuery] = useState('');
  const q = query.trim().toLowerCase();
  const keys = (kind: keyof ChosenColumns) =>
    [...new Set([...available[kind], ...shown[kind]])]
      .sort((a, b) => a.localeCompare(b))
      .filter((k) => !q || k.toLowerCase().includes(q));
  const toggle = (kind: keyof ChosenColumns, key: string, on: boolean) => {
    const list = shown[kind].filter((k) => k !== key);
    onChange({ ...shown, [kind]: on ? [...list, key] : list });
  };
  const group = (kind: keyof ChosenColumns, legend: string) => {
    const list = keys(kind);
    return (
      <fieldset className="columns-group">
        <legend className="field-label">
          {legend}{' '}
          <span className="muted small">
            {shown[kind].length} of {new Set([...available[kind], ...shown[kind]]).size} shown
          </span>
        </legend>
        {list.length === 0 ? (
          <p className="muted small">{q ? 'No key matches.' : 'None in the runs loaded.'}</p>
        ) : (
          <div className="columns-list">
            {list.map((k) => (
              <Checkbox
                key={k}
                label={<span className="mono">{k}</span>}
                checked={shown[kind].includes(k)}
                onChange={(e) => toggle(kind, k, e.target.checked)}
              />
            ))}
          </div>
        )}
        <div className="columns-actions">
          <Button
            size="sm"
            variant="ghost"
            onClick={() => onChange({ ...shown, [kind]: [...new Set([...shown[kind], ...list])] })}
          >
            Show {q ? 'matching' : 'all'}
          </Button>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => onChange({ ...shown, [kind]: shown[kind].filter((k) => !list.includes(k)) })}
          >
            Hide {q ? 'matching' : 'all'}
          </Button>
        </div>
      </fieldset>
    );
  };
  return (
    <Dialog
      title="Columns"
      onClose={onClose}
      size="lg"
      data-testid="columns-dialog"
      footer={
        <>
          <Button variant="ghost" onClick={onReset}>
            Reset to default
          </Button>
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        </>
      }
    >
      <Field label="Find a key">
        {(p) => (
          <Input {...p} type="search" value={query} onChange={(e) => setQuery(e.target.value)} spellCheck={false} />
        )}
      </Field>
      <div className="grid-2">
        {group('metrics', 'Metrics')}
        {group('params', 'Parameters')}
      </div>
    </Dialog>
  );
}
