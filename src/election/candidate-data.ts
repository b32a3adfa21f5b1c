/**
 * What a candidate's node holds. Without metadata it is the id as UTF-8, exactly as before
 * and as kazoo writes its identifier. With metadata it is one JSON object,
 * `{"id": "...", "meta": {...}}`; readers that only know plain ids (kazoo's `contenders()`,
 * older zk-elect) then show that JSON text as the id, which is harmless.
 */
import { InvalidArgumentError } from './errors.js';

export type CandidateMeta = Record<string, unknown>;

export interface CandidateData {
  readonly id: string;
  readonly meta?: CandidateMeta;
}

/** Metadata is read by every `status` and dashboard refresh: keep it small. */
export const MAX_META_BYTES = 4096;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Checks metadata once, up front: a JSON object that survives a round trip and fits the limit. */
export function validateMeta(meta: unknown): CandidateMeta {
  if (!isPlainObject(meta)) throw new InvalidArgumentError('candidate metadata must be a plain JSON object');
  let text: string;
  try {
    text = JSON.stringify(meta);
  } catch (e) {
    throw new InvalidArgumentError(`candidate metadata is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_META_BYTES) throw new InvalidArgumentError(`candidate metadata is ${bytes} bytes as JSON; the limit is ${MAX_META_BYTES}`);
  return JSON.parse(text) as CandidateMeta;
}

export function encodeCandidateData(data: CandidateData): Buffer {
  if (data.meta === undefined) return Buffer.from(data.id, 'utf8');
  return Buffer.from(JSON.stringify({ id: data.id, meta: data.meta }), 'utf8');
}

/** Plain text is an id; a JSON object with a string `id` (and an object `meta`, if any) is ours. */
export function decodeCandidateData(bytes: Buffer): CandidateData {
  const text = bytes.toString('utf8');
  if (text.startsWith('{"id":')) {
    try {
      const v = JSON.parse(text) as unknown;
      if (isPlainObject(v) && typeof v.id === 'string' && (v.meta === undefined || isPlainObject(v.meta))) {
        return v.meta === undefined ? { id: v.id } : { id: v.id, meta: v.meta };
      }
    } catch {
      // Not JSON after all: an id that happens to start like ours.
    }
  }
  return { id: text };
}
