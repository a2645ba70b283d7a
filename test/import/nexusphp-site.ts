/**
 * A small NexusPHP site in a scratch MariaDB database: 1.5's shape (MyISAM, NOT NULL zero
 * dates, no torrent_secrets or settings) or 1.6+'s (NULL dates, torrent_secrets, settings,
 * invite registration columns, approval status). Every value the import tests check is here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nexusMd5, nexusSecret, nexusSha256, oldTorrent, scratchMariaDb, type OldTorrent, type Scratch } from './fixtures.ts';

export type NexusVariant = '1.5' | '1.6';

export interface NexusUser {
  id: number;
  username: string;
  password: string;
  passkey: string;
}

export interface NexusSite extends Scratch {
  variant: NexusVariant;
  users: Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'frank' | 'gina' | 'henry', NexusUser>;
  torrents: Record<'free' | 'legacy' | 'missing' | 'mismatch' | 'corrupt' | 'plain', OldTorrent>;
  /** Bob's newest secret for torrent `legacy`, and his secret for every torrent. */
  secrets: { bobLegacy: string; bobAny: string };
}

/** The NexusPHP tables the import reads, as that variant shapes them (bench/import.ts uses them too). */
export function nexusSchemaSql(v: NexusVariant): string {
  // 1.5: DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00'; 1.6+: DATETIME NULL.
  const dt = v === '1.5' ? "DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00'" : 'DATETIME DEFAULT NULL';
  return `
CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(40) NOT NULL DEFAULT '',
  passhash VARCHAR(${v === '1.5' ? 32 : 255}) NOT NULL DEFAULT '',
  secret VARBINARY(20) NOT NULL,
  email VARCHAR(80) NOT NULL DEFAULT '',
  status ENUM('pending','confirmed') NOT NULL DEFAULT 'pending',
  added ${dt},
  last_login ${dt},
  last_access ${dt},
  editsecret VARBINARY(20) NOT NULL,
  class TINYINT UNSIGNED NOT NULL DEFAULT 1,
  uploaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  downloaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  seedtime BIGINT UNSIGNED NOT NULL DEFAULT 0,
  leechtime BIGINT UNSIGNED NOT NULL DEFAULT 0,
  enabled ENUM('yes','no') NOT NULL DEFAULT 'yes',
  stafffor VARCHAR(255) NOT NULL,
  passkey VARCHAR(32) NOT NULL DEFAULT '',
  downloadpos ENUM('yes','no') NOT NULL DEFAULT 'yes',
  invites SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  invited_by MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  seedbonus DECIMAL(${v === '1.5' ? '10,1' : '20,1'}) NOT NULL DEFAULT 0.0,
  parked ENUM('yes','no') NOT NULL DEFAULT 'no',
  UNIQUE KEY username (username),
  KEY passkey (passkey(8))
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE categories (
  id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  mode TINYINT UNSIGNED NOT NULL DEFAULT 1,
  class_name VARCHAR(255) NOT NULL DEFAULT '',
  name VARCHAR(30) NOT NULL,
  image VARCHAR(255) NOT NULL,
  sort_index SMALLINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE sources (id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(30) NOT NULL, sort_index TINYINT UNSIGNED NOT NULL DEFAULT 0) ENGINE=MyISAM;
CREATE TABLE torrents (
  id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  info_hash BINARY(20) NOT NULL,
  name VARCHAR(255) NOT NULL DEFAULT '',
  filename VARCHAR(255) NOT NULL DEFAULT '',
  save_as VARCHAR(255) NOT NULL DEFAULT '',
  descr TEXT,
  small_descr VARCHAR(255) NOT NULL DEFAULT '',
  category SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  source TINYINT UNSIGNED NOT NULL DEFAULT 0,
  size BIGINT UNSIGNED NOT NULL DEFAULT 0,
  added ${dt},
  type ENUM('single','multi') NOT NULL DEFAULT 'single',
  numfiles SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  times_completed MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  leechers MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  seeders MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  last_action ${dt},
  visible ENUM('yes','no') NOT NULL DEFAULT 'yes',
  banned ENUM('yes','no') NOT NULL DEFAULT 'no',
  owner MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  nfo BLOB,
  sp_state TINYINT UNSIGNED NOT NULL DEFAULT 1,
  promotion_time_type TINYINT UNSIGNED NOT NULL DEFAULT 0,
  promotion_until ${dt},
  anonymous ENUM('yes','no') NOT NULL DEFAULT 'no',
  ${v === '1.6' ? 'approval_status TINYINT NOT NULL DEFAULT 0,' : ''}
  UNIQUE KEY info_hash (info_hash),
  FULLTEXT KEY name (name)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE torrents_state (global_sp_state TINYINT UNSIGNED NOT NULL DEFAULT 1) ENGINE=MyISAM;
CREATE TABLE files (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, torrent MEDIUMINT UNSIGNED NOT NULL DEFAULT 0, filename VARCHAR(255) NOT NULL DEFAULT '', size BIGINT UNSIGNED NOT NULL DEFAULT 0, KEY torrent (torrent)) ENGINE=MyISAM;
CREATE TABLE snatched (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  torrentid MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  userid MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  ip VARCHAR(64) NOT NULL DEFAULT '',
  uploaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  downloaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  to_go BIGINT UNSIGNED NOT NULL DEFAULT 0,
  seedtime INT UNSIGNED NOT NULL DEFAULT 0,
  leechtime INT UNSIGNED NOT NULL DEFAULT 0,
  last_action ${dt},
  startdat ${dt},
  completedat ${dt},
  finished ENUM('yes','no') NOT NULL DEFAULT 'no',
  KEY torrentid_userid (torrentid, userid),
  KEY userid (userid)
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE thanks (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, torrentid MEDIUMINT UNSIGNED NOT NULL DEFAULT 0, userid MEDIUMINT UNSIGNED NOT NULL DEFAULT 0, KEY torrentid_userid (torrentid, userid)) ENGINE=MyISAM;
CREATE TABLE fun (id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, userid MEDIUMINT UNSIGNED NOT NULL DEFAULT 0, added ${dt}, body TEXT, title VARCHAR(255) NOT NULL DEFAULT '',
  status ENUM('normal','dull','notfunny','funny','veryfunny','banned') NOT NULL DEFAULT 'normal') ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE funvotes (funid MEDIUMINT UNSIGNED NOT NULL, userid MEDIUMINT UNSIGNED NOT NULL, added ${dt}, vote ENUM('fun','dull') NOT NULL DEFAULT 'fun', PRIMARY KEY (funid, userid)) ENGINE=MyISAM;
CREATE TABLE news (id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, userid MEDIUMINT UNSIGNED NOT NULL DEFAULT 0, added ${dt}, body TEXT, title VARCHAR(255) NOT NULL DEFAULT '',
  notify ENUM('yes','no') NOT NULL DEFAULT 'no') ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE invites (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  inviter MEDIUMINT UNSIGNED NOT NULL DEFAULT 0,
  invitee VARCHAR(80) NOT NULL DEFAULT '',
  hash CHAR(32) NOT NULL,
  time_invited ${dt}
  ${v === '1.6' ? ', valid TINYINT NOT NULL DEFAULT 1, invitee_register_uid INT DEFAULT NULL, expired_at DATETIME DEFAULT NULL' : ''}
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
CREATE TABLE agent_allowed_family (
  id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  family VARCHAR(50) NOT NULL DEFAULT '',
  start_name VARCHAR(100) NOT NULL DEFAULT '',
  peer_id_pattern VARCHAR(200) NOT NULL DEFAULT '',
  peer_id_start VARCHAR(20) NOT NULL DEFAULT '',
  agent_pattern VARCHAR(200) NOT NULL DEFAULT '',
  agent_start VARCHAR(100) NOT NULL DEFAULT ''
) ENGINE=MyISAM DEFAULT CHARSET=utf8;
${
  v === '1.6'
    ? `CREATE TABLE torrent_secrets (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, uid INT NOT NULL, torrent_id INT NOT NULL DEFAULT 0, secret VARCHAR(255) NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY idx_uid (uid)) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE settings (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL DEFAULT '', value MEDIUMTEXT, UNIQUE KEY uniqe_name (name)) ENGINE=MyISAM DEFAULT CHARSET=utf8;`
    : ''
}`;
}

const hex = (n: number) => n.toString(16).padStart(2, '0');
const pk = (seed: number) => hex(seed).repeat(16);

export async function buildNexusSite(variant: NexusVariant): Promise<NexusSite> {
  const s = await scratchMariaDb(`ot_np${variant.replace('.', '')}`);
  await s.conn.query(nexusSchemaSql(variant));
  const zero = variant === '1.5' ? '0000-00-00 00:00:00' : null;
  const users: NexusSite['users'] = {
    alice: { id: 1, username: 'Alice', password: 'alice old pässword', passkey: pk(0xa1) },
    bob: { id: 2, username: 'bob', password: 'bob-1.9-secret', passkey: pk(0xb0).toUpperCase() },
    carol: { id: 3, username: 'carol', password: 'carol pw', passkey: '' },
    dave: { id: 4, username: 'dave', password: 'dave pw', passkey: pk(0xdd) },
    erin: { id: 5, username: 'Erin', password: 'erin pw', passkey: pk(0xdd) },
    frank: { id: 6, username: 'frank', password: 'frank pw', passkey: pk(0xf0) },
    gina: { id: 7, username: 'gina', password: 'gina pw', passkey: pk(0x91) },
    henry: { id: 9, username: 'henry', password: 'henry pw', passkey: 'not-a-passkey' },
  };
  // [user, class, scheme, email, uploaded, downloaded, bonus, enabled, status, parked, downloadpos, invited_by, added, last_access, invites]
  const rows: Array<[NexusUser, number, 'md5' | 'sha256', string, string, string, string, string, string, string, string, number, string | null, string | null, number]> = [
    [users.alice, 15, 'md5', 'alice@old.example', '4611686018427400000', '10737418240', '12345.6', 'yes', 'confirmed', 'no', 'yes', 0, '2011-03-04 05:06:07', '2023-01-15 10:00:00', 3],
    [users.bob, 1, 'sha256', 'bob@old.example', '1000', '2000', '0.5', 'yes', 'confirmed', 'no', 'yes', 1, zero, '2023-01-14 10:00:00', 0],
    [users.carol, 12, 'md5', '', '0', '0', '0.0', 'yes', 'confirmed', 'no', 'yes', 1, '2012-01-01 00:00:00', zero, 0],
    [users.dave, 3, 'md5', 'dave@old.example', '5', '6', '1.0', 'no', 'confirmed', 'no', 'yes', 0, '2012-01-01 00:00:00', '2020-01-01 00:00:00', 0],
    [users.erin, 13, 'md5', 'erin@old.example', '7', '8', '2.0', 'yes', 'confirmed', 'no', 'yes', 77, '2012-01-01 00:00:00', '2023-01-01 00:00:00', 0],
    [users.frank, 1, 'md5', 'frank@old.example', '0', '0', '0.0', 'yes', 'pending', 'yes', 'yes', 0, '2012-01-01 00:00:00', zero, 0],
    [users.gina, 1, 'md5', 'ALICE@old.example', '1', '1', '0.0', 'yes', 'confirmed', 'no', 'no', 0, '2012-01-01 00:00:00', zero, 0],
    [users.henry, 9, 'md5', 'henry@old.example', '0', '0', '0.0', 'yes', 'confirmed', 'no', 'yes', 0, '2012-01-01 00:00:00', zero, 0],
  ];
  for (const [u, cls, scheme, email, up, down, bonus, enabled, status, parked, dlpos, invitedBy, added, lastAccess, invites] of rows) {
    const secret = nexusSecret();
    const passhash = scheme === 'md5' ? nexusMd5(secret, u.password) : nexusSha256(secret, u.password);
    await s.conn.query(
      `INSERT INTO users (id, username, passhash, secret, email, status, added, last_login, last_access, editsecret, class, uploaded, downloaded, enabled, stafffor, passkey, downloadpos, invites, invited_by, seedbonus, parked)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)`,
      [u.id, u.username, variant === '1.5' && scheme === 'sha256' ? passhash.slice(0, 32) : passhash, secret, email, status, added ?? zero, zero, lastAccess ?? zero, cls, up, down, enabled, u.passkey, dlpos, invites, invitedBy, bonus, parked],
    );
  }
  if (variant === '1.5') {
    // 1.5 has no sha256 scheme: bob's row above holds a truncated hash; give him md5.
    const secret = nexusSecret();
    await s.conn.query('UPDATE users SET secret = ?, passhash = ? WHERE id = 2', [secret, nexusMd5(secret, users.bob.password)]);
  }

  await s.conn.query(`INSERT INTO categories (id, mode, class_name, name, image, sort_index) VALUES
    (401, 4, 'c_movies', 'Movies', 'catsprites.png', 0), (402, 4, 'c_tvseries', 'TV Series', 'catsprites.png', 3), (409, 4, 'c_misc', 'Misc', 'catsprites.png', 7), (410, 4, '', 'Movies', '', 9)`);
  await s.conn.query("INSERT INTO sources (name) VALUES ('Blu-ray'), ('HDTV')");
  await s.conn.query('INSERT INTO torrents_state VALUES (1)');

  const torrents: NexusSite['torrents'] = {
    free: oldTorrent(1, 'Good.Movie.2010.1080p', 300_000),
    legacy: oldTorrent(
      2,
      'Legacy.Pack',
      [
        { path: ['disc1', 'a.mkv'], length: 100_000 },
        { path: ['b.nfo'], length: 1000 },
      ],
      { sorted: false },
    ),
    missing: oldTorrent(3, 'Missing.File', 50_000),
    mismatch: oldTorrent(4, 'Mismatch', 40_000),
    corrupt: oldTorrent(5, 'Corrupt', 30_000),
    plain: oldTorrent(6, 'Plain.Single', 20_000),
  };
  // [torrent, owner, category, sp_state, time type, until, banned, anonymous, small_descr, added, times_completed]
  const trows: Array<[OldTorrent, number, number, number, number, string | null, string, string, string, string, number]> = [
    [torrents.free, 1, 401, 2, 0, zero, 'no', 'no', 'The good one', '2023-01-01 08:00:00', 2],
    [torrents.legacy, 3, 409, 6, 2, '2030-06-01 12:00:00', 'no', 'no', '', '2022-12-01 00:00:00', 1],
    [torrents.missing, 999, 402, 7, 1, zero, 'no', 'no', '', '2022-11-01 00:00:00', 0],
    [torrents.mismatch, 1, 401, 1, 0, zero, 'yes', 'no', '', '2022-10-01 00:00:00', 0],
    [torrents.corrupt, 1, 401, 5, 0, zero, 'no', 'no', '', '2022-09-01 00:00:00', 0],
    [torrents.plain, 2, 0, 4, 1, zero, 'no', 'yes', '', variant === '1.5' ? '0000-00-00 00:00:00' : '2022-08-01 00:00:00', 0],
  ];
  for (const [t, owner, cat, sp, type, until, banned, anon, small, added, done] of trows) {
    await s.conn.query(
      `INSERT INTO torrents (id, info_hash, name, filename, save_as, descr, small_descr, category, size, added, type, numfiles, times_completed, last_action, banned, owner, sp_state, promotion_time_type, promotion_until, anonymous)
       VALUES (?, UNHEX(?), ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [t.id, t.infoHash, t.name, `${t.name}.torrent`, t.name, `[b]${t.name}[/b] description`, small, cat, t.size, added, t.id === 2 ? 'multi' : 'single', done, zero ?? added, banned, owner, sp, type, until ?? zero, anon],
    );
  }
  await s.conn.query("INSERT INTO files (torrent, filename, size) VALUES (3, 'Missing.File', 50000), (2, 'disc1/a.mkv', 100000), (2, 'b.nfo', 1000)");
  for (const t of [torrents.free, torrents.legacy, torrents.corrupt, torrents.plain]) writeFileSync(join(s.torrentsDir, `${t.id}.torrent`), t.bytes);
  writeFileSync(join(s.torrentsDir, '5.torrent'), Buffer.from('d8:announce3:abc4:infod4:name'));
  writeFileSync(join(s.torrentsDir, '4.torrent'), oldTorrent(4, 'Another.Content', 40_000).bytes);

  const snatches: Array<[number, number, string, string, number, number, string | null, string | null, string | null, string]> = [
    // bob on the free torrent, twice (no unique key before 2023): merged
    [1, 2, '100', '300000', 3600, 600, '2023-01-10 00:00:00', '2023-01-02 00:00:00', zero, 'no'],
    [1, 2, '50', '0', 1800, 0, '2023-01-12 00:00:00', '2023-01-03 00:00:00', '2023-01-03 01:00:00', 'yes'],
    // alice seeded it; finished with a zero completedat in 1.5
    [1, 1, '600000', '0', 86400, 0, '2023-01-15 00:00:00', '2023-01-01 08:00:00', zero, 'yes'],
    [2, 3, '0', '101000', 0, 100, '2022-12-02 00:00:00', '2022-12-01 00:00:00', '2022-12-01 01:00:00', 'yes'],
    [99, 3, '1', '1', 1, 1, zero, zero, zero, 'no'],
    [1, 555, '1', '1', 1, 1, zero, zero, zero, 'no'],
  ];
  for (const [t, u, up, down, seed, leech, last, start, done, fin] of snatches) {
    await s.conn.query('INSERT INTO snatched (torrentid, userid, uploaded, downloaded, seedtime, leechtime, last_action, startdat, completedat, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [t, u, up, down, seed, leech, last ?? zero, start ?? zero, done ?? zero, fin]);
  }
  await s.conn.query('INSERT INTO thanks (torrentid, userid) VALUES (1, 2), (1, 2), (1, 3), (2, 555)');
  await s.conn.query("INSERT INTO fun (id, userid, added, body, title, status) VALUES (7, 2, '2021-05-05 05:05:05', 'Why did the seeder cross the road?', 'Old joke', 'funny'), (8, 777, ?, 'orphan', 'By a deleted user', 'normal')", [zero ?? '2021-01-01 00:00:00']);
  await s.conn.query("INSERT INTO funvotes (funid, userid, added, vote) VALUES (7, 1, '2021-05-06 00:00:00', 'fun'), (7, 3, '2021-05-06 00:00:00', 'dull'), (8, 555, '2021-05-06 00:00:00', 'fun')");
  await s.conn.query("INSERT INTO news (id, userid, added, body, title) VALUES (3, 1, '2020-02-02 02:02:02', 'We moved!', 'Site news')");
  if (variant === '1.6') {
    await s.conn.query(
      `INSERT INTO invites (id, inviter, invitee, hash, time_invited, valid, invitee_register_uid, expired_at) VALUES
       (1, 1, 'friend@old.example', '${'c'.repeat(32)}', '2023-01-01 00:00:00', 1, NULL, '2031-01-01 00:00:00'),
       (2, 1, '', '${'d'.repeat(32)}', '2023-01-01 00:00:00', 0, NULL, '2031-01-01 00:00:00'),
       (3, 1, 'bob@old.example', '${'e'.repeat(32)}', '2019-01-01 00:00:00', 1, 2, NULL)`,
    );
    await s.conn.query("INSERT INTO torrent_secrets (id, uid, torrent_id, secret) VALUES (1, 2, 2, 'olderBobSecret'), (2, 2, 0, 'bobEverySecret'), (3, 2, 2, 'newestBobSecret'), (4, 555, 0, 'ghost')");
    await s.conn.query("INSERT INTO settings (name, value) VALUES ('torrent.expirefree', '10'), ('main.invite_timeout', '3'), ('torrent.expirehalfleech', '150')");
  } else {
    await s.conn.query(`INSERT INTO invites (id, inviter, invitee, hash, time_invited) VALUES (1, 1, 'friend@old.example', '${'c'.repeat(32)}', '2023-01-01 00:00:00')`);
  }
  await s.conn.query(`INSERT INTO agent_allowed_family (family, peer_id_pattern, peer_id_start, agent_pattern) VALUES
    ('qBittorrent 4.x', '/^-qB4([0-9])([0-9])/', '-qB400', '/^qBittorrent/'), ('Transmission3.x', '/^-TR3([0-9])([0-9])([0-9])-/', '-TR3000-', ''), ('Rufus 0.x', '', '', '/^Rufus/'),
    ('libtorrent', '/^-lt0D([0-9])0-/', '-lt0D00-', ''), ('aria2', '/^A2-/', 'A2-', ''), ('bittorrent-tracker', '/^-WW0/', '-WW0', '')`);
  return { ...s, variant, users, torrents, secrets: { bobLegacy: 'newestBobSecret', bobAny: 'bobEverySecret' } };
}
