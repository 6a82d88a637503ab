import type { ArtifactStore, ByteRange, GetResult } from '../../artifacts/index.js';
import { normalizeArtifactPath } from '../../artifacts/safe-path.js';
import type { Caller } from '../../core/auth.js';
import { NotFoundError } from '../../core/errors.js';
import type { AuditLog } from '../audit/log.js';
import type { AccessService } from '../projects/access.js';
import { buildBundle, bundlePath, type BundleManifest } from './packaging.js';
import type { DeploymentStore } from './store.js';

export interface BundleView {
  location: string;
  manifest: BundleManifest;
}

/**
 * Version bundles over the API: build one (developers; releases build theirs as they deploy), read
 * its manifest and download its files (viewers). Paths inside a bundle are checked like every
 * artifact path.
 */
export class BundlesService {
  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly store: DeploymentStore,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
  ) {}

  async build(caller: Caller, project: string, model: string, version: number): Promise<BundleView> {
    const { project: p } = await this.access.requireProject(caller, project, 'developer', 'bundle.build');
    const v = await this.version(p.id, project, model, version);
    const { path, manifest } = await buildBundle(this.artifacts, {
      modelId: v.model_id,
      modelName: model,
      version,
      storageLocation: v.storage_location,
      signature: v.signature,
    });
    await this.audit.record(
      caller,
      'bundle.build',
      { type: 'model_version', name: `${model}/${version}` },
      { projectId: p.id },
    );
    return { location: `mlflow-artifacts:/${path}`, manifest };
  }

  async manifest(caller: Caller, project: string, model: string, version: number): Promise<BundleView> {
    const root = await this.root(caller, project, model, version);
    const r = await this.open(`${root}/manifest.json`, model, version);
    const parts: Buffer[] = [];
    for await (const c of r.stream) parts.push(c as Buffer);
    return {
      location: `mlflow-artifacts:/${root}`,
      manifest: JSON.parse(Buffer.concat(parts).toString('utf8')) as BundleManifest,
    };
  }

  /** Resolves a file of the bundle for download; `open` reads it (whole or a range). */
  async file(
    caller: Caller,
    project: string,
    model: string,
    version: number,
    relative: string,
  ): Promise<{ path: string; open: (range: ByteRange | undefined) => Promise<GetResult> }> {
    const root = await this.root(caller, project, model, version);
    const path = `${root}/${normalizeArtifactPath(relative)}`;
    return { path, open: (range) => this.artifacts.get(path, range) };
  }

  private async root(caller: Caller, project: string, model: string, version: number): Promise<string> {
    const { project: p } = await this.access.requireProject(caller, project, 'viewer', null);
    const v = await this.version(p.id, project, model, version);
    return bundlePath(v.model_id, version);
  }

  private async version(projectId: string, project: string, model: string, version: number) {
    const m = await this.store.modelByName(projectId, model);
    if (!m) throw new NotFoundError(`no model "${model}" in project "${project}"`);
    const [v] = await this.store.versions(m.id, [version]);
    if (!v) throw new NotFoundError(`model "${model}" has no version ${version}`);
    return v;
  }

  private async open(path: string, model: string, version: number): Promise<GetResult> {
    if (!(await this.artifacts.exists(path))) {
      throw new NotFoundError(
        `version ${version} of "${model}" has no bundle yet: build one (POST …/bundle) or release it`,
      );
    }
    return this.artifacts.get(path);
  }
}
