// Step 3 of a campaign: which CSV column fills each template field, with the
// first rows shown as they map so that the user sees what goes where.
import { Button, Group, Stack, Text } from "@mantine/core";
import { useEffect, useMemo, useState } from "react";
import type { FormEvent } from "react";

import { saveMapping } from "../api/campaigns";
import type { Campaign, RowsPage, TemplateField } from "../api/campaigns";
import { firstRowsPath } from "./CampaignRows";
import classes from "./DataTable.module.css";
import { useResource } from "./resource";
import { ErrorAlert } from "./states";

// Rows shown next to the mapping as examples.
const mappingPreviewRows = 3;

export interface MappingStatus {
  dirty: boolean;
  missingRequired: string[];
}

// The column the server uses for FIELD: the saved entry, else the column of
// the field's own name, else none ("").
function serverColumn(field: string, campaign: Campaign): string {
  const saved = campaign.mapping[field];
  if (saved !== undefined) {
    return saved;
  }
  return campaign.columns.includes(field) ? field : "";
}

// The column the form starts with: the saved one while it is still in the
// rows, else the column of the field's own name.
function initialColumn(field: string, campaign: Campaign): string {
  const saved = campaign.mapping[field];
  if (saved !== undefined && campaign.columns.includes(saved)) {
    return saved;
  }
  return campaign.columns.includes(field) ? field : "";
}

function initialMapping(
  fields: Record<string, TemplateField>,
  campaign: Campaign,
): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const field of Object.keys(fields)) {
    mapping[field] = initialColumn(field, campaign);
  }
  return mapping;
}

export function mappingStatus(
  fields: Record<string, TemplateField>,
  campaign: Campaign,
  mapping: Record<string, string>,
): MappingStatus {
  const names = Object.keys(fields);
  return {
    dirty: names.some((field) => (mapping[field] ?? "") !== serverColumn(field, campaign)),
    missingRequired: names.filter(
      (field) => fields[field].required && fields[field].default === undefined && !mapping[field],
    ),
  };
}

// How many of FIELDS the server fills from a column of CAMPAIGN's rows.
export function filledFields(fields: Record<string, TemplateField>, campaign: Campaign): number {
  return Object.keys(fields).filter((field) => serverColumn(field, campaign) !== "").length;
}

// The status of the form as it opens, before any change.
export function openingStatus(
  fields: Record<string, TemplateField>,
  campaign: Campaign,
): MappingStatus {
  return mappingStatus(fields, campaign, initialMapping(fields, campaign));
}

export function CampaignMapping({
  campaign,
  fields,
  canEdit,
  onSaved,
  onStatus,
}: {
  campaign: Campaign;
  fields: Record<string, TemplateField>;
  canEdit: boolean;
  onSaved: (campaign: Campaign) => void;
  onStatus: (status: MappingStatus) => void;
}) {
  // New rows or a new template change the choices: the form starts again
  // from what the server has, in the same render.
  const choicesKey = [campaign.id, ...campaign.columns, "", ...Object.keys(fields)].join("\u0000");
  const [form, setForm] = useState(() => ({
    key: choicesKey,
    mapping: initialMapping(fields, campaign),
  }));
  if (form.key !== choicesKey) {
    setForm({ key: choicesKey, mapping: initialMapping(fields, campaign) });
  }
  const mapping = form.mapping;
  const setMapping = (next: Record<string, string>) => setForm({ key: choicesKey, mapping: next });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const rows = useResource<RowsPage>(firstRowsPath(campaign.id));

  const status = useMemo(
    () => mappingStatus(fields, campaign, mapping),
    [fields, campaign, mapping],
  );
  useEffect(() => onStatus(status), [status, onStatus]);

  const sample = rows.data?.rows.slice(0, mappingPreviewRows) ?? [];
  const columnIndex = new Map(campaign.columns.map((column, index) => [column, index]));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: Record<string, string> = {};
    for (const [field, column] of Object.entries(mapping)) {
      if (column) {
        body[field] = column;
      }
    }
    setBusy(true);
    setError(null);
    try {
      onSaved(await saveMapping(campaign.id, body));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const names = Object.keys(fields);
  if (names.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        The template has no fields, so every row makes the same video.
      </Text>
    );
  }

  return (
    <Stack gap="md" component="form" onSubmit={submit} data-testid="campaign-mapping">
      {error ? <ErrorAlert error={error} title="Could not save the mapping" /> : null}
      {rows.error ? (
        <Text size="sm" c="red">
          Could not load the first rows to show their values.
        </Text>
      ) : null}
      <div className={classes.scroll}>
        <table className={classes.table} style={{ minWidth: 560 }} aria-label="Fields and columns">
          <thead>
            <tr>
              <th scope="col">Template field</th>
              <th scope="col">CSV column</th>
              {sample.map((row) => (
                <th scope="col" key={row.number}>
                  Row {row.number}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {names.map((field) => {
              const spec = fields[field];
              const column = mapping[field] ?? "";
              const index = column ? columnIndex.get(column) : undefined;
              const sameNameExists = campaign.columns.includes(field);
              const missing = !column && spec.required && spec.default === undefined;
              return (
                <tr key={field} data-testid={`campaign-mapping-field-${field}`}>
                  <td>
                    <span className={classes.field}>{field}</span>
                    <span className={classes.badges}>
                      <span className={classes.badge}>{spec.type ?? "text"}</span>
                      {spec.required ? (
                        <span className={classes.badge} data-required>
                          required
                        </span>
                      ) : null}
                    </span>
                  </td>
                  <td>
                    <select
                      className={classes.select}
                      aria-label={`Column for ${field}`}
                      aria-invalid={missing}
                      aria-describedby={missing ? `mapping-error-${field}` : undefined}
                      value={column}
                      onChange={(event) =>
                        setMapping({ ...mapping, [field]: event.currentTarget.value })
                      }
                      disabled={!canEdit}
                      data-testid={`campaign-mapping-${field}`}
                    >
                      {sameNameExists && column ? null : <option value="">No column</option>}
                      {campaign.columns.map((name) => (
                        <option key={name} value={name}>
                          {name}
                        </option>
                      ))}
                    </select>
                    {missing ? (
                      <span className={classes.error} id={`mapping-error-${field}`}>
                        Required: choose a column
                      </span>
                    ) : null}
                  </td>
                  {sample.map((row) => (
                    <td key={row.number}>
                      <MappedValue
                        value={index === undefined ? undefined : row.values[index]}
                        spec={spec}
                      />
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {canEdit ? (
        <Group>
          <Button
            type="submit"
            loading={busy}
            disabled={!status.dirty}
            data-testid="campaign-mapping-save"
          >
            Save mapping
          </Button>
          <Text size="sm" c="dimmed">
            {status.dirty
              ? "Unsaved changes: save them before you check or generate."
              : "The campaign uses this mapping."}
          </Text>
        </Group>
      ) : null}
    </Stack>
  );
}

function MappedValue({ value, spec }: { value: string | undefined; spec: TemplateField }) {
  if (value) {
    return <>{value}</>;
  }
  if (spec.default !== undefined) {
    return (
      <span className={`${classes.dimmed} ${classes.italic}`}>
        {spec.default === "" ? "empty (default)" : `${spec.default} (default)`}
      </span>
    );
  }
  if (spec.required) {
    return <span className={classes.missing}>missing</span>;
  }
  return <span className={classes.dimmed}>empty</span>;
}
