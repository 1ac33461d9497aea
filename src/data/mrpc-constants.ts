/**
 * MRPC's pinned sources (see mrpc.ts for how files are verified). Light on
 * purpose: the download stage imports it at plan time for its defaults.
 */

export const MRPC_SPLITS = ['train', 'test'] as const;
export type MrpcSplit = (typeof MRPC_SPLITS)[number];

export const MRPC_FILES: Record<MrpcSplit, { name: string; url: string; sha256: string; contentSha256: string }> = {
  train: {
    name: 'msr_paraphrase_train.txt',
    url: 'https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt',
    sha256: '8ce2b3a2f391f24534f38242d429510f8837eb4d3c4f4e8ff7b56d3678b4bb5c',
    contentSha256: '178c3d39a096a887a4afa2fdecc9089ad7d7f74c019a95ce8cdac2b4855ebf4a',
  },
  test: {
    name: 'msr_paraphrase_test.txt',
    url: 'https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt',
    sha256: '51a1f197d8786712d2f0d97700f5be653b7488a96cde00e158159350d23e3d90',
    contentSha256: '0d1a876ed5b29dc9779ec212f0d7a1601caafbc5837cd1200e638f0b0a654562',
  },
};
