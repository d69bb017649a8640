/** The token every benchmark server accepts (a benchmark fixture, not a secret). */
export const BENCH_TOKEN = 'bench-token-7f3Kq9LmN2pR5sT8vW1xY4zA6bC0dE';
/** Well-formed, same length, not accepted. */
export const WRONG_TOKEN = 'bench-token-0000000000000000000000000000000';
