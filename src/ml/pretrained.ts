import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readNpy } from '../data/npy.js';
import type { TensorData } from './params.js';

/**
 * A user-supplied pretrained checkpoint (the `pretrained` param of a train
 * node; meant for the MRPC transformer, works for any model): a directory
 *
 *   config.json        model options, e.g. for the transformer
 *                      { "layers": 12, "d_model": 768, "heads": 12, "ffn": 3072,
 *                        "vocab_size": 30522, "max_positions": 512 }
 *   vocab.json         (optional) the token list; if present it must equal the
 *                      data set's vocab.json, since token ids must mean the same
 *   <name>.npy         one float32 array per parameter, at the path of the
 *                      parameter's name: embeddings/token.npy [vocab, d],
 *                      layer0/attention/query/w.npy [d, d] (input x output,
 *                      i.e. the transpose of a PyTorch Linear weight), ...
 *
 * Parameters without a file keep their seeded initialization (normally just
 * the classification layer `out/*`). The checkpoint's content (SHA-256 of
 * every file) is part of the node's key (see `pretrainedDigest`).
 *
 * BERT-base weights do not come with this repository and cannot be
 * downloaded here; converting them also needs the data set tokenized with
 * BERT's WordPiece vocabulary, which our MRPC preprocessing does not do.
 */

export interface Pretrained {
  dir: string;
  config: Record<string, unknown>;
  values: Record<string, TensorData>;
  vocab: string[] | null;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function loadPretrained(dir: string): Pretrained {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`pretrained checkpoint '${dir}' is not a directory`);
  const cfgPath = join(dir, 'config.json');
  const config = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>) : {};
  const vocabPath = join(dir, 'vocab.json');
  const vocab = existsSync(vocabPath) ? (JSON.parse(readFileSync(vocabPath, 'utf8')) as string[]) : null;
  const values: Record<string, TensorData> = {};
  for (const file of listFiles(dir)) {
    if (!file.endsWith('.npy')) continue;
    const name = relative(dir, file).slice(0, -4).split(sep).join('/');
    const a = readNpy(file);
    if (a.dtype !== '<f4' && a.dtype !== '<f8') throw new Error(`${file}: parameters must be float32 or float64, not ${a.dtype}`);
    values[name] = { shape: a.shape, data: a.dtype === '<f4' ? (a.data as Float32Array) : Float32Array.from(a.data as Float64Array) };
  }
  if (Object.keys(values).length === 0) throw new Error(`pretrained checkpoint '${dir}' holds no .npy parameter files`);
  return { dir, config, values, vocab };
}

const digests = new Map<string, string>();

/** SHA-256 over every file's relative path and content (memoized per process). */
export function pretrainedDigest(dir: string): string {
  const hit = digests.get(dir);
  if (hit) return hit;
  const h = createHash('sha256');
  for (const file of listFiles(dir)) {
    h.update(relative(dir, file).split(sep).join('/') + '\0');
    h.update(readFileSync(file));
    h.update('\0');
  }
  const d = h.digest('hex');
  digests.set(dir, d);
  return d;
}
