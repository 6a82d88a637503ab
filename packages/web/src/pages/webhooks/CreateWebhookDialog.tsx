import type { CreateWebhookResponse, Webhook } from '@hangar/sdk';
import { useId, useState } from 'react';
import { api } from '../../api.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Checkbox, Input, Select, Textarea } from '../../components/Input.js';
import { SecretReveal } from '../../components/SecretReveal.js';
import { serverFieldError, valid, type FieldErrors } from '../../forms.js';
import { useAction } from '../../hooks.js';
import { Link } from '../../router.js';
import {
  chosenEvents,
  EVENT_ABOUT,
  EVENT_TYPES,
  eventsLabel,
  SECRET_LENGTH,
  secretProblem,
  webhookPath,
  webhookUrlProblem,
  type EventType,
} from '../../webhooks.js';

type FieldName = 'url' | 'events' | 'secret';

/**
 * Subscribes a URL to event types. The server generates the signing secret unless the user brings
 * one, and answers it this once: the dialog then shows it (with a copy button) in place of the form.
 */
export function CreateWebhookDialog({
  project,
  onCreated,
  onClose,
}: {
  project: string;
  onCreated: (w: Webhook) => void;
  onClose: () => void;
}) {
  const [url, setUrl] = useState('');
  const [all, setAll] = useState(true);
  const [ticked, setTicked] = useState<EventType[]>([]);
  const [description, setDescription] = useState('');
  const [ownSecret, setOwnSecret] = useState(false);
  const [secret, setSecret] = useState('');
  const [active, setActive] = useState(true);
  const [errors, setErrors] = useState<FieldErrors<FieldName>>({});
  const action = useAction();
  const eventsErrorId = useId();
  const [created, setCreated] = useState<{ answer: CreateWebhookResponse; generated: boolean } | null>(null);

  const submit = () => {
    const events = chosenEvents(all, ticked);
    const problems: FieldErrors<FieldName> = {
      url: webhookUrlProblem(url),
      events: events.length === 0 ? 'Choose at least one event type, or all events.' : undefined,
      secret: ownSecret ? secretProblem(secret) : undefined,
    };
    setErrors(problems);
    if (!valid(problems)) return;
    void action.run(async () => {
      const answer = await api().createWebhook({
        project,
        body: {
          url: url.trim(),
          events,
          active,
          ...(description.trim() ? { description: description.trim() } : {}),
          ...(ownSecret ? { secret } : {}),
        },
      });
      setCreated({ answer, generated: !ownSecret });
      onCreated(answer.webhook);
    });
  };

  const fieldError = (name: FieldName) => errors[name] ?? serverFieldError(action.error, name);

  return (
    <FormDialog
      title="Create a webhook"
      submitLabel="Create webhook"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['url', 'events', 'secret', 'description']}
      errorTitle="Not created"
      size="lg"
      data-testid="create-webhook"
      result={
        created && {
          title: 'Webhook created',
          content: <WebhookCreated project={project} {...created} />,
          'data-testid': 'webhook-created',
        }
      }
    >
      <Field
        label="URL"
        hint="Events are POSTed here as JSON. Only public addresses, unless an admin allows private ones."
        error={fieldError('url')}
      >
        {(p) => (
          <Input
            {...p}
            inputMode="url"
            autoCapitalize="none"
            spellCheck={false}
            placeholder="https://hooks.example.com/hangar"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        )}
      </Field>
      <fieldset className="columns-group" aria-describedby={fieldError('events') ? eventsErrorId : undefined}>
        <legend className="field-label">Events</legend>
        <Checkbox
          label="All events"
          hint="Including event types added in later versions of Hangar."
          checked={all}
          onChange={(e) => setAll(e.target.checked)}
        />
        <div className="columns-list">
          {EVENT_TYPES.map((t) => (
            <Checkbox
              key={t}
              label={<span className="mono">{t}</span>}
              hint={EVENT_ABOUT[t]}
              disabled={all}
              checked={all || ticked.includes(t)}
              onChange={(e) => setTicked((cur) => (e.target.checked ? [...cur, t] : cur.filter((x) => x !== t)))}
            />
          ))}
        </div>
        {fieldError('events') && (
          <p className="field-error" id={eventsErrorId}>
            {fieldError('events')}
          </p>
        )}
      </fieldset>
      <Field label="Signing secret" hint="Deliveries carry X-Hangar-Signature, an HMAC-SHA256 made with it.">
        {(p) => (
          <Select
            {...p}
            value={ownSecret ? 'own' : 'generate'}
            onChange={(e) => setOwnSecret(e.target.value === 'own')}
          >
            <option value="generate">Generate one (shown once, after creating)</option>
            <option value="own">Use my own</option>
          </Select>
        )}
      </Field>
      {ownSecret && (
        <Field
          label="Your secret"
          hint={`${SECRET_LENGTH.min} to ${SECRET_LENGTH.max} characters. Hangar keeps it encrypted and never shows it again.`}
          error={fieldError('secret')}
        >
          {(p) => (
            <Input
              {...p}
              type="password"
              autoComplete="new-password"
              maxLength={SECRET_LENGTH.max}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
            />
          )}
        </Field>
      )}
      <Field
        label="Description"
        hint="Optional: who receives it and why."
        error={serverFieldError(action.error, 'description')}
      >
        {(p) => (
          <Textarea
            {...p}
            rows={2}
            maxLength={1000}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        )}
      </Field>
      <Checkbox
        label="Enabled"
        hint="A disabled webhook gets no deliveries until it is enabled again."
        checked={active}
        onChange={(e) => setActive(e.target.checked)}
      />
    </FormDialog>
  );
}

/** The new webhook, and its signing secret when the server generated it (this is the only time it is shown). */
function WebhookCreated({
  project,
  answer,
  generated,
}: {
  project: string;
  answer: CreateWebhookResponse;
  generated: boolean;
}) {
  const w = answer.webhook;
  return (
    <>
      <p>
        <span className="mono">{w.url}</span> receives {eventsLabel(w.events)}
        {w.active ? '.' : ' once it is enabled.'}
      </p>
      {generated ? (
        <SecretReveal
          label="Signing secret"
          value={answer.secret}
          warning="This is the only time it is shown: Hangar keeps it encrypted and never returns it. Give it to the receiver, which checks X-Hangar-Signature with it."
        />
      ) : (
        <p className="muted small">Deliveries are signed with the secret you gave.</p>
      )}
      <p className="small">
        <Link to={webhookPath(project, w.id)} className="text-link">
          Open its delivery log
        </Link>
      </p>
    </>
  );
}
