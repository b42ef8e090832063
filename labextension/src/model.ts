/**
 * The logic the commands need, kept free of JupyterLab so it can be unit-tested:
 * reading a %%model header, validating names before any code reaches the kernel,
 * building the code a command sends, and reading the kernel's JSON answers into
 * typed values and sentences for the user.
 */

import notation from './notation.json';

export type ExportFormat = 'onnx' | 'serving' | 'pipeline';

/** What each export is called in the Model menu, and so in the messages about it. */
export const EXPORT_LABELS: Record<ExportFormat, string> = {
  onnx: 'Export to ONNX',
  serving: 'Export for serving',
  pipeline: 'Export as Kubeflow pipeline'
};

/**
 * Loads ainative's magics into the kernel: a no-op once loaded, and the only line sent before a
 * %%model cell runs, so a notebook needs no `%load_ext ainative` of its own.
 */
export const LOAD_CODE = 'get_ipython().extension_manager.load_extension("ainative")';

/** A model name as the header's schema (written from the Python option table) defines it. */
const MODEL_NAME = new RegExp(notation.header.properties.name.pattern);
/** Names a model may not take: Python's keywords and builtins, IPython's own names (the same list as Python's). */
const TAKEN = new Set<string>(notation.header.properties.name.not.enum);

/** Whether `name` is a model name that is a plain Python identifier, safe to put in a line of code. */
export function isIdentifier(name: string): boolean {
  return MODEL_NAME.test(name) && !TAKEN.has(name);
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

function parseJson(output: string): unknown {
  try {
    return JSON.parse(output.trim());
  } catch {
    return undefined;
  }
}

/** The model names in `%models --json` output; anything that is not an identifier is dropped. */
export function parseModelList(output: string): string[] {
  const rows = parseJson(output);
  if (!Array.isArray(rows)) {
    return [];
  }
  return rows
    .map(row => (row && typeof row === 'object' ? (row as { name?: unknown }).name : undefined))
    .filter((name): name is string => typeof name === 'string' && isIdentifier(name));
}

/** The code that lists the kernel's models, loading ainative first. */
export const LIST_CODE = `${LOAD_CODE}\n%models --json`;

/** The code an export command runs in the kernel; throws on a name that is not an identifier. */
export function exportCode(name: string, format: ExportFormat, overwrite = false): string {
  if (!isIdentifier(name)) {
    throw new Error(`not a model name: ${JSON.stringify(name)}`);
  }
  if (!(format in EXPORT_LABELS)) {
    throw new Error(`unknown export format: ${JSON.stringify(format)}`);
  }
  return `${LOAD_CODE}\n%model_export ${name} --format ${format} --out . --json${overwrite ? ' --overwrite' : ''}`;
}

/** The code the Show panel command puts in a new cell. */
export function panelCode(name: string): string {
  if (!isIdentifier(name)) {
    throw new Error(`not a model name: ${JSON.stringify(name)}`);
  }
  return `${name}.panel()`;
}

/** An export's outcome as `%model_export --json` reports it. */
export type ExportAnswer =
  | { ok: true; name: string; paths: string[] }
  | { ok: false; name: string; code: string; message: string };

/** The answer of `%model_export --json`, or null when the output holds none. */
export function parseExportAnswer(output: string): ExportAnswer | null {
  const lines = output.trim().split('\n');
  const answer = parseJson(lines[lines.length - 1]) as Record<string, unknown> | undefined;
  if (!answer || typeof answer !== 'object' || typeof answer.name !== 'string') {
    return null;
  }
  if (answer.ok === true) {
    const report = answer.report as { paths?: unknown } | undefined;
    const paths = Array.isArray(report?.paths) ? report.paths.filter(p => typeof p === 'string') : [];
    return { ok: true, name: answer.name, paths };
  }
  if (answer.ok === false && typeof answer.code === 'string' && typeof answer.message === 'string') {
    return { ok: false, name: answer.name, code: answer.code, message: answer.message };
  }
  return null;
}

/** What to tell the user about a failed export, in words about what they can do next. */
export function failureMessage(answer: { name: string; code: string; message: string }, format: ExportFormat): string {
  const { name } = answer;
  switch (answer.code) {
    case 'no-params':
      return `${name} has no parameters: run ${name}.init(…) or ${name}.fit(…), then Model → ${EXPORT_LABELS[format]}.`;
    case 'no-model':
      return `There is no model ${name} in this kernel yet: run its %%model cell, then Model → ${EXPORT_LABELS[format]}.`;
    default:
      return `${EXPORT_LABELS[format]} of ${name} failed: ${answer.message}`;
  }
}

/** Whether a kernel error says that the ainative package cannot be imported there. */
export function isMissingPackage(ename: string, evalue: string): boolean {
  return ename === 'ModuleNotFoundError' && /\bainative\b/.test(evalue);
}

/** What to tell the user whose kernel has no ainative. */
export function notInstalledMessage(kernel: string): string {
  return `ainative is not installed in this kernel (${kernel}): run %pip install ainative in a cell, then restart the kernel.`;
}

/** JupyterLab shows at most this many characters of a notification. */
export const NOTIFICATION_LIMIT = 140;

/** A message as a notification shows it: whole when it fits, else its start, with the rest for a details view. */
export function summarize(message: string): { summary: string; details: string | null } {
  const firstLine = message.split('\n')[0];
  if (message.length <= NOTIFICATION_LIMIT) {
    return { summary: message, details: null };
  }
  const room = NOTIFICATION_LIMIT - 1;
  return { summary: firstLine.length <= room ? firstLine : `${firstLine.slice(0, room - 1).trimEnd()}…`, details: message };
}
