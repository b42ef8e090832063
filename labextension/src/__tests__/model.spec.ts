import {
  LOAD_CODE,
  NOTIFICATION_LIMIT,
  exportCode,
  failureMessage,
  isIdentifier,
  isMissingPackage,
  isModelCell,
  notInstalledMessage,
  panelCode,
  parseExportAnswer,
  parseModelHeader,
  parseModelList,
  summarize
} from '../model';

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
    expect(['', '2a', 'a b', 'a;b', "a')", 'class', 'é', '_oh', 'print', 'get_ipython', '__builtins__'].some(isIdentifier)).toBe(
      false
    );
  });
  it('builds export code only for identifiers, loading ainative first', () => {
    const load = 'get_ipython().extension_manager.load_extension("ainative")\n';
    expect(LOAD_CODE + '\n').toBe(load);
    expect(exportCode('mlp', 'onnx')).toBe(`${load}%model_export mlp --format onnx --out . --json`);
    expect(exportCode('mlp', 'serving')).toBe(`${load}%model_export mlp --format serving --out . --json`);
    expect(exportCode('mlp', 'pipeline')).toBe(`${load}%model_export mlp --format pipeline --out . --json`);
    expect(exportCode('mlp', 'pipeline', true)).toBe(
      `${load}%model_export mlp --format pipeline --out . --json --overwrite`
    );
    expect(exportCode('mlp', 'onnx', true)).toBe(`${load}%model_export mlp --format onnx --out . --json --overwrite`);
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
  it('reads export answers from the last line of JSON', () => {
    const done = { ok: true, name: 'mlp', format: 'onnx', report: { paths: ['/work/mlp.onnx'], nodes: 10 } };
    expect(parseExportAnswer(`a warning\n${JSON.stringify(done)}\n`)).toEqual({
      ok: true,
      name: 'mlp',
      paths: ['/work/mlp.onnx']
    });
    const failed = { ok: false, name: 'mlp', code: 'exists', message: 'mlp.onnx exists; pass overwrite=True' };
    expect(parseExportAnswer(JSON.stringify(failed))).toEqual(failed);
    expect(parseExportAnswer('mlp.onnx: 10 nodes')).toBeNull();
    expect(parseExportAnswer('{"ok": false, "name": "mlp"}')).toBeNull();
    expect(parseExportAnswer('')).toBeNull();
  });
  it('says what to do next when an export fails, in a notification that fits', () => {
    const noParams = failureMessage({ name: 'untrained', code: 'no-params', message: 'pass --params' }, 'onnx');
    expect(noParams).toBe(
      'untrained has no parameters: run untrained.init(…) or untrained.fit(…), then Model → Export to ONNX.'
    );
    expect(noParams).not.toContain('--params');
    expect(failureMessage({ name: 'bnn', code: 'no-model', message: '' }, 'serving')).toBe(
      'There is no model bnn in this kernel yet: run its %%model cell, then Model → Export for serving.'
    );
    expect(failureMessage({ name: 'mlp', code: 'no-params', message: '' }, 'pipeline')).toBe(
      'mlp has no parameters: run mlp.init(…) or mlp.fit(…), then Model → Export as Kubeflow pipeline.'
    );
    expect(failureMessage({ name: 'f', code: 'export', message: 'softmax of a scalar' }, 'onnx')).toBe(
      'Export to ONNX of f failed: softmax of a scalar'
    );
    for (const code of ['no-params', 'no-model']) {
      for (const format of ['onnx', 'serving', 'pipeline'] as const) {
        expect(failureMessage({ name: 'a_long_model_name', code, message: '' }, format).length).toBeLessThanOrEqual(
          NOTIFICATION_LIMIT
        );
      }
    }
  });
  it('recognises a kernel without ainative', () => {
    expect(isMissingPackage('ModuleNotFoundError', "No module named 'ainative'")).toBe(true);
    expect(isMissingPackage('ModuleNotFoundError', "No module named 'onnx'")).toBe(false);
    expect(isMissingPackage('NameError', 'ainative')).toBe(false);
    const message = notInstalledMessage('Python 3 (ipykernel)');
    expect(message).toContain('%pip install ainative');
    expect(message.length).toBeLessThanOrEqual(NOTIFICATION_LIMIT);
  });
  it('keeps long messages whole for a details view', () => {
    expect(summarize('short')).toEqual({ summary: 'short', details: null });
    const error = `ShapeError: cannot multiply (K, H) by (D,): H ≠ D (line 5, column 13)\n    y = softmax(W₂ x + b₂)\n${'x'.repeat(80)}`;
    expect(summarize(error)).toEqual({ summary: error.split('\n')[0], details: error });
    const long = 'word '.repeat(60).trim();
    const { summary, details } = summarize(long);
    expect(summary.length).toBeLessThanOrEqual(NOTIFICATION_LIMIT);
    expect(summary.endsWith('…')).toBe(true);
    expect(details).toBe(long);
  });
});
