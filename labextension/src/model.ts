/**
 * The logic the commands need, kept free of JupyterLab so it can be unit-tested:
 * reading a %%model header, validating names before any code reaches the kernel,
 * and building the one line of code a command sends.
 */

const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield'
]);

export type ExportFormat = 'onnx' | 'serving';

/** Whether `name` is a plain Python identifier (ASCII), safe to put in a line of code. */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !PYTHON_KEYWORDS.has(name);
}

/** Whether a cell's source is a %%model cell. */
export function isModelCell(source: string): boolean {
  return /^\s*%%model\b/.test(source);
}

/** The model name of a %%model cell's header, or null when there is none or it is not a valid name. */
export function parseModelHeader(source: string): string | null {
  const match = /^\s*%%model[ \t]+([^\s(]+)\s*\(/.exec(source);
  if (!match) {
    return null;
  }
  return isIdentifier(match[1]) ? match[1] : null;
}

/** The model names in `%models --json` output; anything that is not an identifier is dropped. */
export function parseModelList(output: string): string[] {
  let rows: unknown;
  try {
    rows = JSON.parse(output.trim());
  } catch {
    return [];
  }
  if (!Array.isArray(rows)) {
    return [];
  }
  return rows
    .map(row => (row && typeof row === 'object' ? (row as { name?: unknown }).name : undefined))
    .filter((name): name is string => typeof name === 'string' && isIdentifier(name));
}

/** The code an export command runs in the kernel; throws on a name that is not an identifier. */
export function exportCode(name: string, format: ExportFormat, overwrite = false): string {
  if (!isIdentifier(name)) {
    throw new Error(`not a model name: ${JSON.stringify(name)}`);
  }
  if (format !== 'onnx' && format !== 'serving') {
    throw new Error(`unknown export format: ${JSON.stringify(format)}`);
  }
  return `%model_export ${name} --format ${format} --out .${overwrite ? ' --overwrite' : ''}`;
}

/** The code the Show panel command puts in a new cell. */
export function panelCode(name: string): string {
  if (!isIdentifier(name)) {
    throw new Error(`not a model name: ${JSON.stringify(name)}`);
  }
  return `${name}.panel()`;
}

/** The written paths in an export report (lines ending in .onnx/.json/.pbtxt/.yaml, or "repository X:"). */
export function writtenPaths(report: string): string[] {
  const paths: string[] = [];
  for (const line of report.split('\n')) {
    const file = /^\s*(\S+\.(?:onnx|json|pbtxt|yaml))(?::|$)/.exec(line);
    const folder = /^model repository (.+):$/.exec(line.trim());
    if (folder) {
      paths.push(folder[1]);
    } else if (file) {
      paths.push(file[1]);
    }
  }
  return paths;
}

/** Whether an export failed only because its file exists (then the user is asked to replace it). */
export function existsError(message: string): boolean {
  return /exists; pass overwrite=True/.test(message);
}
