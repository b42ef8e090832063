import { CLASSES, TOKENS } from '../highlight';

/** What highlighting marks in a cell: each token's text and class. */
function marks(text: string): string[][] {
  return [...text.matchAll(TOKENS)].map(m => [m[0], CLASSES[m.slice(1).findIndex(v => v !== undefined)]]);
}

const KEYWORD = 'cm-ainative-keyword';
const FUNCTION = 'cm-ainative-function';
const INDEX = 'cm-ainative-index';

describe('highlighting', () => {
  it('marks keywords, operators, distributions, functions and comments', () => {
    expect(marks('%%model f(x, y)\nβ ~ Normal(0, 1)  # prior\nh = tanh(W x) for j in 1..J')).toEqual([
      ['%%model', KEYWORD],
      ['~', 'cm-ainative-operator'],
      ['Normal', 'cm-ainative-distribution'],
      ['# prior', 'cm-ainative-comment'],
      ['tanh', FUNCTION],
      ['for', KEYWORD],
      ['in', KEYWORD]
    ]);
  });
});

describe('highlighting indices', () => {
  it('marks reductions, their subscripts, δ and explicit subscripts in Unicode', () => {
    expect(marks('y_t = b + Σ_{k=1}^{K} w_k x_{t+k-1}  for t in 1..T-K+1')).toEqual([
      ['Σ', FUNCTION],
      ['_{k=1}^{K}', INDEX],
      ['t+k-1', INDEX],
      ['for', KEYWORD],
      ['in', KEYWORD]
    ]);
    expect(marks('μ_t = mean_d x_{t,d} + ∏_j z_j + Σⱼ w_j\nm_t = max_{k=1..2} x_{2t+k-2}')).toEqual([
      ['mean', FUNCTION],
      ['_d', INDEX],
      ['t,d', INDEX],
      ['∏', FUNCTION],
      ['_j', INDEX],
      ['Σ', FUNCTION],
      ['ⱼ', INDEX],
      ['max', FUNCTION],
      ['_{k=1..2}', INDEX],
      ['2t+k-2', INDEX]
    ]);
    expect(marks('K_{ij} = σ² δ_{ij} + α_{county_i}\na_{h,t,s} = softmax_s(Σ_e q_{h,t,e} k_{h,s,e})')).toEqual([
      ['δ', FUNCTION],
      ['_{ij}', INDEX],
      ['county_i', INDEX],
      ['h,t,s', INDEX],
      ['softmax', FUNCTION],
      ['_s', INDEX],
      ['Σ', FUNCTION],
      ['_e', INDEX],
      ['h,t,e', INDEX],
      ['h,s,e', INDEX]
    ]);
  });

  it('marks them in ASCII', () => {
    expect(marks('y = sum_j(w[j] * x[t-1]) + prod_{j=1..J}(z[j])\nK[i, j] = delta[i, j] + alpha[county[i]]')).toEqual([
      ['sum', FUNCTION],
      ['_j', INDEX],
      ['j', INDEX],
      ['t-1', INDEX],
      ['prod', FUNCTION],
      ['_{j=1..J}', INDEX],
      ['j', INDEX],
      ['i, j', INDEX],
      ['delta', FUNCTION],
      ['i, j', INDEX],
      ['county[i]', INDEX]
    ]);
  });

  it('marks them in LaTeX', () => {
    const text = '%%model f(x) --latex\ny = \\sum_{j=1}^{J} w_j + \\prod_j z_j + \\operatorname{mean}_j x_j + \\max_k v_k\n' +
      'K_{i,j} = \\delta_{ij} + \\alpha_{\\text{county}_i}';
    expect(marks(text)).toEqual([
      ['%%model', KEYWORD],
      ['--latex', KEYWORD],
      ['\\sum', FUNCTION],
      ['_{j=1}^{J}', INDEX],
      ['\\prod', FUNCTION],
      ['_j', INDEX],
      ['\\operatorname{mean}', FUNCTION],
      ['_j', INDEX],
      ['\\max', FUNCTION],
      ['_k', INDEX],
      ['i,j', INDEX],
      ['\\delta', FUNCTION],
      ['_{ij}', INDEX],
      ['\\text{county}_i', INDEX]
    ]);
  });

  it('leaves subscripts that are part of names as they were', () => {
    expect(marks('y = W_1 x + b_out + h_{out} + W_{ij} + xmean_j + max_1 + mean(x)')).toEqual([['mean', FUNCTION]]);
  });
});
