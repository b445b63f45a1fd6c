// CSV as RFC 4180 has it, read in the browser: a header line, `,` or Excel's `;` as the
// separator (whichever the header line has more of, outside quotes), fields in double quotes
// with "" for a quote and line breaks inside, CRLF, LF or CR line ends, a UTF-8 BOM dropped.
// Lines with nothing on them (also ";;;", as Excel writes empty rows) are skipped.

import { t } from "./i18n.js";

// `message` is the whole message, line number included; `line` is the file line it is about.
export class CsvError extends Error {
  constructor(message, line) {
    super(message);
    this.line = line;
  }
}

// The separator of the header line: `;` when it has more semicolons than commas, else `,`.
export function detectSeparator(text) {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (ch === "\n" || ch === "\r") break;
    else if (ch === ",") commas++;
    else if (ch === ";") semicolons++;
  }
  return semicolons > commas ? ";" : ",";
}

// Records as { line, fields }: `line` is the file line (from 1) the record starts on, so a
// record after a quoted value with line breaks keeps the number an editor shows.
export function parseCsv(text, separator = detectSeparator(text.replace(/^\ufeff/, ""))) {
  if (text.startsWith("\ufeff")) text = text.slice(1);
  const records = [];
  let fields = [];
  let value = "";
  let quoted = false; // inside a quoted value
  let hadQuotes = false; // the record has a quoted value (so it is not a blank line)
  let line = 1; // the line being read
  let start = 1; // the line the record started on
  let quoteLine = 1; // where the open quoted value started
  const endRecord = () => {
    fields.push(value);
    if (hadQuotes || fields.some((f) => f !== "")) records.push({ line: start, fields });
    fields = [];
    value = "";
    hadQuotes = false;
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        value += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i++;
        // Only blanks may come between a closing quote and the separator or line end.
        while (text[i] === " " || text[i] === "\t") i++;
        if (i < text.length && text[i] !== separator && text[i] !== "\n" && text[i] !== "\r") {
          throw new CsvError(t('Line {line}: after a quoted value comes "{separator}" or the end of the line; to put a quote inside a quoted value, double it ("").',
            { line, separator }), line);
        }
      } else if (ch === "\r" || ch === "\n") {
        const end = ch === "\r" && text[i + 1] === "\n" ? "\r\n" : ch;
        value += "\n";
        i += end.length;
        line++;
      } else {
        value += ch;
        i++;
      }
    } else if (ch === '"') {
      if (value.trim() !== "") {
        throw new CsvError(t('Line {line}: a quote (") in the middle of a value: put the whole value in quotes and double the quote ("").', { line }), line);
      }
      value = "";
      quoted = true;
      hadQuotes = true;
      quoteLine = line;
      i++;
    } else if (ch === separator) {
      fields.push(value);
      value = "";
      i++;
    } else if (ch === "\r" || ch === "\n") {
      endRecord();
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      start = line;
    } else {
      value += ch;
      i++;
    }
  }
  if (quoted) throw new CsvError(t("Line {line}: a quoted value starts here and is never closed.", { line: quoteLine }), quoteLine);
  if (value !== "" || fields.length || hadQuotes) endRecord();
  return records;
}

// The file's text: UTF-8 (a BOM is dropped); anything else is refused with a clear message.
export async function readText(file) {
  const bytes = await file.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Excel's name of the file type is in the language of the Excel that saves it.
    throw new Error(t("The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (comma delimited)”."));
  }
}
