import type { Caller } from '../../core/auth.js';
import { InputError } from '../../core/errors.js';
import { decodeCursor, encodeCursor, type Page } from '../../core/pagination.js';
import type { AccessService } from '../projects/access.js';
import type { EventStore } from './store.js';
import { EVENT_TYPES } from './types.js';

export interface EventView {
  id: string;
  seq: number;
  type: string;
  projectId: string;
  createdAt: string;
  data: Record<string, unknown>;
}

export const EVENT_PAGE = { default: 100, max: 1000 } as const;

/** Reads of the domain event log (viewers of the project). */
export class EventsService {
  constructor(
    private readonly store: EventStore,
    private readonly access: AccessService,
  ) {}

  /** A project's events, newest first; `type` narrows to one event type. */
  async list(
    caller: Caller,
    project: string,
    q: { type?: string; cursor?: string; limit?: number },
  ): Promise<Page<EventView>> {
    const { project: p } = await this.access.requireProject(caller, project, 'viewer', null);
    if (q.type !== undefined && !(EVENT_TYPES as readonly string[]).includes(q.type)) {
      throw new InputError(`type must be one of ${EVENT_TYPES.join(', ')}`, 'type');
    }
    const limit = q.limit ?? EVENT_PAGE.default;
    const beforeSeq = q.cursor ? Number(decodeCursor(q.cursor, ['seq']).seq) : undefined;
    if (beforeSeq !== undefined && !Number.isSafeInteger(beforeSeq)) {
      throw new InputError('cursor is malformed; pass back the nextCursor of a previous page', 'cursor');
    }
    const rows = await this.store.list({ projectId: p.id, type: q.type, beforeSeq, limit: limit + 1 });
    const items = rows.slice(0, limit).map((r) => ({
      id: r.id,
      seq: Number(r.seq),
      type: r.type,
      projectId: r.project_id,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      data: JSON.parse(r.payload) as Record<string, unknown>,
    }));
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor({ seq: items[items.length - 1]!.seq }) : null,
    };
  }
}
