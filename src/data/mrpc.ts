import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DownloadProgress } from './download.js';
import { sha256Hex } from './integrity.js';
import type { DatasetInput } from './dataset-io.js';
import type { Provenance } from './provenance.js';
import { MRPC_FILES, MRPC_SPLITS, type MrpcSplit } from './mrpc-constants.js';

/**
 * The Microsoft Research Paraphrase Corpus as SentEval distributes it:
 * `msr_paraphrase_{train,test}.txt`, tab-separated with a header
 * `Quality  #1 ID  #2 ID  #1 String  #2 String`, UTF-8 (the canonical copies
 * carry a byte-order mark and CRLF line ends).
 *
 * Verification. A copy may differ from the pinned one in bytes that do not
 * matter (BOM, line ends), so a file is accepted when either its SHA-256 is
 * the pinned one (the offline mirror's SHA256SUMS) or its *content digest*
 * is: the SHA-256 of its MSRP pairs with the BOM removed, LF line ends, and
 * placeholder rows left out (see below).
 *
 * Placeholder rows. The training file as distributed ends with four rows
 * whose pair ids are -1 ("I like green apples." ...): they are not MSRP
 * pairs and are not part of the corpus's 4,076 training pairs. They are
 * dropped (and reported) when parsing, so the data set has 4,076 training
 * and 1,725 test pairs whichever copy it came from.
 */

export { MRPC_FILES, MRPC_SPLITS, type MrpcSplit } from './mrpc-constants.js';

export const MRPC_FORMAT = 'mrpc-tsv';
export const MRPC_HEADER = ['Quality', '#1 ID', '#2 ID', '#1 String', '#2 String'];

/** Text without BOM, split into lines (CRLF, LF or CR), without the final empty line. */
export function mrpcLines(bytes: Uint8Array | string): string[] {
  let text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function isPlaceholder(fields: string[]): boolean {
  return fields.length >= 3 && /^-\d+$|^0$/.test(fields[1]!.trim()) && /^-\d+$|^0$/.test(fields[2]!.trim());
}

/** SHA-256 of the file's pairs, independent of BOM, line ends and placeholder rows. */
export function mrpcContentDigest(bytes: Uint8Array | string): string {
  const lines = mrpcLines(bytes);
  const kept = lines.filter((line, i) => i === 0 || !isPlaceholder(line.split('\t')));
  return sha256Hex(kept.join('\n') + '\n');
}

export interface MrpcPair {
  label: 0 | 1;
  id1: number;
  id2: number;
  s1: string;
  s2: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface ParsedMrpc {
  pairs: MrpcPair[];
  skipped: Array<{ line: number; reason: string }>;
}

/** Parses one MRPC file; malformed lines fail with `file:line`. */
export function parseMrpc(bytes: Uint8Array | string, file: string): ParsedMrpc {
  const lines = mrpcLines(bytes);
  if (lines.length === 0) throw new Error(`${file}: empty file`);
  const header = lines[0]!.split('\t');
  if (header.length !== 5 || header[0]!.trim() !== 'Quality') {
    throw new Error(`${file}:1: expected the header '${MRPC_HEADER.join('\\t')}', found ${JSON.stringify(lines[0]!.slice(0, 60))}`);
  }
  const pairs: MrpcPair[] = [];
  const skipped: ParsedMrpc['skipped'] = [];
  for (let i = 1; i < lines.length; i++) {
    const at = `${file}:${i + 1}`;
    const fields = lines[i]!.split('\t');
    if (fields.length !== 5) {
      throw new Error(`${at}: expected 5 tab-separated fields (${MRPC_HEADER.join(', ')}), found ${fields.length}`);
    }
    const [quality, id1, id2, s1, s2] = fields as [string, string, string, string, string];
    if (quality !== '0' && quality !== '1') throw new Error(`${at}: label ${JSON.stringify(quality)} out of range (expected 0 or 1)`);
    if (!/^-?\d+$/.test(id1) || !/^-?\d+$/.test(id2)) throw new Error(`${at}: pair ids ${JSON.stringify(id1)}, ${JSON.stringify(id2)} are not integers`);
    if (isPlaceholder(fields)) {
      skipped.push({ line: i + 1, reason: `placeholder row with pair ids ${id1}/${id2} (not an MSRP pair)` });
      continue;
    }
    if (!s1.trim() || !s2.trim()) throw new Error(`${at}: empty sentence`);
    pairs.push({ label: quality === '1' ? 1 : 0, id1: Number(id1), id2: Number(id2), s1, s2, line: i + 1 });
  }
  return { pairs, skipped };
}

/** Checks a file against the pinned digests; returns how it matched. */
export function verifyMrpcBytes(bytes: Uint8Array, split: MrpcSplit, label: string): { size: number; sha256: string; verified: string } {
  const pinned = MRPC_FILES[split];
  const sha256 = sha256Hex(bytes);
  if (sha256 === pinned.sha256) return { size: bytes.length, sha256, verified: `sha256:${pinned.sha256}` };
  const content = mrpcContentDigest(bytes);
  if (content === pinned.contentSha256) return { size: bytes.length, sha256, verified: `content-sha256:${pinned.contentSha256}` };
  throw new Error(
    `checksum mismatch for ${label} (${bytes.length} bytes): sha256 ${sha256.slice(0, 16)}…, content ${content.slice(0, 16)}…; expected sha256 ${pinned.sha256.slice(0, 16)}… or content ${pinned.contentSha256.slice(0, 16)}…`,
  );
}

export type MrpcRawResult = Omit<Provenance, 'source'>;

/** Copies both files from a mirror directory into `rawDir`, verified. */
export function fetchMrpcFromMirror(mirrorDir: string, rawDir: string): MrpcRawResult {
  if (!existsSync(mirrorDir)) throw new Error(`mirror directory ${mirrorDir} does not exist`);
  mkdirSync(rawDir, { recursive: true });
  const files: Provenance['files'] = {};
  try {
    for (const split of MRPC_SPLITS) {
      const { name } = MRPC_FILES[split];
      const from = join(mirrorDir, name);
      let bytes: Buffer;
      try {
        bytes = readFileSync(from);
      } catch (err) {
        throw new Error(`${from}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`);
      }
      files[name] = verifyMrpcBytes(bytes, split, from);
      copyFileSync(from, join(rawDir, name));
    }
  } catch (err) {
    for (const split of MRPC_SPLITS) rmSync(join(rawDir, MRPC_FILES[split].name), { force: true });
    throw err;
  }
  return { dataset: 'mrpc', format: MRPC_FORMAT, files };
}

/** Downloads both files (resumable, into `workDir`), verifies them and moves them into `rawDir`. */
export async function fetchMrpcFromUrls(
  urls: Record<MrpcSplit, string>,
  workDir: string,
  rawDir: string,
  hooks: { onProgress?: (p: DownloadProgress) => void; log?: (line: string) => void } = {},
): Promise<MrpcRawResult> {
  const { downloadFile } = await import('./download.js');
  mkdirSync(rawDir, { recursive: true });
  const files: Provenance['files'] = {};
  try {
    for (const split of MRPC_SPLITS) {
      const { name } = MRPC_FILES[split];
      const dest = join(workDir, name);
      files[name] = await downloadFile(urls[split], dest, {
        verify: async (path, label) => verifyMrpcBytes(readFileSync(path), split, label),
        onProgress: hooks.onProgress,
        log: hooks.log,
      }).then(({ size, sha256, verified }) => ({ size, sha256, verified }));
      copyFileSync(dest, join(rawDir, name));
    }
  } catch (err) {
    for (const split of MRPC_SPLITS) rmSync(join(rawDir, MRPC_FILES[split].name), { force: true });
    throw err;
  }
  return { dataset: 'mrpc', format: MRPC_FORMAT, files };
}

// ---------------------------------------------------------------------------
// Tokenization for the text model.

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;
export const PAD = 0;
export const UNK = 1;
export const CLS = 2;
export const SEP = 3;

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?|[^\s\p{L}\p{N}]/gu;

/** Lower-cased words, numbers and single punctuation marks. */
export function tokenize(sentence: string, lowercase = true): string[] {
  const s = sentence.normalize('NFKC');
  return (lowercase ? s.toLowerCase() : s).match(TOKEN) ?? [];
}

export interface VocabOptions {
  minCount: number;
  /** Largest vocabulary including the special tokens; null = no limit. */
  maxSize: number | null;
}

/** Special tokens, then tokens by decreasing count (ties by code point order). Built from training sentences only. */
export function buildVocab(sentences: Iterable<string[]>, o: VocabOptions): string[] {
  const counts = new Map<string, number>();
  for (const tokens of sentences) for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const words = [...counts.entries()]
    .filter(([t, c]) => c >= o.minCount && !(SPECIAL_TOKENS as readonly string[]).includes(t))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([t]) => t);
  const vocab = [...SPECIAL_TOKENS, ...words];
  return o.maxSize === null ? vocab : vocab.slice(0, Math.max(o.maxSize, SPECIAL_TOKENS.length));
}

export interface EncodedPairs {
  /** n × maxLen token ids: [CLS] a [SEP] b [SEP], then [PAD]. */
  ids: Int32Array;
  truncated: number;
  tokens: number;
  unknown: number;
}

/** Encodes sentence pairs, truncating the longer sentence first (as BERT does) to fit `maxLen`. */
export function encodePairs(pairs: ReadonlyArray<[string[], string[]]>, vocab: readonly string[], maxLen: number): EncodedPairs {
  if (maxLen < 5) throw new Error(`max_len must be at least 5, got ${maxLen}`);
  const index = new Map(vocab.map((t, i) => [t, i]));
  const ids = new Int32Array(pairs.length * maxLen);
  let truncated = 0;
  let tokens = 0;
  let unknown = 0;
  pairs.forEach(([a0, b0], i) => {
    const a = [...a0];
    const b = [...b0];
    if (a.length + b.length + 3 > maxLen) truncated++;
    while (a.length + b.length + 3 > maxLen) (a.length >= b.length ? a : b).pop();
    const seq = [CLS, ...a.map(lookup), SEP, ...b.map(lookup), SEP];
    ids.set(seq, i * maxLen);
  });
  function lookup(t: string): number {
    tokens++;
    const id = index.get(t);
    if (id === undefined) {
      unknown++;
      return UNK;
    }
    return id;
  }
  return { ids, truncated, tokens, unknown };
}

// ---------------------------------------------------------------------------
// The derived data set.

export const MRPC_CLASSES = ['not_paraphrase', 'paraphrase'] as const;

export interface MrpcDatasetOptions {
  maxLen: number;
  minCount: number;
  maxVocab: number | null;
  lowercase: boolean;
  /** First N pairs of each split (null = all). */
  trainLimit: number | null;
  testLimit: number | null;
}

/** Tokenized pairs (vocabulary from the training split only) in the data set layout, plus the vocabulary. */
export function mrpcDataset(
  train: ParsedMrpc,
  test: ParsedMrpc,
  o: MrpcDatasetOptions,
): { dataset: DatasetInput; vocab: string[] } {
  const limit = (pairs: MrpcPair[], n: number | null, split: string): MrpcPair[] => {
    if (n !== null && n > pairs.length) throw new Error(`${split}_limit ${n} exceeds the ${pairs.length} ${split} pairs`);
    return n === null ? pairs : pairs.slice(0, n);
  };
  const trainPairs = limit(train.pairs, o.trainLimit, 'train');
  const testPairs = limit(test.pairs, o.testLimit, 'test');
  const tok = (pairs: MrpcPair[]): Array<[string[], string[]]> => pairs.map((p) => [tokenize(p.s1, o.lowercase), tokenize(p.s2, o.lowercase)]);
  const trainTokens = tok(trainPairs);
  const testTokens = tok(testPairs);
  const vocab = buildVocab(
    trainTokens.flatMap(([a, b]) => [a, b]),
    { minCount: o.minCount, maxSize: o.maxVocab },
  );
  const encTrain = encodePairs(trainTokens, vocab, o.maxLen);
  const encTest = encodePairs(testTokens, vocab, o.maxLen);
  const split = (pairs: MrpcPair[], enc: EncodedPairs) => ({
    x: { dtype: '<i4' as const, shape: [pairs.length, o.maxLen], data: enc.ids },
    y: { dtype: '<i4' as const, shape: [pairs.length], data: new Int32Array(pairs.map((p) => p.label)) },
    description: '[CLS] sentence 1 [SEP] sentence 2 [SEP], padded with [PAD] = 0',
  });
  const stats = (enc: EncodedPairs) => ({
    truncated_pairs: enc.truncated,
    tokens: enc.tokens,
    unknown_tokens: enc.unknown,
  });
  return {
    vocab,
    dataset: {
      kind: 'mrpc',
      classes: MRPC_CLASSES,
      splits: { train: split(trainPairs, encTrain), test: split(testPairs, encTest) },
      details: {
        vocab_file: 'vocab.json',
        vocab_size: vocab.length,
        vocab_from: 'training split only',
        special_tokens: Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, i])),
        max_len: o.maxLen,
        min_count: o.minCount,
        max_vocab: o.maxVocab,
        lowercase: o.lowercase,
        tokenizer: 'NFKC, lower-case, words/numbers (with an apostrophe suffix) and single punctuation marks',
        train: { pairs: trainPairs.length, ...stats(encTrain), skipped_rows: train.skipped },
        test: { pairs: testPairs.length, ...stats(encTest), skipped_rows: test.skipped },
      },
    },
  };
}
