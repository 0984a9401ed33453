// Checks template text as the user types: JSON syntax with jsonc-parser, the
// JSON Schema of docs/template.schema.json with ajv, and places each problem,
// including the server's JSON pointers, at a character range of the text.
import type { ErrorObject } from "ajv";
import validateSchema from "virtual:template-schema-validator";
import { findNodeAtLocation, parseTree, printParseErrorCode } from "jsonc-parser";
import type { Node as JsonNode, ParseError } from "jsonc-parser";

import type { ProblemDetail } from "../api/client";
import type { TemplateBody } from "../api/templates";

export type ProblemSource = "syntax" | "schema" | "server";

export interface TemplateProblem {
  source: ProblemSource;
  message: string;
  pointer?: string;
  from: number; // character offsets into the text
  to: number;
  line: number; // from 1
}

export interface TemplateCheck {
  text: string;
  body: TemplateBody | null; // null when the text is not a JSON object
  tree: JsonNode | undefined;
  problems: TemplateProblem[];
}

const syntaxMessages: Record<string, string> = {
  InvalidSymbol: "invalid symbol",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ',' between members",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: "unexpected text after the end of the template",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "comments are not allowed in JSON",
  UnexpectedEndOfString: "unclosed string",
  UnexpectedEndOfNumber: "incomplete number",
  InvalidUnicode: "invalid \\u escape",
  InvalidEscapeCharacter: "invalid escape character",
  InvalidCharacter: "invalid character in a string; escape line breaks as \\n",
};

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1)) {
    starts.push(index + 1);
  }
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low + 1;
}

function pointerSegments(pointer: string): string[] {
  if (pointer === "" || pointer === "/") {
    return [];
  }
  return pointer
    .replace(/^\//, "")
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

// The range of the node that POINTER names. An object or array is marked by
// its property name, or by its opening bracket, so that a problem underlines
// one line rather than the whole block. A pointer into something the text no
// longer has falls back to its nearest existing ancestor.
export function pointerRange(
  tree: JsonNode | undefined,
  pointer: string,
  markKey = false,
): { from: number; to: number } {
  if (!tree) {
    return { from: 0, to: 0 };
  }
  const segments = pointerSegments(pointer);
  for (let length = segments.length; length >= 0; length -= 1) {
    const path: (string | number)[] = [];
    let node: JsonNode | undefined = tree;
    for (const segment of segments.slice(0, length)) {
      const index = /^\d+$/.test(segment) ? Number(segment) : segment;
      path.push(node?.type === "array" && typeof index === "number" ? index : String(segment));
      node = node ? findNodeAtLocation(tree, path) : undefined;
    }
    if (!node) {
      continue;
    }
    const key = node.parent?.type === "property" ? node.parent.children?.[0] : undefined;
    if (key && (markKey || node.type === "object" || node.type === "array")) {
      return { from: key.offset, to: key.offset + key.length };
    }
    if (node.type === "object" || node.type === "array") {
      return { from: node.offset, to: node.offset + 1 };
    }
    return { from: node.offset, to: node.offset + node.length };
  }
  return { from: 0, to: 0 };
}

function escapeSegment(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function subject(pointer: string): string {
  const last = pointerSegments(pointer).pop();
  if (last === undefined) {
    return "the template";
  }
  return /^\d+$/.test(last) ? `item ${last}` : `'${last}'`;
}

// One readable problem for an ajv error, or null for errors that only wrap
// the errors of their branches.
interface SchemaProblem {
  pointer: string;
  message: string;
  key: boolean; // mark the property name rather than its value
}

function schemaProblem(error: ErrorObject): SchemaProblem | null {
  const params = error.params as Record<string, unknown>;
  const at = error.instancePath;
  switch (error.keyword) {
    case "if":
    case "propertyNames":
      return null;
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      return {
        pointer: `${at}/${escapeSegment(name)}`,
        message: `unknown property '${name}'`,
        key: true,
      };
    }
    case "required":
      return {
        pointer: at,
        message: `${subject(at)} is missing the required property '${params.missingProperty}'`,
        key: false,
      };
    case "enum":
      return {
        pointer: at,
        message: `${subject(at)} must be one of: ${(params.allowedValues as unknown[]).join(", ")}`,
        key: false,
      };
    case "const":
      return {
        pointer: at,
        message: `${subject(at)} must be ${JSON.stringify(params.allowedValue)}`,
        key: false,
      };
    default:
      break;
  }
  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    return {
      pointer: `${at}/${escapeSegment(name)}`,
      message:
        `the name '${name}' is invalid: use letters, digits, _ and -, ` +
        "starting with a letter or _",
      key: true,
    };
  }
  return { pointer: at, message: `${subject(at)} ${error.message ?? "is invalid"}`, key: false };
}

// Simplifies the errors of a failed oneOf, such as a fill that is a colour
// string or an object. The type errors of the branches are merged into one, and
// the oneOf error itself stays only when no more precise error is left.
function simplifyOneOf(errors: ErrorObject[]): ErrorObject[] {
  let result = errors;
  for (const failed of errors.filter((error) => error.keyword === "oneOf")) {
    const at = failed.instancePath;
    const types = result
      .filter((error) => error.keyword === "type" && error.instancePath === at)
      .map((error) => String((error.params as { type: unknown }).type));
    result = result.filter((error) => !(error.keyword === "type" && error.instancePath === at));
    const precise = result.some(
      (error) =>
        error !== failed && (error.instancePath === at || error.instancePath.startsWith(`${at}/`)),
    );
    result = result.flatMap((error) => {
      if (error !== failed) {
        return [error];
      }
      if (precise) {
        return [];
      }
      const message = types.length > 0 ? `must be ${types.join(" or ")}` : error.message;
      return [{ ...error, message }];
    });
  }
  return result;
}

function dedupe(problems: TemplateProblem[]): TemplateProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.source}|${problem.from}|${problem.message}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

// Checks TEXT without the server: syntax first, then, when the text is a JSON
// object, the schema.
export function checkTemplateText(text: string): TemplateCheck {
  const starts = lineStarts(text);
  const at = (from: number, to: number) => ({ from, to, line: lineOf(starts, from) });
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });

  if (errors.length > 0) {
    const problems = errors.map((error) => {
      const code = printParseErrorCode(error.error);
      const end = Math.max(error.offset + error.length, error.offset + 1);
      const trailingComma =
        /,\s*$/.test(text.slice(0, error.offset)) && /^[}\]]/.test(text.slice(error.offset));
      return {
        source: "syntax" as const,
        message: trailingComma
          ? "remove the comma before this bracket; JSON allows no trailing commas"
          : (syntaxMessages[code] ?? code),
        ...at(error.offset, Math.min(end, text.length)),
      };
    });
    // One place often gets several codes ("expected a property name", "expected
    // a value"); the first one describes it best.
    const first = problems.filter(
      (problem, index) => problems.findIndex((other) => other.from === problem.from) === index,
    );
    return { text, body: null, tree, problems: first };
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { text, body: null, tree, problems: [{ source: "syntax", message, ...at(0, 0) }] };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const message = "the template must be a JSON object, starting with '{'";
    return { text, body: null, tree, problems: [{ source: "syntax", message, ...at(0, 1) }] };
  }

  const body = value as TemplateBody;
  const problems: TemplateProblem[] = [];
  if (!validateSchema(body)) {
    for (const error of simplifyOneOf(validateSchema.errors ?? [])) {
      const problem = schemaProblem(error);
      if (problem) {
        const range = pointerRange(tree, problem.pointer, problem.key);
        problems.push({
          source: "schema",
          message: problem.message,
          pointer: problem.pointer,
          ...at(range.from, range.to),
        });
      }
    }
  }
  return { text, body, tree, problems: dedupe(problems) };
}

// Places the server's problems (JSON pointers into the template) in the text
// that CHECK describes; PREFIX is stripped first, such as "/body" after a save.
export function placeServerProblems(
  check: TemplateCheck,
  details: ProblemDetail[],
  prefix = "",
): TemplateProblem[] {
  const starts = lineStarts(check.text);
  return dedupe(
    details.map((detail) => {
      let pointer = detail.pointer ?? "";
      if (prefix && pointer.startsWith(prefix)) {
        pointer = pointer.slice(prefix.length);
      }
      const range = pointerRange(check.tree, pointer);
      return {
        source: "server" as const,
        message: detail.message,
        pointer,
        from: range.from,
        to: range.to,
        line: lineOf(starts, range.from),
      };
    }),
  );
}
