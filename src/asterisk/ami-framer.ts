// Splits the AMI byte stream into messages. We read the socket ourselves (instead of relying on
// asterisk-manager's reader) because that reader only ends an Asterisk 13 `Response: Follows`
// block on a line that is exactly `--END COMMAND--`: when the CLI output has no final newline
// the marker is glued to the last line, and every later message on the connection is swallowed.

/** One header line: name as Asterisk spelled it, value without the single space after ":". */
export type AmiHeader = readonly [name: string, value: string];

/** A message from Asterisk: a response, an event, or anything else framed by a blank line. */
export class AmiResponse {
  /** Header lines in arrival order. */
  readonly headers: readonly AmiHeader[];
  /** Body of an Asterisk ≤13 `Response: Follows` block (the CLI output); empty otherwise. */
  readonly body: readonly string[];

  constructor(headers: readonly AmiHeader[], body: readonly string[] = []) {
    this.headers = headers;
    this.body = body;
  }

  /** First value of a header; the name is matched case-insensitively, like Asterisk does. */
  get(name: string): string | undefined {
    const wanted = name.toLowerCase();
    return this.headers.find(([n]) => n.toLowerCase() === wanted)?.[1];
  }

  /** Every value of a repeated header (`Output:` lines), in order. */
  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    return this.headers.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
  }

  /** `Success`, `Error`, `Goodbye`, `Follows`, or "" for an event. */
  get response(): string {
    return this.get("Response") ?? "";
  }

  get message(): string | undefined {
    return this.get("Message");
  }

  get actionId(): string | undefined {
    return this.get("ActionID");
  }

  /** True for Asterisk ≤13 `Response: Follows` blocks (Command output with `--END COMMAND--`). */
  get isFollows(): boolean {
    return this.response.toLowerCase() === "follows";
  }

  /** CLI output lines of a Command answer, whichever format Asterisk used. */
  get output(): string[] {
    return this.isFollows ? [...this.body] : this.getAll("Output");
  }
}

const END_MARKER = "--END COMMAND--";
// Header lines Asterisk ≤13 writes before the CLI output of a Follows block.
const FOLLOWS_HEADERS: ReadonlySet<string> = new Set(["response", "privilege", "actionid"]);

/** Parses `Name: value`, dropping only the one space after ":" so CLI indentation survives. */
export function parseHeader(line: string): AmiHeader {
  const colon = line.indexOf(":");
  if (colon < 0) return ["", line];
  const value = line.slice(colon + 1);
  return [line.slice(0, colon), value.startsWith(" ") ? value.slice(1) : value];
}

export class AmiFramer {
  private partial = "";
  private headers: AmiHeader[] = [];
  private body: string[] | undefined; // defined while inside a Follows block
  private first = true;

  constructor(
    private readonly onMessage: (message: AmiResponse) => void,
    private readonly onGreeting: (line: string) => void = () => {},
  ) {}

  /** Feeds decoded text; lines may end with CRLF or a bare LF and may be split anywhere. */
  push(chunk: string): void {
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop() ?? "";
    for (const raw of lines) this.line(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
  }

  private line(line: string): void {
    if (this.first) {
      this.first = false;
      if (line.startsWith("Asterisk Call Manager/")) return this.onGreeting(line);
    }
    if (this.body) return this.followsLine(this.body, line);
    if (line === "") {
      // Blank lines between messages (ListCommands ends with two) are not messages.
      if (this.headers.length > 0) this.emit();
      return;
    }
    const header = parseHeader(line);
    this.headers.push(header);
    const [name, value] = header;
    if (this.headers.length === 1 && name.toLowerCase() === "response" && value.toLowerCase() === "follows") {
      this.body = [];
    }
  }

  private followsLine(body: string[], line: string): void {
    if (line.endsWith(END_MARKER)) {
      // The marker may be glued to the last output line when that line had no newline.
      const last = line.slice(0, -END_MARKER.length);
      if (last !== "") body.push(last);
      return this.emit();
    }
    const header = parseHeader(line);
    const isHeader = body.length === 0 && FOLLOWS_HEADERS.has(header[0].toLowerCase());
    if (isHeader && !this.headers.some(([n]) => n.toLowerCase() === header[0].toLowerCase())) {
      this.headers.push(header);
    } else {
      body.push(line);
    }
  }

  private emit(): void {
    const message = new AmiResponse(this.headers, this.body);
    this.headers = [];
    this.body = undefined;
    this.onMessage(message);
  }
}
