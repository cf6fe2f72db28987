/**
 * Blind legibility panels: the key of a sheet, a reader's transcription, and the score.
 *
 * A sheet shows numbered pictures and no answers; its key (`<row> <ANSWER>` per line,
 * the format of ../shared/legibility) is written apart so that the reader never sees
 * it. The score counts whole answers read right and characters read right, case
 * ignored (as the login compares them). Characters are compared position by position
 * when the reading has the answer's length; a reading of another length counts every
 * character of that row as missed, as the shared reference scorer does. Confusions are
 * the (truth, read) character pairs of same-length misses, the list that tells which
 * characters to prune or redraw.
 */

export type Transcript = ReadonlyMap<number, string>;

/** Parses `<row> <TEXT>` lines; blank lines are skipped, anything else is an error naming the line. */
export function parseTranscript(text: string, what: string): Map<number, string> {
  const rows = new Map<number, string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^\s*(\d+)[.:)]?\s+(\S+)\s*$/.exec(line);
    if (!match) throw new SyntaxError(`${what} line ${index + 1}: expected "<row> <TEXT>", got ${JSON.stringify(line)}`);
    const row = Number(match[1]);
    if (rows.has(row)) throw new SyntaxError(`${what} line ${index + 1}: row ${row} appears twice`);
    rows.set(row, (match[2] as string).toUpperCase());
  });
  return rows;
}

export function formatKey(answers: readonly string[]): string {
  return answers.map((answer, i) => `${i + 1} ${answer}\n`).join('');
}

export interface Miss {
  row: number;
  truth: string;
  read: string;
}

export interface PanelScore {
  rows: number;
  wholeRight: number;
  characters: number;
  charactersRight: number;
  misses: Miss[];
  /** "truth→read" pairs of same-length misses, most frequent first. */
  confusions: Array<{ pair: string; count: number }>;
}

/** Scores a transcription against its key; a row the reader left out counts as missed. */
export function scorePanel(key: Transcript, reading: Transcript): PanelScore {
  let wholeRight = 0;
  let characters = 0;
  let charactersRight = 0;
  const misses: Miss[] = [];
  const confusions = new Map<string, number>();
  for (const [row, truth] of [...key].sort(([a], [b]) => a - b)) {
    const read = reading.get(row) ?? '?';
    characters += truth.length;
    if (read === truth) {
      wholeRight += 1;
      charactersRight += truth.length;
      continue;
    }
    misses.push({ row, truth, read });
    if (read.length !== truth.length) continue;
    for (let i = 0; i < truth.length; i += 1) {
      if (read[i] === truth[i]) charactersRight += 1;
      else {
        const pair = `${truth[i]}→${read[i]}`;
        confusions.set(pair, (confusions.get(pair) ?? 0) + 1);
      }
    }
  }
  const sorted = [...confusions].map(([pair, count]) => ({ pair, count })).sort((a, b) => b.count - a.count || a.pair.localeCompare(b.pair));
  return { rows: key.size, wholeRight, characters, charactersRight, misses, confusions: sorted };
}

const percent = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)} %`;

export function formatScore(score: PanelScore): string {
  const lines = score.misses.map(({ row, truth, read }) => `miss ${row}: read ${read} truth ${truth}`);
  lines.push(
    `whole answers ${score.wholeRight}/${score.rows} = ${percent(score.wholeRight, score.rows)}; ` +
      `characters ${score.charactersRight}/${score.characters} = ${percent(score.charactersRight, score.characters)}`,
  );
  lines.push(`confusions (truth→read): ${score.confusions.length === 0 ? 'none' : score.confusions.map(({ pair, count }) => `${pair} ×${count}`).join(', ')}`);
  return lines.join('\n');
}
