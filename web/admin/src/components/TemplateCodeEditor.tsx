// The JSON editor of a template: CodeMirror 6 with JSON highlighting, folding,
// history and the problems that the page passes in shown as lint diagnostics.
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { json } from "@codemirror/lang-json";
import {
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  foldKeymap,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import type { Diagnostic } from "@codemirror/lint";
import { Compartment, EditorSelection, EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { Box } from "@mantine/core";
import { useEffect, useImperativeHandle, useRef } from "react";
import type { Ref } from "react";

import type { TemplateProblem } from "./TemplateValidation";

export interface TemplateCodeEditorHandle {
  // Moves the cursor to OFFSET, scrolls it into view and focuses the editor.
  goTo: (offset: number) => void;
}

interface Props {
  initialText: string;
  readOnly: boolean;
  problems: TemplateProblem[];
  label: string;
  onChange?: (text: string) => void;
  ref?: Ref<TemplateCodeEditorHandle>;
  testId?: string;
}

const theme = EditorView.theme({
  "&": {
    height: "min(62vh, 640px)",
    minHeight: "280px",
    fontSize: "13px",
    backgroundColor: "var(--mantine-color-body)",
  },
  "&.cm-focused": {
    outline: "2px solid var(--mantine-primary-color-filled)",
    outlineOffset: "-2px",
  },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
  ".cm-gutters": { backgroundColor: "var(--mantine-color-gray-0)", borderRight: "none" },
});

const sourceNames: Record<TemplateProblem["source"], string> = {
  syntax: "JSON syntax",
  schema: "schema",
  server: "server check",
};

export function TemplateCodeEditor({
  initialText,
  readOnly,
  problems,
  label,
  onChange,
  ref,
  testId,
}: Props) {
  const container = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const editable = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;

  // The editor is created once per mount. The page remounts it with a new key
  // to show another document, so undo history never spans two documents.
  useEffect(() => {
    const state = EditorState.create({
      doc: initialText,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        lintGutter(),
        drawSelection(),
        highlightActiveLine(),
        history(),
        indentOnInput(),
        bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        json(),
        keymap.of([...defaultKeymap, ...historyKeymap, ...foldKeymap]),
        theme,
        EditorView.contentAttributes.of({ "aria-label": label }),
        editable.current.of(EditorState.readOnly.of(readOnly)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) {
            changed.current?.(update.state.doc.toString());
          }
        }),
      ],
    });
    const created = new EditorView({ state, parent: container.current! });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // The initial text, label and read-only state are read only here, at creation.
  }, []);

  useEffect(() => {
    view.current?.dispatch({
      effects: editable.current.reconfigure(EditorState.readOnly.of(readOnly)),
    });
  }, [readOnly]);

  useEffect(() => {
    const current = view.current;
    if (!current) {
      return;
    }
    const length = current.state.doc.length;
    const diagnostics: Diagnostic[] = problems.map((problem) => {
      const from = Math.min(problem.from, length);
      return {
        from,
        to: Math.max(from, Math.min(problem.to, length)),
        severity: "error",
        source: sourceNames[problem.source],
        message: problem.message,
      };
    });
    current.dispatch(setDiagnostics(current.state, diagnostics));
  }, [problems]);

  useImperativeHandle(
    ref,
    () => ({
      goTo(offset: number) {
        const current = view.current;
        if (!current) {
          return;
        }
        const position = Math.min(offset, current.state.doc.length);
        current.dispatch({
          selection: EditorSelection.cursor(position),
          effects: EditorView.scrollIntoView(position, { y: "center" }),
        });
        current.focus();
      },
    }),
    [],
  );

  return (
    <Box
      ref={container}
      data-testid={testId}
      style={{
        border: "1px solid var(--mantine-color-default-border)",
        borderRadius: "var(--mantine-radius-md)",
        overflow: "hidden",
      }}
    />
  );
}
