// Search as you type over names and descriptions, fast enough for 10,000 secrets:
// the lower-cased text of each row is built once per list, and each keystroke is a
// plain substring scan.

export interface Searchable {
  name: string;
  description: string;
}

export interface SearchIndex<T extends Searchable> {
  items: T[];
  text: string[];
}

export function buildSearchIndex<T extends Searchable>(items: T[]): SearchIndex<T> {
  return { items, text: items.map((i) => `${i.name}\n${i.description}`.toLowerCase()) };
}

/** Items whose name or description contains every word of the query, in list order. */
export function filterIndex<T extends Searchable>(index: SearchIndex<T>, query: string): T[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return index.items;
  const out: T[] = [];
  for (let i = 0; i < index.items.length; i++) {
    const text = index.text[i]!;
    if (terms.every((t) => text.includes(t))) out.push(index.items[i]!);
  }
  return out;
}
