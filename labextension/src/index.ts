/**
 * ainative's JupyterLab plugin: the Model menu, cell context menu and cell toolbar commands
 * (Export to ONNX, Export for serving, Export as Kubeflow pipeline, Show panel), highlighting of
 * %%model cells, and the display of models whose live panel is gone. Menus and toolbar items are
 * declared in schema/plugin.json; every command runs one line of the Python API in the kernel,
 * built from a validated model name, after loading ainative there (a notebook needs no %load_ext).
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import {
  INotebookTracker,
  INotebookWidgetFactory,
  NotebookActions,
  NotebookPanel,
  NotebookWidgetFactory
} from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { downloadIcon, launchIcon, LabIcon } from '@jupyterlab/ui-components';
import { modelDisplayFactory } from './display';
import { modelHighlighting } from './highlight';
import {
  EXPORT_LABELS,
  ExportFormat,
  LIST_CODE,
  LOAD_CODE,
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
} from './model';

const PLUGIN_ID = 'ainative:plugin';
/** How long notifications stay, in milliseconds: errors longer, so they can be read. */
const SUCCESS_CLOSE = 8000;
const ERROR_CLOSE = 15000;
/** Model displays rank before ipywidgets' views (-10), so a display whose widget is gone still shows. */
const DISPLAY_RANK = -20;

namespace CommandIDs {
  export const exportOnnx = 'ainative:export-onnx';
  export const exportServing = 'ainative:export-serving';
  export const exportPipeline = 'ainative:export-pipeline';
  export const showPanel = 'ainative:show-panel';
}

/** What a run printed, and the error it ended with (empty names when it ended well). */
interface IRun {
  out: string;
  ename: string;
  evalue: string;
}

/** An error notification that closes itself; a message too long to show whole gets a Details button. */
function notifyError(message: string): void {
  const { summary, details } = summarize(message);
  const actions = details
    ? [{ label: 'Details', callback: () => void showDialog({ title: 'ainative', body: details, buttons: [Dialog.okButton()] }) }]
    : [];
  Notification.error(summary, { autoClose: ERROR_CLOSE, actions });
}

/** Run code in the kernel without touching any cell, collecting what it prints and how it ended. */
async function run(kernel: Kernel.IKernelConnection, code: string, silent = false): Promise<IRun> {
  const future = kernel.requestExecute({ code, silent, store_history: false, allow_stdin: false });
  let out = '';
  future.onIOPub = msg => {
    if (KernelMessage.isStreamMsg(msg) && msg.content.name === 'stdout') {
      out += msg.content.text;
    }
  };
  const reply = (await future.done).content;
  return reply.status === 'error' ? { out, ename: reply.ename, evalue: reply.evalue } : { out, ename: '', evalue: '' };
}

function activeSource(tracker: INotebookTracker): string {
  return tracker.currentWidget?.content.activeCell?.model.sharedModel.getSource() ?? '';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Model menu, cell toolbar, highlighting and displays for ainative %%model cells.',
  autoStart: true,
  requires: [INotebookTracker, INotebookWidgetFactory, ISettingRegistry],
  optional: [IEditorExtensionRegistry, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    notebooks: NotebookWidgetFactory.IFactory,
    settings: ISettingRegistry,
    editorExtensions: IEditorExtensionRegistry | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const kernelOf = (panel: NotebookPanel | null) => panel?.sessionContext.session?.kernel ?? null;
    const kernelName = (panel: NotebookPanel | null) => panel?.sessionContext.kernelDisplayName ?? 'no kernel';

    /** Say so when the kernel's error means ainative is missing there; true when it does. */
    const reportMissing = (result: IRun, panel: NotebookPanel | null): boolean => {
      if (!isMissingPackage(result.ename, result.evalue)) {
        return false;
      }
      notifyError(notInstalledMessage(kernelName(panel)));
      return true;
    };

    /** The active cell's model, or one the user picks from the kernel's models. */
    const targetModel = async (): Promise<string | null> => {
      const panel = tracker.currentWidget;
      const kernel = kernelOf(panel);
      if (!panel || !kernel) {
        Notification.warning('Open a notebook with a running kernel and a %%model cell.', { autoClose: ERROR_CLOSE });
        return null;
      }
      const fromCell = parseModelHeader(activeSource(tracker));
      if (fromCell) {
        return fromCell;
      }
      const listed = await run(kernel, LIST_CODE);
      if (reportMissing(listed, panel)) {
        return null;
      }
      const names = parseModelList(listed.out);
      if (names.length === 0) {
        Notification.warning('No models in this kernel yet: run a %%model cell first.', { autoClose: ERROR_CLOSE });
        return null;
      }
      const choice = await InputDialog.getItem({ title: 'Which model?', items: names });
      return choice.button.accept && choice.value && isIdentifier(choice.value) ? choice.value : null;
    };

    const exportModel = async (format: ExportFormat) => {
      const name = await targetModel();
      const panel = tracker.currentWidget;
      const kernel = kernelOf(panel);
      if (!name || !kernel) {
        return;
      }
      let result = await run(kernel, exportCode(name, format));
      let answer = parseExportAnswer(result.out);
      if (answer && !answer.ok && answer.code === 'exists') {
        const choice = await showDialog({
          title: 'Replace the existing export?',
          body: `${name} was exported here before. Replace those files?`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
        });
        if (!choice.button.accept) {
          return;
        }
        result = await run(kernel, exportCode(name, format, true));
        answer = parseExportAnswer(result.out);
      }
      if (reportMissing(result, panel)) {
        return;
      }
      if (answer?.ok) {
        Notification.success(`Exported ${name} to ${answer.paths.join(', ')}`, { autoClose: SUCCESS_CLOSE });
        await fileBrowser?.model.refresh();
      } else if (answer) {
        notifyError(failureMessage(answer, format));
      } else {
        const why = result.ename ? `${result.ename}: ${result.evalue}` : 'the kernel gave no answer';
        notifyError(`Export of ${name} failed: ${why}`);
      }
    };

    const toolbarVisible = (args: { toolbar?: unknown }) => !args.toolbar || isModelCell(activeSource(tracker));
    const command = (id: string, label: string, icon: LabIcon, execute: () => Promise<void>) =>
      app.commands.addCommand(id, {
        label: args => (args.toolbar ? '' : label),
        caption: label,
        icon: args => (args.toolbar ? icon : undefined),
        isVisible: args => toolbarVisible(args as { toolbar?: unknown }),
        isEnabled: () => tracker.currentWidget !== null,
        execute
      });

    command(CommandIDs.exportOnnx, EXPORT_LABELS.onnx, downloadIcon, () => exportModel('onnx'));
    command(CommandIDs.exportServing, EXPORT_LABELS.serving, downloadIcon, () => exportModel('serving'));
    command(CommandIDs.exportPipeline, EXPORT_LABELS.pipeline, downloadIcon, () => exportModel('pipeline'));
    command(CommandIDs.showPanel, 'Show panel', launchIcon, async () => {
      const name = await targetModel();
      const panel = tracker.currentWidget;
      if (!name || !panel) {
        return;
      }
      NotebookActions.insertBelow(panel.content);
      panel.content.activeCell?.model.sharedModel.setSource(panelCode(name));
      await NotebookActions.run(panel.content, panel.sessionContext);
    });

    // A %%model cell needs ainative's magics: load them first. The request goes to the kernel
    // before the cell's own, and the kernel runs requests in order.
    NotebookActions.executionScheduled.connect((_, { notebook, cell }) => {
      const panel = tracker.find(candidate => candidate.content === notebook) ?? null;
      const kernel = kernelOf(panel);
      if (kernel && cell.model.type === 'code' && isModelCell(cell.model.sharedModel.getSource())) {
        void run(kernel, LOAD_CODE, true).then(result => reportMissing(result, panel));
      }
    });

    notebooks.widgetCreated.connect((_, panel) => {
      panel.content.rendermime.addFactory(modelDisplayFactory(panel.content.rendermime), DISPLAY_RANK);
    });

    editorExtensions?.addExtension({
      name: 'ainative:model-highlighting',
      factory: () => EditorExtensionRegistry.createImmutableExtension(modelHighlighting())
    });
    void settings.load(PLUGIN_ID);
  }
};

export default plugin;
