import { FloeError } from "../errors.js";

/** One CSV record: its fields, which of them were quoted, and the physical line it starts on. */
export interface CsvRecord {
  fields: string[];
  quoted: boolean[];
  /** 1-based physical line where the record starts (a quoted newline makes a record span lines). */
  line: number;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A `"` inside a quoted field: either the first of `""` or the closing quote. */
  QuoteInQuoted,
}

/**
 * An RFC 4180 tokenizer fed text a chunk at a time (chunks may cut anywhere, even between the
 * two quotes of `""` or between CR and LF). Beyond the RFC, as readers commonly are:
 * - LF, CRLF and a lone CR all end a record; the last record needs no line break;
 * - an empty line (no characters at all between two line breaks) is skipped;
 * - a `"` inside an unquoted field is kept as text (`5"` stays `5"`);
 * - any delimiter character (`,` by default; `\t` for TSV).
 * Refused: characters after a closing quote (`"ab"c`), and a quoted field still open at the end.
 */
export class CsvParser {
  private readonly delim: number;
  private readonly maxChars: number;
  private state = State.FieldStart;
  private field = "";
  private fieldQuoted = false;
  private fieldLine = 1;
  private fields: string[] = [];
  private quoted: boolean[] = [];
  private recordChars = 0;
  private started = false;
  private recordLine = 1;
  /** The physical line of the next character. */
  private line = 1;
  private prevCR = false;
  private refusal: unknown;

  /**
   * `onRecord`: each record is handed to it as it ends, its fields in arrays the parser then reuses
   * (nothing is allocated per record), instead of being returned by `push` and `end`.
   */
  constructor(
    delimiter: string,
    maxRecordChars: number,
    private readonly onRecord?: (fields: readonly string[], quoted: readonly boolean[], line: number) => void,
  ) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\r" || delimiter === "\n") {
      throw new FloeError("invalid_input", `CSV: the delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`, {
        details: { delimiter },
      });
    }
    this.delim = delimiter.charCodeAt(0);
    this.maxChars = maxRecordChars;
  }

  /** The physical line the next character is on. */
  get currentLine(): number {
    return this.line;
  }

  /**
   * Tokenizes `text`, returning the records it completes. A refusal met in it is kept and thrown by
   * `throwIfRefused` (and every later call), after the records before it are handed out: the caller
   * converts those first, so which refusal comes first (a record's value, or a later record's
   * syntax) does not depend on how the input was cut into chunks.
   */
  push(text: string): CsvRecord[] {
    if (this.refusal) throw this.refusal;
    const out: CsvRecord[] = [];
    try {
      this.tokenize(text, out);
    } catch (e) {
      this.refusal = e;
    }
    return out;
  }

  /** Throws the refusal `push` met, if any. */
  throwIfRefused(): void {
    if (this.refusal) throw this.refusal;
  }

  private tokenize(text: string, out: CsvRecord[]): void {
    const n = text.length;
    const delim = this.delim;
    let seg = 0; // start of the pending field text in `text`
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.Quoted: {
          // Everything up to the next quote is field text, line breaks included.
          const q = text.indexOf('"', i);
          const end = q === -1 ? n : q;
          this.countBreaks(text, i, end);
          if (q === -1) {
            i = n;
            break;
          }
          this.field += text.slice(seg, q);
          this.state = State.QuoteInQuoted;
          this.prevCR = false;
          i = q + 1;
          break;
        }
        case State.Unquoted: {
          let j = i;
          for (; j < n; j++) {
            const c = text.charCodeAt(j);
            if (c === delim || c === LF || c === CR) break;
          }
          if (j > i) this.prevCR = false;
          if (j === n) {
            i = n;
            break;
          }
          this.endField(this.field + text.slice(seg, j), false);
          this.state = State.FieldStart;
          const c = text.charCodeAt(j);
          if (c === delim) this.prevCR = false;
          else {
            this.lineBreak(c);
            this.endRecord(out);
          }
          i = j + 1;
          break;
        }
        case State.FieldStart: {
          const c = text.charCodeAt(i++);
          if (c === LF || c === CR) {
            this.lineBreak(c);
            // Nothing on this line yet: an empty line (or the LF of a CRLF) is skipped.
            if (this.started) {
              this.endField("", false);
              this.endRecord(out);
            }
            break;
          }
          this.prevCR = false;
          if (!this.started) {
            this.started = true;
            this.recordLine = this.line;
          }
          if (c === QUOTE) {
            this.state = State.Quoted;
            this.fieldQuoted = true;
            this.fieldLine = this.line;
            seg = i;
          } else if (c === delim) {
            this.endField("", false);
          } else {
            this.state = State.Unquoted;
            seg = i - 1;
          }
          break;
        }
        case State.QuoteInQuoted: {
          const c = text.charCodeAt(i++);
          if (c === QUOTE) {
            // `""` is one quote (RFC 4180 §2.7); the field goes on after it.
            this.field += '"';
            seg = i;
            this.state = State.Quoted;
            this.prevCR = false;
          } else if (c === delim) {
            this.endField(this.field, true);
            this.state = State.FieldStart;
            this.prevCR = false;
          } else if (c === LF || c === CR) {
            this.lineBreak(c);
            this.endField(this.field, true);
            this.endRecord(out);
            this.state = State.FieldStart;
          } else {
            throw new FloeError("invalid_input", `CSV line ${this.line}: unexpected ${JSON.stringify(text[i - 1])} after the closing quote of a field (a quote inside a quoted field is written "")`, {
              details: { format: "csv", line: this.line, recordLine: this.recordLine },
            });
          }
          break;
        }
      }
    }
    if (this.state === State.Unquoted || this.state === State.Quoted) this.field += text.slice(seg);
    if (this.started && this.recordChars + this.field.length > this.maxChars) {
      throw new FloeError("too_large", `CSV line ${this.recordLine}: record longer than ${this.maxChars} characters`, {
        details: { format: "csv", line: this.recordLine, limit: this.maxChars },
      });
    }
  }

  /** Ends the input: the last record (if it had no line break), or an error for an open quote. */
  end(): CsvRecord[] {
    if (this.refusal) throw this.refusal;
    if (this.state === State.Quoted) {
      throw new FloeError("invalid_input", `CSV line ${this.recordLine}: the quoted field opened on line ${this.fieldLine} is never closed (truncated file?)`, {
        details: { format: "csv", line: this.recordLine, fieldLine: this.fieldLine },
      });
    }
    if (!this.started) return [];
    this.endField(this.field, this.state === State.QuoteInQuoted);
    const out: CsvRecord[] = [];
    this.endRecord(out);
    return out;
  }

  /** Physical lines: LF, CR, and CRLF counted once. */
  private lineBreak(c: number): void {
    if (!(c === LF && this.prevCR)) this.line++;
    this.prevCR = c === CR;
  }

  private countBreaks(text: string, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === LF || c === CR) this.lineBreak(c);
      else this.prevCR = false;
    }
  }

  private endField(value: string, quoted: boolean): void {
    this.fields.push(value);
    this.quoted.push(quoted || this.fieldQuoted);
    this.recordChars += value.length + 1;
    this.field = "";
    this.fieldQuoted = false;
  }

  private endRecord(out: CsvRecord[]): void {
    this.recordChars = 0;
    this.started = false;
    if (this.onRecord) {
      this.onRecord(this.fields, this.quoted, this.recordLine);
      this.fields.length = 0;
      this.quoted.length = 0;
      return;
    }
    out.push({ fields: this.fields, quoted: this.quoted, line: this.recordLine });
    this.fields = [];
    this.quoted = [];
  }
}
