import type * as tfTypes from '@tensorflow/tfjs';
import { ParamSet, type Init } from '../params.js';
import { Dense, LayerNorm, embeddingLookup } from './layers.js';
import { logitCount, scaled, type Model, type ModelFactory, type ModelSpec } from './types.js';

/**
 * The MRPC sentence-pair classifier (Figure 6): a BERT-style Transformer
 * encoder over `[CLS] a [SEP] b [SEP]` token ids.
 *
 * The paper fine-tunes pretrained BERT-base (12 layers, 768 units, 12 heads,
 * FFN 3072). Pretrained weights cannot be downloaded here, so by default this
 * is a small encoder trained from scratch (2 layers, 128 units at width 1,
 * 4 heads, FFN 4x) with the paper's SGD settings; `options` choose other sizes
 * and a user-supplied checkpoint can initialize every parameter (see
 * src/ml/pretrained.ts for the file layout and the parameter names).
 *
 * Architecture as BERT's: token + learned position + segment embeddings,
 * LayerNorm, dropout; per layer multi-head self-attention (padding masked)
 * -> dropout -> residual -> LayerNorm, GELU feed-forward -> dropout ->
 * residual -> LayerNorm; pooler tanh(dense(h[CLS])) -> dropout -> output.
 * Segment ids are derived from the ids: 0 up to and including the first
 * [SEP], 1 after.
 *
 * Initialization (option `init`): 'glorot' by default (dense layers
 * Glorot-uniform, biases 0, embeddings N(0, 1)); 'bert' is BERT's N(0, 0.02²)
 * everywhere. BERT's init is made for pretraining with Adam: trained from
 * scratch with the paper's fine-tuning optimizer (SGD, lr 0.01, no momentum)
 * it does not leave the initial plateau (measured on a learnable toy pair
 * task: loss 0.693 after 40 epochs even at lr 0.1, against 100% training
 * accuracy with 'glorot'). With a pretrained checkpoint the init is moot.
 *
 * Expect much less than the paper's 78-85% MRPC test accuracy: without
 * pretraining, 4,076 sentence pairs are too few (the majority class is
 * 66.5% of the test set).
 *
 * `dropout` applies to the hidden units and the attention probabilities, as
 * BERT's hidden_dropout_prob / attention_probs_dropout_prob.
 */

export interface TransformerOptions {
  layers: number;
  /** Hidden size (at width 1; scaled by width unless given explicitly via a pretrained config). */
  d_model: number;
  heads: number;
  /** Feed-forward size; default 4 * d_model. */
  ffn?: number;
  vocab_size: number;
  /** Position embeddings (>= sequence length). */
  max_positions?: number;
  pad_id?: number;
  sep_id?: number;
  /** Use d_model/ffn as given (ignore width); set for pretrained checkpoints. */
  exact?: boolean;
  /** 'glorot' (default): dense layers Glorot-uniform, biases 0, embeddings N(0, 1); 'bert': weights and embeddings N(0, 0.02²), biases 0. */
  init?: 'bert' | 'glorot';
}

export const TRANSFORMER_DEFAULTS = { layers: 2, d_model: 128, heads: 4, pad_id: 0, sep_id: 3 };

const BERT_DENSE: { w: Init; b: Init } = { w: { kind: 'normal', std: 0.02 }, b: { kind: 'const', value: 0 } };

export function transformerConfig(spec: ModelSpec): Required<TransformerOptions> {
  const init = (spec.options?.init ?? 'glorot') as string;
  if (init !== 'bert' && init !== 'glorot') throw new Error(`transformer: init must be 'bert' or 'glorot', got ${JSON.stringify(init)}`);
  const o = { ...TRANSFORMER_DEFAULTS, ...(spec.options ?? {}) } as TransformerOptions;
  if (!Number.isInteger(o.vocab_size) || o.vocab_size < 2) throw new Error('transformer: options.vocab_size is required');
  const seqLen = spec.inputShape[0]!;
  const heads = o.heads;
  let d = o.exact ? o.d_model : scaled(o.d_model, spec.width);
  // Hidden size must be divisible by the number of heads.
  if (d % heads !== 0) d = Math.max(heads, Math.round(d / heads) * heads);
  const ffn = o.exact && o.ffn ? o.ffn : o.ffn ? scaled(o.ffn, spec.width) : 4 * d;
  return {
    layers: o.layers,
    d_model: d,
    heads,
    ffn,
    vocab_size: o.vocab_size,
    max_positions: Math.max(o.max_positions ?? seqLen, seqLen),
    pad_id: o.pad_id ?? 0,
    sep_id: o.sep_id ?? 3,
    exact: o.exact ?? false,
    init,
  };
}

export const transformer: ModelFactory = {
  input: 'tokens',
  summary: 'BERT-style Transformer encoder over [CLS] a [SEP] b [SEP] (small, from scratch, unless a pretrained checkpoint is given)',
  build(tf: typeof tfTypes, spec: ModelSpec): Model {
    if (spec.inputShape.length !== 1) throw new Error(`transformer: input shape must be [L], got [${spec.inputShape}]`);
    const cfg = transformerConfig(spec);
    const L = spec.inputShape[0]!;
    const d = cfg.d_model;
    const heads = cfg.heads;
    const dh = d / heads;
    const params = new ParamSet(tf, spec.seed, 'glorot');
    const outputs = logitCount(spec.numClasses);
    const bert = cfg.init === 'bert';
    const BERT_INIT = bert ? BERT_DENSE : undefined;
    const embInit: Init = { kind: 'normal', std: bert ? 0.02 : 1 };
    const emb = {
      token: params.add('embeddings/token', [cfg.vocab_size, d], embInit),
      position: params.add('embeddings/position', [cfg.max_positions, d], embInit),
      segment: params.add('embeddings/segment', [2, d], embInit),
      ln: new LayerNorm(tf, params, 'embeddings/ln', d),
    };
    const layers = Array.from({ length: cfg.layers }, (_, i) => {
      const p = `layer${i}`;
      return {
        q: new Dense(tf, params, `${p}/attention/query`, d, d, BERT_INIT),
        k: new Dense(tf, params, `${p}/attention/key`, d, d, BERT_INIT),
        v: new Dense(tf, params, `${p}/attention/value`, d, d, BERT_INIT),
        o: new Dense(tf, params, `${p}/attention/output`, d, d, BERT_INIT),
        ln1: new LayerNorm(tf, params, `${p}/attention/ln`, d),
        ff1: new Dense(tf, params, `${p}/ffn/intermediate`, d, cfg.ffn, BERT_INIT),
        ff2: new Dense(tf, params, `${p}/ffn/output`, cfg.ffn, d, BERT_INIT),
        ln2: new LayerNorm(tf, params, `${p}/ffn/ln`, d),
      };
    });
    const pooler = new Dense(tf, params, 'pooler', d, d, BERT_INIT);
    const out = new Dense(tf, params, 'out', d, outputs, BERT_INIT);

    const gelu = (x: tfTypes.Tensor) => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);

    return {
      name: 'transformer',
      input: 'tokens',
      outputs,
      params,
      apply(x, o) {
        const B = x.shape[0]!;
        const ids = x.toInt() as tfTypes.Tensor2D;
        const drop = (t: tfTypes.Tensor) => (o.training && spec.dropout > 0 && o.masks ? o.masks.apply(t, spec.dropout) : t);
        // Padding mask as an additive bias on the attention scores: [B, 1, 1, L].
        const valid = tf.notEqual(ids, tf.scalar(cfg.pad_id, 'int32')).toFloat();
        const maskBias = tf.sub(1, valid).mul(-10000).reshape([B, 1, 1, L]);
        // Segment ids: 1 after the first [SEP].
        const isSep = tf.equal(ids, tf.scalar(cfg.sep_id, 'int32')).toFloat();
        const segIds = tf.greater(tf.cumsum(isSep, 1).sub(isSep), 0).toInt();
        let h: tfTypes.Tensor = embeddingLookup(tf, emb.token as tfTypes.Tensor2D, ids.reshape([B * L]))
          .reshape([B, L, d])
          .add(emb.position.slice([0, 0], [L, d]))
          .add(embeddingLookup(tf, emb.segment as tfTypes.Tensor2D, segIds.reshape([B * L])).reshape([B, L, d]));
        h = drop(emb.ln.apply(h));
        const split = (t: tfTypes.Tensor) => t.reshape([B, L, heads, dh]).transpose([0, 2, 1, 3]);
        for (const l of layers) {
          const q = split(l.q.applyNd(h));
          const k = split(l.k.applyNd(h));
          const v = split(l.v.applyNd(h));
          const scores = tf.matMul(q as tfTypes.Tensor4D, k as tfTypes.Tensor4D, false, true).mul(1 / Math.sqrt(dh)).add(maskBias);
          const probs = drop(tf.softmax(scores));
          const ctx = tf.matMul(probs as tfTypes.Tensor4D, v as tfTypes.Tensor4D).transpose([0, 2, 1, 3]).reshape([B, L, d]);
          h = l.ln1.apply(h.add(drop(l.o.applyNd(ctx))));
          const ff = l.ff2.applyNd(gelu(l.ff1.applyNd(h)));
          h = l.ln2.apply(h.add(drop(ff)));
        }
        const cls = h.slice([0, 0, 0], [B, 1, d]).reshape([B, d]) as tfTypes.Tensor2D;
        const pooled = drop(tf.tanh(pooler.apply(cls))) as tfTypes.Tensor2D;
        return out.apply(pooled);
      },
      describe: () =>
        `Transformer encoder: ${cfg.layers} layers, d ${d}, ${heads} heads, FFN ${cfg.ffn}, vocab ${cfg.vocab_size}, length ${L}${spec.dropout > 0 ? `, dropout ${spec.dropout}` : ''}, out ${outputs}`,
    };
  },
};
