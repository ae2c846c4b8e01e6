import type { Image } from '../../cri/generated/runtime/v1/Image';
import type { ImageRecord } from '../../images/image-records';
import type { ImageService } from '../../tokens';

/** The CRI Image message for a record: ID, tags, digests, size, the config's user, pinned. */
export function imageMessage(record: ImageRecord, images: ImageService): Image {
  const { repoTags, repoDigests } = images.references(record.id);
  const user = imageUser(record.config.config?.User ?? '');
  return {
    id: record.id,
    repo_tags: repoTags,
    repo_digests: repoDigests,
    size: String(record.size),
    ...(user.uid !== undefined ? { uid: { value: String(user.uid) } } : {}),
    username: user.username ?? '',
    spec: { image: record.id, annotations: {} },
    pinned: record.pinned,
  };
}

/**
 * The image config's User as CRI reports it: "1234" or "1234:5678" is a uid, "daemon" or
 * "daemon:staff" a username, "" neither (the runtime's default, root).
 */
export function imageUser(user: string): { uid?: number; username?: string } {
  const name = user.split(':')[0] ?? '';
  if (name === '') return {};
  if (/^\d+$/.test(name)) return { uid: Number(name) };
  return { username: name };
}
