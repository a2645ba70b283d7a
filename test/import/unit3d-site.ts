/**
 * A small UNIT3D site in a scratch MariaDB database (InnoDB, utf8mb4, UTC timestamps), with
 * its .torrent files named as UNIT3D names them (uniqid, in storage/app/files/torrents/files).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laravelBcrypt, oldTorrent, scratchMariaDb, type OldTorrent, type Scratch } from './fixtures.ts';

export interface Unit3dUser {
  id: number;
  username: string;
  password: string;
  passkey: string;
}

export interface Unit3dSite extends Scratch {
  users: Record<'owner' | 'uploader' | 'banned' | 'gone' | 'member', Unit3dUser>;
  torrents: Record<'promoted' | 'custom' | 'pending' | 'deleted' | 'missing', OldTorrent & { fileName: string }>;
}

const DDL = `
CREATE TABLE \`groups\` (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, slug VARCHAR(255) NOT NULL, position INT NOT NULL, color VARCHAR(255) NOT NULL, icon VARCHAR(255) NOT NULL,
  is_uploader TINYINT(1) NOT NULL DEFAULT 0, is_internal TINYINT(1) NOT NULL DEFAULT 0, is_owner TINYINT(1) NOT NULL DEFAULT 0, is_admin TINYINT(1) NOT NULL DEFAULT 0,
  is_modo TINYINT(1) NOT NULL DEFAULT 0, can_chat TINYINT(1) NOT NULL, can_comment TINYINT(1) NOT NULL, can_invite TINYINT(1) NOT NULL, can_request TINYINT(1) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE users (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, username VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL,
  passkey VARCHAR(255) NOT NULL, group_id INT NOT NULL, active TINYINT(1) NOT NULL DEFAULT 0, uploaded BIGINT UNSIGNED NOT NULL DEFAULT 0, downloaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  fl_tokens INT UNSIGNED NOT NULL DEFAULT 0, seedbonus DECIMAL(12,2) NOT NULL DEFAULT 0.00, invites INT UNSIGNED NOT NULL DEFAULT 0, rsskey VARCHAR(255) NOT NULL,
  can_download TINYINT(1) NOT NULL DEFAULT 1, last_action DATETIME DEFAULT NULL, created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL,
  deleted_at TIMESTAMP NULL DEFAULT NULL, UNIQUE KEY users_username_unique (username), UNIQUE KEY users_passkey_unique (passkey)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE categories (id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, position INT NOT NULL, icon VARCHAR(255) NOT NULL DEFAULT 'none') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE types (id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, position INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE torrents (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT NOT NULL, file_name VARCHAR(255) NOT NULL, num_file INT NOT NULL,
  folder VARCHAR(255) DEFAULT NULL, size DOUBLE NOT NULL, times_completed INT NOT NULL DEFAULT 0, category_id SMALLINT UNSIGNED DEFAULT NULL, user_id INT UNSIGNED NOT NULL,
  free SMALLINT NOT NULL DEFAULT 0, doubleup TINYINT(1) NOT NULL DEFAULT 0, status SMALLINT NOT NULL DEFAULT 0, anon SMALLINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL, deleted_at TIMESTAMP NULL DEFAULT NULL,
  fl_until DATETIME DEFAULT NULL, du_until DATETIME DEFAULT NULL, type_id SMALLINT UNSIGNED DEFAULT NULL, info_hash BINARY(20) NOT NULL, UNIQUE KEY torrents_info_hash_unique (info_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE files (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, size BIGINT UNSIGNED NOT NULL, torrent_id INT UNSIGNED NOT NULL, KEY files_torrent_id_foreign (torrent_id)) ENGINE=InnoDB;
CREATE TABLE history (
  user_id INT UNSIGNED NOT NULL, torrent_id INT UNSIGNED NOT NULL, agent VARCHAR(64) NOT NULL, uploaded BIGINT UNSIGNED NOT NULL DEFAULT 0, actual_uploaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  client_uploaded BIGINT UNSIGNED NOT NULL, downloaded BIGINT UNSIGNED NOT NULL DEFAULT 0, refunded_download BIGINT UNSIGNED NOT NULL DEFAULT 0, actual_downloaded BIGINT UNSIGNED NOT NULL DEFAULT 0,
  client_downloaded BIGINT UNSIGNED NOT NULL, seeder TINYINT(1) NOT NULL, active TINYINT(1) NOT NULL DEFAULT 1, seedtime BIGINT UNSIGNED NOT NULL DEFAULT 0, immune TINYINT(1) NOT NULL,
  created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL, completed_at DATETIME DEFAULT NULL, deleted_at TIMESTAMP NULL DEFAULT NULL,
  PRIMARY KEY (user_id, torrent_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE thanks (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id INT UNSIGNED NOT NULL, torrent_id INT UNSIGNED NOT NULL, created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL) ENGINE=InnoDB;
CREATE TABLE articles (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, title VARCHAR(255) NOT NULL, image VARCHAR(255) DEFAULT NULL, content TEXT NOT NULL, created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL, user_id INT UNSIGNED NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE invites (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id INT UNSIGNED NOT NULL, email VARCHAR(255) NOT NULL, code VARCHAR(255) NOT NULL, expires_on DATETIME DEFAULT NULL,
  accepted_by INT UNSIGNED DEFAULT NULL, accepted_at DATETIME DEFAULT NULL, custom TEXT, created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL, deleted_at TIMESTAMP NULL DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE blacklist_clients (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, peer_id_prefix VARCHAR(255) NOT NULL) ENGINE=InnoDB;
`;

export async function buildUnit3dSite(): Promise<Unit3dSite> {
  const s = await scratchMariaDb('ot_u3d');
  await s.conn.query(DDL);
  await s.conn.query(`INSERT INTO \`groups\` (id, name, slug, position, color, icon, is_uploader, is_internal, is_owner, is_admin, is_modo, can_chat, can_comment, can_invite, can_request) VALUES
    (1, 'Validating', 'validating', 1, '#fff', 'i', 0, 0, 0, 0, 0, 0, 0, 0, 0), (3, 'User', 'user', 3, '#fff', 'i', 0, 0, 0, 0, 0, 1, 1, 1, 1),
    (5, 'Banned', 'banned', 5, '#fff', 'i', 0, 0, 0, 0, 0, 0, 0, 0, 0), (7, 'Uploader', 'uploader', 7, '#fff', 'i', 1, 0, 0, 0, 0, 1, 1, 1, 1),
    (10, 'Owner', 'owner', 10, '#fff', 'i', 0, 0, 1, 1, 1, 1, 1, 1, 1), (11, 'PowerUser', 'poweruser', 11, '#fff', 'i', 0, 0, 0, 0, 0, 1, 1, 1, 1)`);
  const users: Unit3dSite['users'] = {
    owner: { id: 1, username: 'Owner', password: 'owner-laravel-pw', passkey: 'a'.repeat(32) },
    uploader: { id: 2, username: 'uploader', password: 'uploader-pw', passkey: 'b'.repeat(32) },
    banned: { id: 3, username: 'banned', password: 'banned-pw', passkey: 'c'.repeat(32) },
    gone: { id: 4, username: 'gone', password: 'gone-pw', passkey: 'd'.repeat(32) },
    member: { id: 5, username: 'member', password: 'member-pw', passkey: 'e'.repeat(32) },
  };
  // [user, group, uploaded, downloaded, bonus, can_download, created_at (UTC), deleted_at, invites]
  const rows: Array<[Unit3dUser, number, string, string, string, number, string, string | null, number]> = [
    [users.owner, 10, '9223372036854775807', '0', '1000.25', 1, '2020-01-01 00:00:00', null, 0],
    [users.uploader, 7, '5000', '100', '12.50', 1, '2020-02-01 00:00:00', null, 2],
    [users.banned, 5, '0', '999', '0.00', 1, '2020-03-01 00:00:00', null, 0],
    [users.gone, 3, '1', '1', '0.00', 1, '2020-04-01 00:00:00', '2022-01-01 00:00:00', 0],
    [users.member, 11, '10', '20', '3.33', 0, '2021-01-01 00:00:00', null, 0],
  ];
  for (const [u, group, up, down, bonus, dl, created, deleted, invites] of rows) {
    await s.conn.query(
      'INSERT INTO users (id, username, email, password, passkey, group_id, uploaded, downloaded, seedbonus, invites, rsskey, can_download, created_at, last_action, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [u.id, u.username, `${u.username}@u3d.example`, laravelBcrypt(u.password), u.passkey, group, up, down, bonus, invites, 'r'.repeat(32), dl, created, created, deleted],
    );
  }
  await s.conn.query("INSERT INTO categories (id, name, position) VALUES (1, 'Movies', 1), (2, 'TV', 2), (3, 'Music & Audio', 3)");
  await s.conn.query("INSERT INTO types (name, position) VALUES ('Full Disc', 1), ('Remux', 2)");
  const t = (id: number, name: string, size: number, fileName: string) => ({ ...oldTorrent(id, name, size, { source: 'UNIT3D' }), fileName });
  const torrents: Unit3dSite['torrents'] = {
    promoted: t(1, 'Promoted.Movie', 120_000, '63f0c0b1a2b3c4.12345678.torrent'),
    custom: t(2, 'Custom.Free', 60_000, '63f0c0b1a2b3c5.12345678.torrent'),
    pending: t(3, 'Pending.One', 10_000, '63f0c0b1a2b3c6.12345678.torrent'),
    deleted: t(4, 'Deleted.One', 10_000, '63f0c0b1a2b3c7.12345678.torrent'),
    missing: t(5, 'Missing.One', 10_000, '63f0c0b1a2b3c8.12345678.torrent'),
  };
  // [torrent, user, category, free, doubleup, status, anon, fl_until, du_until, deleted_at]
  const trows: Array<[(typeof torrents)['promoted'], number, number | null, number, number, number, number, string | null, string | null, string | null]> = [
    [torrents.promoted, 2, 1, 100, 1, 1, 0, '2030-01-01 00:00:00', '2031-01-01 00:00:00', null],
    [torrents.custom, 2, 2, 25, 0, 1, 1, null, null, null],
    [torrents.pending, 2, 1, 0, 0, 0, 0, null, null, null],
    [torrents.deleted, 1, 1, 0, 0, 1, 0, null, null, '2023-01-01 00:00:00'],
    [torrents.missing, 4, null, 0, 0, 1, 0, null, null, null],
  ];
  for (const [tr, user, cat, free, du, status, anon, flUntil, duUntil, deleted] of trows) {
    await s.conn.query(
      `INSERT INTO torrents (id, name, description, file_name, num_file, size, times_completed, category_id, user_id, free, doubleup, status, anon, created_at, deleted_at, fl_until, du_until, type_id, info_hash)
       VALUES (?, ?, ?, ?, 1, ?, 3, ?, ?, ?, ?, ?, ?, '2022-05-05 05:05:05', ?, ?, ?, 1, UNHEX(?))`,
      [tr.id, tr.name, `About ${tr.name}`, tr.fileName, tr.size, cat, user, free, du, status, anon, deleted, flUntil, duUntil, tr.infoHash],
    );
    if (tr !== torrents.missing) writeFileSync(join(s.torrentsDir, tr.fileName), tr.bytes);
  }
  await s.conn.query("INSERT INTO files (name, size, torrent_id) VALUES ('Missing.One', 10000, 5)");
  await s.conn.query(`INSERT INTO history (user_id, torrent_id, agent, uploaded, actual_uploaded, client_uploaded, downloaded, actual_downloaded, client_downloaded, seeder, seedtime, immune, created_at, updated_at, completed_at, deleted_at) VALUES
    (5, 1, 'qBittorrent/4.6.3', 2000, 1000, 1000, 0, 120000, 120000, 1, 7200, 0, '2022-06-01 00:00:00', '2022-06-02 00:00:00', '2022-06-01 01:00:00', NULL),
    (1, 1, 'qBittorrent/4.6.3', 500, 500, 500, 0, 0, 0, 1, 100, 0, '2022-06-01 00:00:00', '2022-06-02 00:00:00', NULL, NULL),
    (5, 2, 'Transmission/4.0', 0, 0, 0, 45000, 60000, 60000, 0, 0, 0, '2022-06-03 00:00:00', '2022-06-03 00:00:00', NULL, '2022-07-01 00:00:00'),
    (42, 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL)`);
  await s.conn.query("INSERT INTO thanks (user_id, torrent_id, created_at) VALUES (5, 1, '2022-06-05 00:00:00'), (5, 1, '2022-06-06 00:00:00'), (1, 2, '2022-06-05 00:00:00')");
  await s.conn.query("INSERT INTO articles (id, title, content, created_at, user_id) VALUES (4, 'Welcome', 'Hello UNIT3D', '2021-01-01 00:00:00', 1)");
  await s.conn.query(`INSERT INTO invites (id, user_id, email, code, expires_on, accepted_by, accepted_at, created_at, deleted_at) VALUES
    (1, 1, 'uploader@u3d.example', '7c2b9e1e-3f4a-4b8e-9c1d-2e3f4a5b6c7d', '2020-02-14 00:00:00', 2, '2020-02-01 00:00:00', '2020-01-31 00:00:00', NULL),
    (2, 2, 'friend@u3d.example', 'A1B2C3D4-E5F6-4a7b-8c9d-0e1f2a3b4c5d', '2031-01-01 00:00:00', NULL, NULL, '2023-01-01 00:00:00', NULL),
    (3, 2, 'old@u3d.example', '11111111-2222-4333-8444-555555555555', '2031-01-01 00:00:00', NULL, NULL, '2023-01-01 00:00:00', '2023-02-01 00:00:00')`);
  await s.conn.query("INSERT INTO blacklist_clients (name, peer_id_prefix) VALUES ('Bad client', '-BC0')");
  return { ...s, users, torrents };
}
