/**
 * The documentation stays navigable: every relative link and image in README.md and
 * docs/ points at a file that exists, every #anchor at a heading of the target (GitHub's
 * slugs), pictures live in docs/ (not under public/, which the app serves), and the
 * README's source map names every file under src/ and no file that is not there.
 *
 * The source map is one list line per file, `- [src/x.ts](src/x.ts): what it is`, so
 * adding a file adds one line; this test says which lines are missing or stale.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT_DIR } from '../src/paths.js';

/** Files under `dir`, as paths relative to `root` with forward slashes, sorted. */
function filesUnder(root: string, dir: string, keep: (name: string) => boolean = () => true): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (keep(entry.name)) found.push(child);
    }
  };
  if (existsSync(path.join(root, dir))) walk(dir);
  return found.sort();
}

/** The documents checked: README.md and every Markdown file under docs/. */
function documents(root: string): string[] {
  return ['README.md', ...filesUnder(root, 'docs', (name) => name.endsWith('.md'))];
}

/** Markdown without fenced code blocks and inline code, so examples in code are not links or headings. */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      lines.push('');
    } else if (marker !== undefined) {
      fence = marker;
      lines.push('');
    } else {
      lines.push(line.replace(/(`+)[^`]*?\1/g, ''));
    }
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors a Markdown file offers: its headings' slugs (repeats get -1, -2…) and HTML ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const raw = markdown.split('\n');
  prose(markdown).forEach((line, index) => {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      // Slug from the raw line: inline code counts in GitHub's anchor (its backticks do not).
      const text = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(raw[index] ?? '')?.[1] ?? heading[1] ?? '';
      const base = slug(text);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const id of line.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/g)) anchors.add(id[1] ?? '');
  });
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
  image: boolean;
}

function linksOf(root: string, file: string): Link[] {
  const links: Link[] = [];
  prose(readFileSync(path.join(root, file), 'utf8')).forEach((text, index) => {
    for (const match of text.matchAll(/(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ file, line: index + 1, target: match[2] ?? '', image: match[1] === '!' });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition) links.push({ file, line: index + 1, target: definition[1] ?? '', image: false });
  });
  return links;
}

/** Every broken relative link in README.md and docs/, as "file:line: target: why". */
function brokenLinks(root: string): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  for (const file of documents(root)) {
    for (const link of linksOf(root, file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // https:, mailto: … are not ours to check
      const where = `${link.file}:${link.line}: ${link.target}`;
      const [rawPath = '', anchor] = link.target.split('#', 2);
      const targetPath = rawPath === '' ? link.file : path.posix.normalize(path.posix.join(path.posix.dirname(link.file), decodeURIComponent(rawPath)));
      if (targetPath.startsWith('..') || path.posix.isAbsolute(targetPath)) {
        problems.push(`${where}: leaves the repository`);
        continue;
      }
      const absolute = path.join(root, targetPath);
      if (!existsSync(absolute)) {
        problems.push(`${where}: no such file`);
        continue;
      }
      if (link.image && !targetPath.startsWith('docs/')) problems.push(`${where}: pictures belong in docs/ (not served by the app)`);
      if (anchor === undefined) continue;
      if (targetPath.endsWith('.md') && statSync(absolute).isFile()) {
        let anchors = anchorCache.get(targetPath);
        if (!anchors) {
          anchors = anchorsOf(readFileSync(absolute, 'utf8'));
          anchorCache.set(targetPath, anchors);
        }
        if (!anchors.has(decodeURIComponent(anchor))) problems.push(`${where}: no heading with that anchor in ${targetPath}`);
      } else if (!/^L\d+(-L\d+)?$/.test(anchor)) {
        problems.push(`${where}: an anchor into a file that has no headings`);
      }
    }
  }
  return problems;
}

/** The files the README's "Source map" section links to under src/. */
function sourceMapFiles(root: string): string[] {
  const lines = prose(readFileSync(path.join(root, 'README.md'), 'utf8'));
  const start = lines.findIndex((line) => /^##\s+Source map\s*$/.test(line));
  assert.notEqual(start, -1, 'README.md has no "## Source map" section');
  const end = lines.findIndex((line, index) => index > start && /^#{1,2}\s/.test(line));
  const section = lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
  return [...section.matchAll(/\]\((src\/[^)#\s]+)\)/g)].map((match) => match[1] ?? '').sort();
}

test('every relative link and anchor in README.md and docs/ resolves', () => {
  assert.deepEqual(brokenLinks(ROOT_DIR), []);
});

test("the README's source map names every file under src/, and only those", () => {
  const named = sourceMapFiles(ROOT_DIR);
  const present = filesUnder(ROOT_DIR, 'src');
  const missing = present.filter((file) => !named.includes(file));
  const stale = named.filter((file) => !present.includes(file));
  assert.deepEqual({ missing, stale }, { missing: [], stale: [] }, 'add a line "- [src/x.ts](src/x.ts): what it is" for each missing file; remove stale ones');
  assert.equal(new Set(named).size, named.length, 'a file is named twice in the source map');
});

test('slugs follow GitHub: lower case, punctuation dropped, spaces to hyphens', () => {
  assert.equal(slug('People: the blind panel'), 'people-the-blind-panel');
  assert.equal(slug('How each WCAG 2.2 point is met'), 'how-each-wcag-22-point-is-met');
  assert.equal(slug('Folders beside src/'), 'folders-beside-src');
  assert.equal(slug('`WORKERS` and [links](x.md)'), 'workers-and-links');
  assert.equal(slug('Accessible authentication (3.3.8)'), 'accessible-authentication-338');
});

test('the checker catches a missing file, a missing anchor, a picture outside docs/ and a stale map', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'captcha-login-docs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'docs'));
  mkdirSync(path.join(root, 'public'));
  writeFileSync(path.join(root, 'public', 'shot.png'), '');
  writeFileSync(
    path.join(root, 'README.md'),
    ['# Top', '', 'See [a](docs/a.md#two), [b](docs/a.md#three), [c](docs/gone.md),', '![shot](public/shot.png), `[code](not/checked.md)`, [top](#top).', '', '## Source map', '', '- [src/x.ts](src/x.ts): gone', ''].join('\n'),
  );
  writeFileSync(path.join(root, 'docs', 'a.md'), ['# One', '', '## Two', '', '```', '## Three', '```', '', '[back](../README.md#source-map)', ''].join('\n'));
  assert.deepEqual(brokenLinks(root), [
    'README.md:3: docs/a.md#three: no heading with that anchor in docs/a.md',
    'README.md:3: docs/gone.md: no such file',
    'README.md:4: public/shot.png: pictures belong in docs/ (not served by the app)',
    'README.md:8: src/x.ts: no such file',
  ]);
  assert.deepEqual(sourceMapFiles(root), ['src/x.ts']);
});
