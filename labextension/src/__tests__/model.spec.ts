import {
  existsError,
  exportCode,
  isIdentifier,
  isModelCell,
  panelCode,
  parseModelHeader,
  parseModelList,
  writtenPaths
} from '../model';
import { TOKENS } from '../highlight';

describe('parseModelHeader', () => {
  it('reads the name of a %%model header', () => {
    expect(parseModelHeader('%%model mlp(x) -> y\nh = tanh(W x)')).toBe('mlp');
    expect(parseModelHeader('  %%model eight_schools(σ, y) --backend numpyro')).toBe('eight_schools');
  });
  it('refuses headers whose name is not an identifier', () => {
    expect(parseModelHeader('%%model x;import os(x)')).toBeNull();
    expect(parseModelHeader('%%model lambda(x)')).toBeNull();
    expect(parseModelHeader('%%model σ(x)')).toBeNull();
    expect(parseModelHeader('y = 1')).toBeNull();
    expect(parseModelHeader('%%modelx f(x)')).toBeNull();
  });
});

describe('names and code', () => {
  it('validates identifiers', () => {
    expect(isIdentifier('mlp_2')).toBe(true);
    expect(['', '2a', 'a b', 'a;b', "a')", 'class', 'é'].some(isIdentifier)).toBe(false);
  });
  it('builds export code only for identifiers', () => {
    expect(exportCode('mlp', 'onnx')).toBe('%model_export mlp --format onnx --out .');
    expect(exportCode('mlp', 'serving')).toBe('%model_export mlp --format serving --out .');
    expect(exportCode('mlp', 'onnx', true)).toBe('%model_export mlp --format onnx --out . --overwrite');
    expect(existsError('ExportError: mlp.onnx exists; pass overwrite=True to replace it')).toBe(true);
    expect(existsError('ExportError: softmax of a scalar')).toBe(false);
    expect(() => exportCode('mlp; import os', 'onnx')).toThrow();
    expect(() => exportCode('mlp', 'pickle' as never)).toThrow();
    expect(panelCode('mlp')).toBe('mlp.panel()');
    expect(() => panelCode('x)\n__import__("os")')).toThrow();
  });
  it('recognises %%model cells', () => {
    expect(isModelCell('%%model f(x)\ny = x')).toBe(true);
    expect(isModelCell('print("%%model")')).toBe(false);
  });
});

describe('kernel output', () => {
  it('lists models from %models --json, dropping anything unsafe', () => {
    const output = JSON.stringify([{ name: 'mlp' }, { name: 'x); rm -rf' }, { other: 1 }, { name: 'bnn' }]);
    expect(parseModelList(output)).toEqual(['mlp', 'bnn']);
    expect(parseModelList('not json')).toEqual([]);
    expect(parseModelList('{"name": "mlp"}')).toEqual([]);
  });
  it('finds written paths in export reports', () => {
    expect(writtenPaths('mlp.onnx: 10 nodes, opset 17, 997 bytes; onnxruntime matches')).toEqual(['mlp.onnx']);
    const repository = 'model repository mlp-serving:\n  mlp-serving/mlp/1/model.onnx\n  mlp-serving/settings.json';
    expect(writtenPaths(repository)).toEqual(['mlp-serving', 'mlp-serving/mlp/1/model.onnx', 'mlp-serving/settings.json']);
  });
});

describe('highlighting', () => {
  it('marks keywords, operators, distributions, functions and comments', () => {
    const text = '%%model f(x, y)\nβ ~ Normal(0, 1)  # prior\nh = tanh(W x) for j in 1..J';
    const found = [...text.matchAll(TOKENS)].map(m => [m[0], m.slice(1).findIndex(v => v !== undefined)]);
    expect(found).toEqual([
      ['%%model', 1],
      ['~', 2],
      ['Normal', 3],
      ['# prior', 0],
      ['tanh', 4],
      ['for', 1],
      ['in', 1]
    ]);
  });
});
