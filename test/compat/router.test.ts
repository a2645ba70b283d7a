import { describe, expect, it } from 'vitest';
import { compileRoute, createMatcher } from '../../compat/router.ts';

describe('FastRoute-style matcher', () => {
  const match = createMatcher([{ pattern: 'torrent/search' }, { pattern: 'torrent/{id:\\d+}' }, { pattern: 'torrent/{id:\\d+}/files' }, { pattern: 'site/fun/view[/{id:\\d+}]' }, { pattern: 'user/{name}' }, { pattern: 'a[/{x:\\d{2}}[/{y}]]' }]);

  it('matches placeholders with their regex, and only whole paths', () => {
    expect(match('torrent/12/files')).toEqual({ route: { pattern: 'torrent/{id:\\d+}/files' }, params: { id: '12' } });
    expect(match('torrent/12')?.params).toEqual({ id: '12' });
    expect(match('torrent/search')?.route.pattern).toBe('torrent/search');
    expect(match('torrent/abc')).toBeNull();
    expect(match('torrent/12/files/x')).toBeNull();
    expect(match('xtorrent/12')).toBeNull();
    expect(match('user/alice')?.params).toEqual({ name: 'alice' });
    expect(match('user/a/b')).toBeNull();
  });

  it('handles optional trailing parts, nested too', () => {
    expect(match('site/fun/view')).toEqual({ route: { pattern: 'site/fun/view[/{id:\\d+}]' }, params: {} });
    expect(match('site/fun/view/7')?.params).toEqual({ id: '7' });
    expect(match('site/fun/view/')).toBeNull();
    expect(match('a')?.params).toEqual({});
    expect(match('a/12')?.params).toEqual({ x: '12' });
    expect(match('a/12/q')?.params).toEqual({ x: '12', y: 'q' });
    expect(match('a/123')).toBeNull();
  });

  it('escapes literal characters and refuses malformed patterns', () => {
    expect(compileRoute('a.b').regex.test('axb')).toBe(false);
    expect(() => compileRoute('a[/b]/c')).toThrow(/middle/);
    expect(() => compileRoute('a/{id')).toThrow(/unclosed/);
    expect(() => compileRoute('a/{1x}')).toThrow(/bad placeholder/);
    expect(() => compileRoute('a/{x:(\\d+)}')).toThrow(/capturing/);
    expect(() => compileRoute('a/{x}/{x}')).toThrow(/twice/);
  });
});
