import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

/**
 * Authenticated encryption (AES-256-GCM) of stored secrets. Each value carries the fingerprint of
 * the key that sealed it, so opening it with another key fails with a clear message instead of
 * garbage, and the key can be rotated later by re-sealing.
 */
export class SecretBox {
  private readonly key: Buffer;
  readonly fingerprint: string;

  constructor(material: string) {
    // The configured text is hashed to exactly 32 bytes; it must carry the entropy itself
    // (the config demands at least 32 characters; `openssl rand -base64 32` gives 256 bits).
    this.key = createHash('sha256').update(`hangar-secrets:${material}`).digest();
    this.fingerprint = createHash('sha256').update(this.key).digest('hex').slice(0, 8);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // The context (e.g. project id + name) is authenticated, so a value cannot be moved to another row.
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.fingerprint, iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join(
      ':',
    );
  }

  open(sealed: string, context: string): string {
    const [version, fingerprint, iv, tag, body] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
    if (fingerprint !== this.fingerprint) {
      throw new Error(`secret was sealed with key ${fingerprint}, this server has key ${this.fingerprint}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}

/**
 * The configured key, or else one generated once into <dataDir>/secret.key (mode 0600), so the
 * embedded default works with no setup. Servers sharing a PostgreSQL store must be given the same
 * configured key.
 */
export function loadSecretKey(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch {
    return readFileSync(file, 'utf8').trim();
  }
}
