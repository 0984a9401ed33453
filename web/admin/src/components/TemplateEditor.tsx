// The editor page of one template (or a new one): its name and JSON with the
// problems found as the user types, save, versions, delete, and a live frame
// preview of the saved version beside it.
import { Alert, Anchor, Badge, Button, Grid, Group, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useLocation } from "wouter";

import { ApiError, describeError } from "../api/client";
import type { ProblemDetail } from "../api/client";
import { canAct } from "../api/session";
import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  updateTemplate,
  validateTemplate,
} from "../api/templates";
import type { Template, TemplateVersion } from "../api/templates";
import { useSession } from "../session";
import { Dialog } from "./Dialog";
import { formatTime } from "./format";
import { ErrorAlert, Loading, PageHeader } from "./states";
import { TemplateCodeEditor } from "./TemplateCodeEditor";
import type { TemplateCodeEditorHandle } from "./TemplateCodeEditor";
import { TemplatePreview } from "./TemplatePreview";
import { TemplateProblems } from "./TemplateProblems";
import type { ServerCheck } from "./TemplateProblems";
import { formatTemplate, matchDayExampleText, skeletonText } from "./TemplateText";
import {
  checkTemplateText,
  placeServerProblems,
} from "./TemplateValidation";
import type { TemplateProblem } from "./TemplateValidation";
import { TemplateVersions } from "./TemplateVersions";

// A template that this page has just created, with the text as the user typed
// it, so that the page of its new address shows that text rather than the
// server's re-serialised body.
let justCreated: { template: Template; text: string } | null = null;

interface Confirmation {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  errorTitle: string;
  color?: string;
  action: () => Promise<void> | void;
}

// Blocks in-app links and page unloads while DIRTY, asking first.
function useLeaveGuard(dirty: boolean, ask: (href: string) => void) {
  useEffect(() => {
    if (!dirty) {
      return;
    }
    const beforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    // Runs before the router's own click handler, which React attaches below
    // the document, so that a confirmed leave can navigate afterwards.
    const click = (event: MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0) {
        return;
      }
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
      }
      const anchor = (event.target as Element | null)?.closest?.("a[href]");
      if (!(anchor instanceof HTMLAnchorElement) || anchor.target === "_blank") {
        return;
      }
      const url = new URL(anchor.href, window.location.href);
      if (url.origin !== window.location.origin || url.pathname === window.location.pathname) {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      ask(url.pathname + url.search);
    };
    window.addEventListener("beforeunload", beforeUnload);
    document.addEventListener("click", click, true);
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("click", click, true);
    };
  }, [dirty, ask]);
}

function firstProblemText(problems: TemplateProblem[]): string {
  const first = [...problems].sort((a, b) => a.from - b.from)[0];
  return first ? `line ${first.line}: ${first.message}` : "";
}

export function TemplateEditor({ id, example }: { id: string; example: boolean }) {
  const { me } = useSession();
  const canEdit = canAct(me, "editor");
  const [, navigate] = useLocation();
  const isNew = id === "new";

  // Read once per mount: effects may run twice in development, and the second
  // run must still find the hand-off that the first one cleared.
  const [handoff] = useState(() => (justCreated?.template.id === id ? justCreated : null));
  const [template, setTemplate] = useState<Template | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [name, setName] = useState("");
  const [savedName, setSavedName] = useState("");
  const [nameError, setNameError] = useState("");
  const [startText, setStartText] = useState("");
  const [text, setText] = useState("");
  const [savedText, setSavedText] = useState("");
  const [editorKey, setEditorKey] = useState(0);
  const [viewing, setViewing] = useState<TemplateVersion | null>(null);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverDetails, setServerDetails] = useState<ProblemDetail[]>([]);
  const [serverCheck, setServerCheck] = useState<ServerCheck>({ state: "idle" });
  const [confirmation, setConfirmation] = useState<Confirmation | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [confirmError, setConfirmError] = useState<unknown>(null);
  const editor = useRef<TemplateCodeEditorHandle>(null);
  const nameInput = useRef<HTMLInputElement>(null);

  const show = useCallback((next: Template, shownText: string) => {
    setTemplate(next);
    setName(next.name);
    setSavedName(next.name);
    setStartText(shownText);
    setText(shownText);
    setSavedText(shownText);
    setEditorKey((key) => key + 1);
  }, []);

  const load = useCallback(async () => {
    setLoadError(null);
    if (isNew) {
      const starting = example ? matchDayExampleText : skeletonText;
      const startingName = example ? "Match Day" : "";
      setName(startingName);
      setSavedName(startingName);
      setStartText(starting);
      setText(starting);
      setSavedText(starting);
      setLoaded(true);
      return;
    }
    if (handoff) {
      show(handoff.template, handoff.text);
      justCreated = null;
      setLoaded(true);
      return;
    }
    try {
      const found = await getTemplate(id);
      show(found, formatTemplate(found.body ?? {}));
      setLoaded(true);
    } catch (error) {
      setLoadError(error);
    }
  }, [id, isNew, example, show, handoff]);

  useEffect(() => {
    void load();
  }, [load]);

  const dirty = loaded && (text !== savedText || name.trim() !== savedName);

  // Local checks follow typing closely, and the server check waits for a pause.
  const [checkedText] = useDebouncedValue(text, 150);
  const check = useMemo(() => checkTemplateText(checkedText), [checkedText]);

  useEffect(() => {
    if (!loaded || check.body === null) {
      setServerDetails([]);
      setServerCheck({ state: "idle" });
      return;
    }
    const controller = new AbortController();
    const body = check.body;
    const timer = window.setTimeout(() => {
      setServerCheck({ state: "checking" });
      validateTemplate(body, controller.signal)
        .then((details) => {
          setServerDetails(details);
          setServerCheck({ state: "done" });
        })
        .catch((error: unknown) => {
          if (!controller.signal.aborted) {
            setServerDetails([]);
            setServerCheck({ state: "failed", message: describeError(error) });
          }
        });
    }, 250);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [check, loaded]);

  // The server applies the schema too, with better messages, so a schema
  // problem at the place of a server problem is shown once, as the server's.
  const problems = useMemo(() => {
    const fromServer = placeServerProblems(check, serverDetails);
    const places = new Set(fromServer.map((problem) => problem.from));
    const local = check.problems.filter(
      (problem) => problem.source !== "schema" || !places.has(problem.from),
    );
    return [...local, ...fromServer];
  }, [check, serverDetails]);

  const ask = useCallback(
    (href: string) =>
      setConfirmation({
        title: "Leave without saving?",
        message: "Your changes to this template are not saved and will be lost.",
        confirmLabel: "Leave",
        errorTitle: "Could not leave the page",
        color: "red",
        action: () => navigate(href),
      }),
    [navigate],
  );
  useLeaveGuard(dirty && confirmation === null, ask);

  async function save() {
    if (!canEdit || saving || viewing !== null) {
      return;
    }
    if (!isNew && !dirty) {
      notifications.show({
        title: "Nothing to save",
        message: "The template has no unsaved changes.",
      });
      return;
    }
    const trimmed = name.trim();
    if (!trimmed) {
      setNameError("Give the template a name, such as Match Day.");
      nameInput.current?.focus();
      return;
    }
    const sentText = text;
    const current = checkTemplateText(sentText);
    if (current.body === null) {
      notifications.show({
        color: "red",
        title: "Not saved",
        message: `Fix the JSON first: ${firstProblemText(current.problems)}.`,
      });
      const first = [...current.problems].sort((a, b) => a.from - b.from)[0];
      editor.current?.goTo(first?.from ?? 0);
      return;
    }

    setSaving(true);
    setNameError("");
    // A person who has gone to another page while the save ran stays there.
    const address = window.location.pathname + window.location.search;
    try {
      let saved: Template;
      if (isNew || template === null) {
        saved = await createTemplate(trimmed, current.body);
        justCreated = { template: saved, text: sentText };
        setSavedText(sentText);
        setSavedName(trimmed);
        if (window.location.pathname + window.location.search === address) {
          navigate(`/templates/${encodeURIComponent(saved.id)}`, { replace: true });
        }
      } else {
        const change: { name?: string; body?: Record<string, unknown> } = {};
        if (trimmed !== savedName) {
          change.name = trimmed;
        }
        if (sentText !== savedText) {
          change.body = current.body;
        }
        saved = await updateTemplate(template.id, change);
        setTemplate(saved);
        setSavedText(sentText);
        setSavedName(saved.name);
        setName((typed) => (typed.trim() === trimmed ? saved.name : typed));
      }
      notifications.show({
        color: "green",
        title: "Saved",
        message: `${saved.name} is saved as version ${saved.latest_version}.`,
      });
    } catch (error) {
      if (error instanceof ApiError && error.code === "invalid_template") {
        const details = error.details.map((detail) => ({
          ...detail,
          pointer: (detail.pointer ?? "").replace(/^\/body(?=\/|$)/, ""),
        }));
        setServerDetails(details);
        setServerCheck({ state: "done" });
        const count = details.length === 1 ? "a problem" : `${details.length} problems`;
        notifications.show({
          color: "red",
          title: "Not saved",
          message: `The template has ${count}; the list under the editor shows where.`,
        });
      } else if (
        error instanceof ApiError &&
        (error.code === "conflict" || error.details.some((detail) => detail.pointer === "/name"))
      ) {
        // The server's message names the taken or invalid name and what to do.
        setNameError(error.message);
        nameInput.current?.focus();
      } else {
        notifications.show({ color: "red", title: "Not saved", message: describeError(error) });
      }
    } finally {
      setSaving(false);
    }
  }

  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    const keydown = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        void saveRef.current();
      }
    };
    window.addEventListener("keydown", keydown);
    return () => window.removeEventListener("keydown", keydown);
  }, []);

  async function restore(version: TemplateVersion) {
    if (!template || !version.body) {
      return;
    }
    const body = version.body;
    const run = async () => {
      const saved = await updateTemplate(template.id, { body });
      setViewing(null);
      show(saved, formatTemplate(body));
      setServerDetails([]);
      notifications.show({
        color: "green",
        title: "Restored",
        message: `Version ${version.version} is saved again as version ${saved.latest_version}.`,
      });
    };
    const next = template.latest_version + 1;
    setConfirmation({
      title: `Restore version ${version.version}?`,
      message: dirty
        ? `Its body becomes version ${next}. Your unsaved changes will be lost.`
        : `Its body becomes version ${next}; the versions in between stay.`,
      confirmLabel: "Restore",
      errorTitle: "Could not restore the version",
      action: run,
    });
  }

  function askDelete() {
    if (!template) {
      return;
    }
    setConfirmation({
      title: `Delete ${template.name}?`,
      message:
        "Its versions go too, and this cannot be undone. Videos already rendered stay. " +
        "A template that a campaign uses cannot be deleted.",
      confirmLabel: "Delete",
      errorTitle: "Could not delete the template",
      color: "red",
      action: async () => {
        await deleteTemplate(template.id);
        notifications.show({
          color: "green",
          title: "Deleted",
          message: `${template.name} is deleted.`,
        });
        navigate("/templates");
      },
    });
  }

  async function confirm() {
    if (!confirmation) {
      return;
    }
    setConfirming(true);
    setConfirmError(null);
    try {
      await confirmation.action();
      setConfirmation(null);
    } catch (error) {
      setConfirmError(error);
    } finally {
      setConfirming(false);
    }
  }

  function closeConfirmation() {
    setConfirmation(null);
    setConfirmError(null);
  }

  function submitName(event: FormEvent) {
    event.preventDefault();
    void save();
  }

  const goToProblem = useCallback((problem: TemplateProblem) => {
    editor.current?.goTo(problem.from);
  }, []);

  if (loadError) {
    const missing = loadError instanceof ApiError && loadError.status === 404;
    return (
      <Stack gap="md">
        <Anchor component={Link} href="/templates" size="sm">
          ← Templates
        </Anchor>
        <ErrorAlert
          error={loadError}
          title={missing ? "This template does not exist" : "Could not load the template"}
          onRetry={missing ? undefined : () => void load()}
        />
      </Stack>
    );
  }
  if (!loaded) {
    return <Loading label="Loading the template" />;
  }

  const title = savedName || (isNew ? "New template" : "Template");
  const description = template
    ? `Version ${template.latest_version}, saved ${formatTime(template.updated_at_ms)}`
    : example
      ? "Starting from the Match Day example; save it to make it yours."
      : "Not saved yet";

  return (
    <Stack gap="md">
      <Anchor component={Link} href="/templates" size="sm">
        ← Templates
      </Anchor>
      <PageHeader
        title={title}
        description={description}
        actions={
          <>
            {dirty ? (
              <Badge color="yellow" variant="light" data-testid="template-unsaved">
                Unsaved changes
              </Badge>
            ) : null}
            {template ? (
              <Button variant="default" onClick={() => setVersionsOpen(true)}>
                Versions
              </Button>
            ) : null}
            {template && canEdit ? (
              <Button variant="default" color="red" onClick={askDelete}>
                Delete
              </Button>
            ) : null}
            {canEdit ? (
              <Button
                onClick={() => void save()}
                loading={saving}
                disabled={viewing !== null || (!dirty && !isNew)}
                data-testid="template-save"
                title="Save (Ctrl+S or ⌘S)"
              >
                Save
              </Button>
            ) : null}
          </>
        }
      />

      {!canEdit ? (
        <Alert color="gray" variant="light">
          You can read templates. Editing, saving and previews need the editor role; ask an owner
          of your agency for it.
        </Alert>
      ) : null}

      <Grid gutter="md">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack gap="sm">
            <form onSubmit={submitName}>
              <TextInput
                ref={nameInput}
                label="Name"
                description="How campaigns and this list name the template; unique in your agency."
                required
                maxLength={100}
                readOnly={!canEdit}
                value={name}
                error={nameError || undefined}
                data-testid="template-name"
                onChange={(event) => {
                  setName(event.currentTarget.value);
                  setNameError("");
                }}
              />
            </form>

            {viewing ? (
              <Alert color="yellow" variant="light" title={`Version ${viewing.version}, read-only`}>
                <Stack gap="xs">
                  <Text size="sm">
                    Saved {formatTime(viewing.created_at_ms)} by{" "}
                    {viewing.created_by === me?.actor ? "you" : viewing.created_by}.
                    {dirty ? " Your unsaved changes are kept in the draft." : ""}
                  </Text>
                  <Group gap="xs">
                    <Button size="xs" variant="default" onClick={() => setViewing(null)}>
                      Back to the draft
                    </Button>
                    {canEdit && template && viewing.version !== template.latest_version ? (
                      <Button size="xs" onClick={() => void restore(viewing)}>
                        Restore this version
                      </Button>
                    ) : null}
                  </Group>
                </Stack>
              </Alert>
            ) : null}

            {viewing?.body ? (
              <TemplateCodeEditor
                key={`version-${viewing.version}`}
                initialText={formatTemplate(viewing.body)}
                readOnly
                problems={[]}
                label={`Template JSON, version ${viewing.version}, read-only`}
              />
            ) : null}
            <div style={{ display: viewing ? "none" : undefined }}>
              <TemplateCodeEditor
                key={editorKey}
                ref={editor}
                testId="template-editor"
                initialText={startText}
                readOnly={!canEdit}
                problems={problems}
                label="Template JSON"
                onChange={setText}
              />
            </div>
            {viewing ? null : (
              <TemplateProblems
                problems={problems}
                check={serverCheck}
                onSelect={goToProblem}
              />
            )}
            <Text size="xs" c="dimmed">
              docs/templates.md describes the format. Ctrl+S (⌘S on a Mac) saves.
            </Text>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <TemplatePreview
            templateId={template?.id ?? null}
            savedVersion={template?.latest_version ?? 0}
            savedBody={template?.body}
            dirty={dirty}
            canPreview={canEdit}
          />
        </Grid.Col>
      </Grid>

      {template ? (
        <TemplateVersions
          opened={versionsOpen}
          onClose={() => setVersionsOpen(false)}
          templateId={template.id}
          latestVersion={template.latest_version}
          viewing={viewing?.version ?? null}
          canEdit={canEdit}
          onView={(version) => {
            setViewing(version);
            setVersionsOpen(false);
          }}
          onRestore={(version) => {
            setVersionsOpen(false);
            void restore(version);
          }}
        />
      ) : null}

      <Dialog
        opened={confirmation !== null}
        onClose={closeConfirmation}
        title={confirmation?.title}
        centered
      >
        <Stack gap="md">
          <Text size="sm">{confirmation?.message}</Text>
          {confirmError ? (
            <ErrorAlert error={confirmError} title={confirmation?.errorTitle} />
          ) : null}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={closeConfirmation}>
              Cancel
            </Button>
            <Button
              color={confirmation?.color}
              loading={confirming}
              onClick={() => void confirm()}
              data-testid="template-confirm"
            >
              {confirmation?.confirmLabel}
            </Button>
          </Group>
        </Stack>
      </Dialog>
    </Stack>
  );
}
