/**
 * Who may see a torrent, for every way one is read (GraphQL, the session download, the feeds):
 * ACTIVE torrents every signed-in user; PENDING their uploader and staff; DELETED staff only.
 */
import { hasRole } from '../auth/viewer.ts';
import type { Role, TorrentStatus } from '../generated/prisma/enums.ts';

export function isStaff(viewer: { role: Role } | null): boolean {
  return viewer !== null && hasRole(viewer.role, 'MODERATOR');
}

/** Whether the viewer may see a torrent with this status and uploader. */
export function canSee(viewer: { id: number; role: Role } | null, t: { status: TorrentStatus; uploaderId: number }): boolean {
  if (viewer === null) return false;
  if (t.status === 'ACTIVE') return true;
  if (isStaff(viewer)) return true;
  return t.status === 'PENDING' && t.uploaderId === viewer.id;
}
