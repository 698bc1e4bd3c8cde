// A small, safe Markdown renderer for model cards.
//
// Safety comes from how the output is built, not from filtering HTML afterwards: the source is
// never parsed as HTML. Every piece of text reaches the page through document.createTextNode (so
// "<img onerror=…>" or "<script>" in a description is shown as those characters, escaped), and the
// only elements ever created are the ones in ALLOWED_TAGS, with no attributes but `href` (http,
// https and mailto URLs only), `title`, `rel`, `start` and a fixed alignment class.
//
// Supported: headings, paragraphs, hard line breaks, emphasis (*em*, **strong**, ~~del~~), `code`,
// fenced code blocks, block quotes, ordered and unordered (nested) lists, horizontal rules,
// GitHub-style tables, [links](https://…), <https://autolinks>, and images as links to the image.

export const ALLOWED_TAGS = Object.freeze(['P', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'PRE', 'CODE', 'BLOCKQUOTE',
  'HR', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'A', 'STRONG', 'EM', 'DEL', 'BR']);
export const ALLOWED_ATTRIBUTES = Object.freeze(['href', 'title', 'rel', 'start', 'class']);

const MAX_DEPTH = 8;
// How far ahead a span's closing delimiter is looked for: keeps a hostile card from costing quadratic time.
const LOOKAHEAD = 2000;
const MAX_URL = 2048;
const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}>/;
const TABLE_SEPARATOR = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const BLANK = /^\s*$/;
const ESCAPABLE = '\\`*_{}[]()#+-.!|~<>';

/** Renders Markdown text as a DocumentFragment of whitelisted elements and text nodes. */
export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const lines = String(source == null ? '' : source).replace(/\r\n?/g, '\n').split('\n');
  renderBlocks(lines, fragment, 0);
  return fragment;
}

function el(tag, ...children) {
  const node = document.createElement(tag);
  for (const child of children) node.append(child);
  return node;
}

function text(value) {
  return document.createTextNode(value);
}

function startsBlock(lines, i) {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || LIST_ITEM.test(line)
    || (i + 1 < lines.length && line.includes('|') && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].includes('-'));
}

function renderBlocks(lines, parent, depth) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i += 1;
    } else if (FENCE.test(line)) {
      i = renderFence(lines, i, parent);
    } else if (HEADING.test(line)) {
      const m = HEADING.exec(line);
      // A card lives under the page's h1/h2: "#" becomes h3, and so on down to h6.
      const heading = el(`h${Math.min(6, m[1].length + 2)}`);
      renderInline(m[2] || '', heading, depth);
      parent.append(heading);
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(el('hr'));
      i += 1;
    } else if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        inner.push(lines[i].replace(/^ {0,3}> ?/, ''));
        i += 1;
      }
      const quote = el('blockquote');
      if (depth < MAX_DEPTH) renderBlocks(inner, quote, depth + 1);
      else quote.append(text(inner.join('\n')));
      parent.append(quote);
    } else if (LIST_ITEM.test(line)) {
      i = renderList(lines, i, parent, depth);
    } else if (i + 1 < lines.length && line.includes('|') && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      i = renderTable(lines, i, parent, depth);
    } else {
      const paragraph = [line];
      i += 1;
      while (i < lines.length && !BLANK.test(lines[i]) && !startsBlock(lines, i)) {
        paragraph.push(lines[i]);
        i += 1;
      }
      const p = el('p');
      renderInline(paragraph.map((l) => l.replace(/^[ \t]+/, '')).join('\n'), p, depth);
      parent.append(p);
    }
  }
}

function renderFence(lines, start, parent) {
  const fence = FENCE.exec(lines[start])[1];
  const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
  const code = [];
  let i = start + 1;
  while (i < lines.length && !closing.test(lines[i])) {
    code.push(lines[i]);
    i += 1;
  }
  parent.append(el('pre', el('code', text(code.join('\n')))));
  return i + 1;
}

function renderList(lines, start, parent, depth) {
  const first = LIST_ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const list = el(ordered ? 'ol' : 'ul');
  if (ordered && parseInt(first[2], 10) !== 1) list.setAttribute('start', String(parseInt(first[2], 10)));
  const items = [];
  let loose = false;
  let i = start;
  const sameKind = (line) => {
    const m = LIST_ITEM.exec(line);
    return m && m[1].length < 2 && /\d/.test(m[2]) === ordered ? m : null;
  };
  while (i < lines.length) {
    const line = lines[i];
    const item = sameKind(line);
    if (item) {
      items.push([item[3] || '']);
      i += 1;
    } else if (BLANK.test(line)) {
      let j = i + 1;
      while (j < lines.length && BLANK.test(lines[j])) j += 1;
      if (j < lines.length && (/^ {2,}\S/.test(lines[j]) || sameKind(lines[j]))) {
        items[items.length - 1].push('');
        loose = true;
        i += 1;
      } else {
        break;
      }
    } else if (/^( {2,}|\t)/.test(line)) {
      items[items.length - 1].push(line.replace(/^( {1,4}|\t)/, ''));
      i += 1;
    } else if (!startsBlock(lines, i) && items[items.length - 1][items[items.length - 1].length - 1] !== '') {
      items[items.length - 1].push(line); // a lazy continuation of the item's paragraph
      i += 1;
    } else {
      break;
    }
  }
  for (const itemLines of items) {
    const li = el('li');
    if (depth < MAX_DEPTH) renderBlocks(itemLines, li, depth + 1);
    else li.append(text(itemLines.join('\n')));
    if (!loose && li.firstChild && li.firstChild.nodeName === 'P') {
      const p = li.firstChild;
      while (p.firstChild) li.insertBefore(p.firstChild, p);
      p.remove();
    }
    list.append(li);
  }
  parent.append(list);
  return i;
}

function splitRow(line) {
  let row = line.trim();
  if (row.startsWith('|')) row = row.slice(1);
  if (row.endsWith('|') && !row.endsWith('\\|')) row = row.slice(0, -1);
  const cells = [];
  let current = '';
  for (let i = 0; i < row.length; i += 1) {
    if (row[i] === '\\' && row[i + 1] === '|') {
      current += '|';
      i += 1;
    } else if (row[i] === '|') {
      cells.push(current.trim());
      current = '';
    } else {
      current += row[i];
    }
  }
  cells.push(current.trim());
  return cells;
}

function renderTable(lines, start, parent, depth) {
  const header = splitRow(lines[start]);
  const aligns = splitRow(lines[start + 1]).map((cell) => {
    if (cell.startsWith(':') && cell.endsWith(':')) return 'align-center';
    if (cell.endsWith(':')) return 'align-right';
    return null;
  });
  const cell = (tag, value, column) => {
    const node = el(tag);
    if (aligns[column]) node.className = aligns[column];
    renderInline(value || '', node, depth);
    return node;
  };
  const thead = el('thead', el('tr', ...header.map((value, c) => cell('th', value, c))));
  const tbody = el('tbody');
  let i = start + 2;
  while (i < lines.length && !BLANK.test(lines[i]) && lines[i].includes('|')) {
    const values = splitRow(lines[i]);
    tbody.append(el('tr', ...header.map((_, c) => cell('td', values[c], c))));
    i += 1;
  }
  parent.append(el('table', thead, tbody));
  return i;
}

/** An http(s) or mailto URL written out in full, or null: no javascript:, data:, relative or odd URLs. */
export function safeHref(url) {
  const candidate = String(url || '').trim();
  // Browsers drop tabs and newlines inside a scheme ("java\nscript:"), so any control character or space disqualifies.
  if (!/^(https?:\/\/|mailto:)/i.test(candidate) || /[\u0000-\u0020\u007f]/.test(candidate)) return null;
  try {
    const parsed = new URL(candidate);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

function anchor(href, title) {
  const a = el('a');
  a.setAttribute('href', href);
  a.setAttribute('rel', 'nofollow noopener noreferrer');
  if (title) a.setAttribute('title', title);
  return a;
}

/** For each "[" of the text, the index of its matching "]" (one pass, so many "[" cost linear time). */
function matchBrackets(source) {
  const match = new Map();
  const open = [];
  for (let j = 0; j < source.length; j += 1) {
    const c = source[j];
    if (c === '\\') {
      j += 1;
    } else if (c === '[') {
      open.push(j);
    } else if (c === ']' && open.length) {
      match.set(open.pop(), j);
    }
  }
  return match;
}

function parseLink(source, i, state) {
  if (!state.brackets) state.brackets = matchBrackets(source);
  const j = state.brackets.get(i);
  if (j === undefined || j - i > LOOKAHEAD || source[j + 1] !== '(') return null;
  const limit = Math.min(source.length, j + 2 + MAX_URL);
  let k = j + 2;
  let destination = '';
  let parens = 0;
  while (k < limit) {
    const c = source[k];
    if (c === '(') parens += 1;
    if (c === ')') {
      if (parens === 0) break;
      parens -= 1;
    }
    if (/\s/.test(c)) break;
    destination += c;
    k += 1;
  }
  let title = null;
  const titled = /^\s+"([^"]*)"\s*\)/.exec(source.slice(k, k + LOOKAHEAD));
  if (titled) {
    title = titled[1];
    k += titled[0].length - 1;
  } else {
    while (k < source.length && /\s/.test(source[k])) k += 1;
  }
  if (source[k] !== ')') return null;
  if (destination.startsWith('<') && destination.endsWith('>')) destination = destination.slice(1, -1);
  return { label: source.slice(i + 1, j), destination, title, end: k + 1 };
}

const EMPHASIS = [['**', 'strong'], ['__', 'strong'], ['~~', 'del'], ['*', 'em'], ['_', 'em']];
const WORD = /[\p{L}\p{N}]/u;

function parseEmphasis(source, i, state) {
  for (const [delimiter, tag] of EMPHASIS) {
    if (!source.startsWith(delimiter, i)) continue;
    const open = i + delimiter.length;
    if (open >= source.length || /\s/.test(source[open])) continue;
    if (delimiter[0] === '_' && i > 0 && WORD.test(source[i - 1])) continue; // snake_case is not emphasis
    // Whether a delimiter closes depends only on its own position, so a stretch searched in vain
    // for an earlier opener holds no closer for a later one either: each stretch is searched once.
    let j = Math.max(open, state.searched[delimiter] || 0);
    const limit = Math.min(source.length, open + LOOKAHEAD);
    while (j < limit) {
      j = source.indexOf(delimiter, j);
      if (j < 0 || j >= limit) break;
      if (delimiter.length === 1 && source.startsWith(delimiter + delimiter, j)) {
        j += 2; // a strong run inside an em: skip it
        continue;
      }
      const closes = j > open && !/\s/.test(source[j - 1])
        && !(delimiter[0] === '_' && WORD.test(source[j + delimiter.length] || ''));
      if (closes) return { tag, inner: source.slice(open, j), end: j + delimiter.length };
      j += 1;
    }
    state.searched[delimiter] = j < 0 ? source.length : Math.max(j, limit);
  }
  return null;
}

function renderInline(source, parent, depth, inLink = false) {
  if (depth > MAX_DEPTH) {
    parent.append(text(source));
    return;
  }
  const state = { brackets: null, searched: {} };
  let buffer = '';
  const flush = () => {
    if (buffer) parent.append(text(buffer));
    buffer = '';
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length && ESCAPABLE.includes(source[i + 1])) {
      buffer += source[i + 1];
      i += 2;
      continue;
    }
    if (c === '\\' && source[i + 1] === '\n') {
      flush();
      parent.append(el('br'));
      i += 2;
      continue;
    }
    if (c === '\n') {
      if (/ {2,}$/.test(buffer)) {
        buffer = buffer.replace(/ +$/, '');
        flush();
        parent.append(el('br'));
      } else {
        buffer += '\n';
      }
      i += 1;
      continue;
    }
    if (c === '`') {
      const run = runAt(source, i);
      const close = findCodeClose(source, i + run.length, run.length);
      if (close >= 0) {
        flush();
        let code = source.slice(i + run.length, close).replace(/\n/g, ' ');
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
        parent.append(el('code', text(code)));
        i = close + run.length;
        continue;
      }
      buffer += run;
      i += run.length;
      continue;
    }
    if (c === '!' && source[i + 1] === '[' && !inLink) {
      const image = parseLink(source, i + 1, state);
      if (image) {
        flush();
        // Images are not embedded (no third-party requests from the page): a link to the image instead.
        const href = safeHref(image.destination);
        const label = `${image.label || 'image'} (image)`;
        if (href) {
          const a = anchor(href, image.title);
          a.append(text(label));
          parent.append(a);
        } else {
          parent.append(text(label));
        }
        i = image.end;
        continue;
      }
    }
    if (c === '[' && !inLink) {
      const link = parseLink(source, i, state);
      if (link) {
        flush();
        const href = safeHref(link.destination);
        if (href) {
          const a = anchor(href, link.title);
          renderInline(link.label, a, depth + 1, true); // no links inside a link
          parent.append(a);
        } else {
          renderInline(link.label, parent, depth + 1); // an unsafe link keeps its words, loses its target
        }
        i = link.end;
        continue;
      }
    }
    if (c === '<' && !inLink) {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(source.slice(i, i + LOOKAHEAD));
      const href = auto ? safeHref(auto[1]) : null;
      if (href) {
        flush();
        const a = anchor(href);
        a.append(text(auto[1]));
        parent.append(a);
        i += auto[0].length;
        continue;
      }
    }
    if (c === '*' || c === '_' || c === '~') {
      const emphasis = parseEmphasis(source, i, state);
      if (emphasis) {
        flush();
        const node = el(emphasis.tag);
        renderInline(emphasis.inner, node, depth + 1, inLink);
        parent.append(node);
        i = emphasis.end;
        continue;
      }
      const run = runAt(source, i);
      buffer += run;
      i += run.length;
      continue;
    }
    buffer += c;
    i += 1;
  }
  flush();
}

function findCodeClose(source, from, length) {
  const limit = Math.min(source.length, from + LOOKAHEAD);
  let j = from;
  while (j < limit) {
    j = source.indexOf('`', j);
    if (j < 0 || j >= limit) return -1;
    const run = runAt(source, j);
    if (run.length === length) return j;
    j += run.length;
  }
  return -1;
}

/** The run of one repeated character starting at i ("***", "``"). */
function runAt(source, i) {
  let j = i + 1;
  while (j < source.length && source[j] === source[i]) j += 1;
  return source.slice(i, j);
}
