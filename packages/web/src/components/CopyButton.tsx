import { useEffect, useState } from 'react';
import { Button } from './Button.js';

/**
 * Copies `value` to the clipboard and says so for two seconds. Where the Clipboard API is refused
 * (an insecure origin, a denied permission) it says that instead, and the value stays selectable.
 */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = window.setTimeout(() => setState('idle'), 2000);
    return () => window.clearTimeout(t);
  }, [state]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <Button size="sm" onClick={() => void copy()} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select it' : label}
    </Button>
  );
}
