/**
 * Told when a version's gate settles: it finished (passed, failed or skipped) or an admin
 * overrode a failure. Called after the change committed, so the listener reads the new state; the
 * releases service implements it to advance releases waiting in their 'gate' stage.
 */
export interface GateListener {
  gateSettled(modelId: string, version: number): Promise<void>;
}

/** Until something listens (the releases module wires its own in app.ts). */
export const noGateListener: GateListener = { gateSettled: () => Promise.resolve() };
