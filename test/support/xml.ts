/**
 * A strict XML reader for tests (saxes: XML 1.0 well-formedness, namespaces, forbidden
 * characters and undeclared entities are errors), as the .NET and Go parsers of Prowlarr,
 * Sonarr and autobrr read feeds. Builds a small tree to query.
 */
import { SaxesParser } from 'saxes';

export interface XmlNode {
  /** The qualified name as written (`torznab:attr`). */
  name: string;
  /** Namespace URI of the element ('' for none). */
  uri: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

export function parseXml(source: string): XmlNode {
  const parser = new SaxesParser({ xmlns: true });
  const root: XmlNode = { name: '#document', uri: '', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  const failures: Error[] = [];
  parser.on('error', (err) => {
    failures.push(err);
  });
  parser.on('opentag', (tag) => {
    const attrs: Record<string, string> = {};
    for (const [name, a] of Object.entries(tag.attributes)) attrs[name] = typeof a === 'string' ? a : a.value;
    const node: XmlNode = { name: tag.name, uri: tag.uri ?? '', attrs, children: [], text: '' };
    (stack[stack.length - 1] as XmlNode).children.push(node);
    stack.push(node);
  });
  parser.on('text', (text) => {
    (stack[stack.length - 1] as XmlNode).text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(source).close();
  if (failures.length > 0) throw failures[0] as Error;
  const [top] = root.children;
  if (!top || root.children.length !== 1) throw new Error('not one root element');
  return top;
}

/** Children with this name. */
export function all(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}

/** The one child with this name (throws when absent). */
export function one(node: XmlNode, name: string): XmlNode {
  const found = all(node, name);
  if (found.length !== 1) throw new Error(`${node.name} has ${found.length} <${name}>`);
  return found[0] as XmlNode;
}

/** `rss/channel/item` of a feed. */
export function items(doc: XmlNode): XmlNode[] {
  if (doc.name !== 'rss') throw new Error(`root is <${doc.name}>, not <rss>`);
  return all(one(doc, 'channel'), 'item');
}

/** The values of the item's `torznab:attr` elements with this name. */
export function torznabAttrs(item: XmlNode, name: string): string[] {
  return item.children.filter((c) => c.name === 'torznab:attr' && c.uri === 'http://torznab.com/schemas/2015/feed' && c.attrs.name === name).map((c) => c.attrs.value as string);
}

export function torznabAttr(item: XmlNode, name: string): string | undefined {
  return torznabAttrs(item, name)[0];
}
