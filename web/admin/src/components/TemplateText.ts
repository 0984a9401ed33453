// Template text for the editor: the starting documents, a readable layout of
// bodies that the server returns, and the scene timeline of a body.
import matchDayExample from "../../../../examples/matchday/template.json?raw";

import type { TemplateBody } from "../api/templates";

// The Match Day example exactly as examples/matchday/template.json has it.
export const matchDayExampleText: string = matchDayExample;

// A new template: one scene that shows one text field, valid as written.
export const skeletonText = `{
  "version": 1,
  "canvas": {"width": 1080, "height": 1920, "fps": 30, "background": "#000000"},
  "fields": {
    "headline": {"type": "text", "required": true}
  },
  "scenes": [
    {
      "id": "main",
      "duration": 3,
      "layers": [
        {"kind": "text", "content": "{{headline}}", "x": 0, "y": 860, "width": 1080,
         "height": 200, "font": {"size": 96, "minSize": 48}, "color": "#FFFFFF",
         "animations": [{"preset": "fade-in", "duration": 0.5}]}
      ]
    }
  ]
}
`;

// The server stores bodies with their keys sorted. These orders put the keys
// back where docs/templates.md introduces them, and other keys follow.
const topOrder = [
  "version",
  "name",
  "description",
  "canvas",
  "fields",
  "audio",
  "scenes",
  "poster",
];
const sceneOrder = ["id", "duration", "background", "transition", "layers"];
const layerOrder = ["id", "kind", "shape", "content", "src", "x", "y", "width", "height", "anchor"];
const canvasOrder = ["width", "height", "fps", "background"];
const fieldOrder = ["type", "required", "default", "description"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function ordered(value: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const keys = Object.keys(value);
  const first = order.filter((key) => key in value);
  const rest = keys.filter((key) => !order.includes(key));
  return Object.fromEntries([...first, ...rest].map((key) => [key, value[key]]));
}

function orderLayers(layers: unknown): unknown {
  return Array.isArray(layers)
    ? layers.map((layer) => (isObject(layer) ? ordered(layer, layerOrder) : layer))
    : layers;
}

function orderKeys(body: TemplateBody): TemplateBody {
  const top = ordered(body, topOrder);
  if (isObject(top.canvas)) {
    top.canvas = ordered(top.canvas, canvasOrder);
  }
  if (isObject(top.fields)) {
    const fields = top.fields;
    top.fields = Object.fromEntries(
      Object.keys(fields).map((name) => {
        const field = fields[name];
        return [name, isObject(field) ? ordered(field, fieldOrder) : field];
      }),
    );
  }
  top.audio = Array.isArray(top.audio) ? orderLayers(top.audio) : top.audio;
  if (Array.isArray(top.scenes)) {
    top.scenes = top.scenes.map((scene) => {
      if (!isObject(scene)) {
        return scene;
      }
      const sorted = ordered(scene, sceneOrder);
      sorted.layers = orderLayers(sorted.layers);
      return sorted;
    });
  }
  if (top.audio === undefined) {
    delete top.audio;
  }
  return top;
}

const lineWidth = 96;

function inline(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(inline).join(", ")}]`;
  }
  if (isObject(value)) {
    const parts = Object.entries(value).map(
      ([key, item]) => `${JSON.stringify(key)}: ${inline(item)}`,
    );
    return `{${parts.join(", ")}}`;
  }
  return JSON.stringify(value);
}

// Lays VALUE out at INDENT: on one line when it fits, else one member per line.
function layout(value: unknown, indent: number, prefixLength: number): string {
  const single = inline(value);
  const isContainer = Array.isArray(value) || isObject(value);
  if (!isContainer || (indent > 0 && indent + prefixLength + single.length <= lineWidth)) {
    return single;
  }
  const inner = " ".repeat(indent + 2);
  const outer = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return "[]";
    }
    const items = value.map((item) => inner + layout(item, indent + 2, 0));
    return `[\n${items.join(",\n")}\n${outer}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) {
    return "{}";
  }
  const members = entries.map(([key, item]) => {
    const name = `${JSON.stringify(key)}: `;
    return inner + name + layout(item, indent + 2, name.length);
  });
  return `{\n${members.join(",\n")}\n${outer}}`;
}

// The text the editor shows for a body that the server returned.
export function formatTemplate(body: TemplateBody): string {
  return layout(orderKeys(body), 0, 0) + "\n";
}

export interface SceneSpan {
  name: string;
  startFrame: number;
  frames: number;
}

export interface Timeline {
  fps: number;
  totalFrames: number;
  scenes: SceneSpan[];
  width: number;
  height: number;
  fields: Record<string, { type: string; required: boolean; defaultValue: string }>;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

// The scenes of BODY in frames, with its canvas and fields, using the defaults
// of docs/templates.md (1080 x 1920 at 30 fps) where the body gives none.
export function timelineOf(body: TemplateBody | undefined): Timeline {
  const canvas = isObject(body?.canvas) ? body.canvas : {};
  const fps = Math.max(1, Math.round(numberOr(canvas.fps, 30)));
  const scenes: SceneSpan[] = [];
  let startFrame = 0;
  const sceneList = Array.isArray(body?.scenes) ? body.scenes : [];
  sceneList.forEach((scene, index) => {
    const item = isObject(scene) ? scene : {};
    const seconds = Math.max(0, numberOr(item.duration, 0));
    const frames = Math.round(seconds * fps);
    const name = typeof item.id === "string" && item.id ? item.id : `scene-${index + 1}`;
    scenes.push({ name, startFrame, frames });
    startFrame += frames;
  });

  const fields: Timeline["fields"] = {};
  const fieldMap = isObject(body?.fields) ? body.fields : {};
  for (const [name, spec] of Object.entries(fieldMap)) {
    const field = isObject(spec) ? spec : {};
    const fallback = field.default;
    fields[name] = {
      type: typeof field.type === "string" ? field.type : "text",
      required: field.required === true,
      defaultValue:
        typeof fallback === "string" || typeof fallback === "number" ? String(fallback) : "",
    };
  }

  return {
    fps,
    totalFrames: startFrame,
    scenes,
    width: Math.round(numberOr(canvas.width, 1080)),
    height: Math.round(numberOr(canvas.height, 1920)),
    fields,
  };
}

// A time in seconds as the editor shows it, such as "1.50 s".
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(2)} s`;
}
