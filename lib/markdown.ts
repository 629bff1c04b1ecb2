/**
 * Values in Markdown (pull request comments, job summaries). A value can come from
 * a pull request (a resource name, a stack file name, a ref, a preview's URN or
 * diagnostic), so it must not change the structure around it: close a code span,
 * start a heading, list, quote or code block, open an HTML comment or tag, break a
 * table cell or row, or hide what follows. Every value in Markdown goes through `md`.
 */

/** Line breaks of any kind, which would end a table row or a list item. */
const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;
/** Control, zero-width and bidirectional-override characters, which can hide or reorder text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const HIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** A value on one line, with nothing invisible: for terminal output and log lines too. */
export function oneLine(value: unknown): string {
  return String(value).replace(LINE_BREAKS, " ↵ ").replace(HIDDEN, "\ufffd");
}

/**
 * A value as Markdown: as escaped text, or as a code span (`as: "code"`). A value
 * a code span cannot hold plainly (a backtick, a `|` that would split a table cell,
 * a backslash, HTML's `<`, `>` or `&`) is given as escaped text instead.
 */
export function md(value: unknown, as: "text" | "code" = "text"): string {
  const s = oneLine(value);
  if (as === "code" && s.trim() !== "" && !/[`|\\<>&]/.test(s)) return `\`${s}\``;
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]#|~]/g, "\\$&")
    .replace(/^\s+/, (m) => m.replace(/\s/g, "&#32;"))
    .replace(/^([-+=])/, "\\$1")
    .replace(/^(\d+)([.)])/, "$1\\$2");
}
