// Small pieces the model pages share: risk tier, stage and alias badges, tag chips.
import type { RegisteredModel } from '@hangar/sdk';
import { Badge, type BadgeTone } from '../../components/Badge.js';
import { NONE } from '../../format.js';
import type { RiskTier, Stage } from '../../models.js';
import { isSystemTag } from '../../tracking.js';

const STAGE_TONES: Record<Stage, BadgeTone> = {
  Production: 'success',
  Staging: 'info',
  None: 'neutral',
  Archived: 'warning',
};

/** A model's risk tier; critical models need a second person's approval to reach production. */
export function RiskBadge({ tier }: { tier: RiskTier }) {
  return (
    <Badge
      tone={tier === 'critical' ? 'danger' : 'neutral'}
      title={
        tier === 'critical'
          ? 'Critical: production releases need a maintainer’s approval'
          : 'Low risk: releases go out once the gate passes'
      }
    >
      <span data-risk-tier={tier}>{tier}</span>
    </Badge>
  );
}

/** An MLflow stage, optionally with the version in it (`Production v3`). */
export function StageBadge({ stage, version }: { stage: Stage; version?: number }) {
  return (
    <Badge tone={STAGE_TONES[stage]}>
      <span data-stage={stage}>
        {stage}
        {version !== undefined && ` v${version}`}
      </span>
    </Badge>
  );
}

/** A version's aliases as badges (an em dash for none). */
export function AliasBadges({ aliases }: { aliases: readonly string[] }) {
  if (aliases.length === 0) return <span className="muted">{NONE}</span>;
  return (
    <span className="badge-row">
      {aliases.map((a) => (
        <Badge key={a} tone={a === 'champion' ? 'success' : 'info'}>
          <span data-alias={a}>@{a}</span>
        </Badge>
      ))}
    </span>
  );
}

/** The user's tags (MLflow's own are left out) as `key=value` chips; the rest count as "+N". */
export function TagChips({ tags, max = 3 }: { tags: RegisteredModel['tags']; max?: number }) {
  const own = tags.filter((t) => !isSystemTag(t.key));
  if (own.length === 0) return <span className="muted">{NONE}</span>;
  const shown = own.slice(0, max);
  return (
    <span className="badge-row">
      {shown.map((t) => (
        <span key={t.key} className="tag-chip" title={`${t.key}=${t.value}`} data-tag={t.key}>
          {t.key}
          {t.value !== '' && <span className="tag-chip-value">={t.value}</span>}
        </span>
      ))}
      {own.length > shown.length && (
        <span className="muted small" title={own.map((t) => `${t.key}=${t.value}`).join('\n')}>
          +{own.length - shown.length}
        </span>
      )}
    </span>
  );
}
