import { describe, expect, it } from 'vitest';
import { aTorrent, aUser } from '../support/factories.ts';
import { openTestDatabase } from '../support/test-app.ts';

describe('the database adapters', () => {
  it('write and read Bytes and BigInt columns exactly (PGlite needs the adapter shim)', async () => {
    const t = await openTestDatabase();
    try {
      const u = await aUser(t.db);
      const tor = await aTorrent(t.db, u.id, { size: 2n ** 62n + 7n });
      const info = Buffer.from([0, 1, 2, 255, 254, 0x64, 0x65]);
      await t.db.prisma.torrent.update({ where: { id: tor.id }, data: { info } });
      const row = await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id } });
      expect(Buffer.from(row.info ?? [])).toEqual(info);
      expect(row.size).toBe(2n ** 62n + 7n);
    } finally {
      await t.close();
    }
  });
});
