import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ImageFsInfoRequest__Output } from '../../cri/generated/runtime/v1/ImageFsInfoRequest';
import type { FilesystemUsage } from '../../cri/generated/runtime/v1/FilesystemUsage';
import type { ImageFsInfoResponse } from '../../cri/generated/runtime/v1/ImageFsInfoResponse';
import type { ImageService } from '../../tokens';
import { millisToNanos } from '../../clock/unix-nanos';

/** ImageFsInfo: bytes and inodes used by the image store (content and snapshots). */
export function imageFsInfoHandler(images: ImageService): UnaryCriHandler<ImageFsInfoRequest__Output, ImageFsInfoResponse> {
  return async () => {
    const usage = await images.fsUsage();
    const filesystem: FilesystemUsage = {
      timestamp: millisToNanos(usage.timestamp).toString(),
      fs_id: { mountpoint: usage.mountpoint },
      used_bytes: { value: String(usage.usedBytes) },
      inodes_used: { value: String(usage.inodesUsed) },
    };
    return { image_filesystems: [filesystem] };
  };
}
