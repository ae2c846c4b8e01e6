import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { RemoveImageRequest__Output } from '../../cri/generated/runtime/v1/RemoveImageRequest';
import type { RemoveImageResponse } from '../../cri/generated/runtime/v1/RemoveImageResponse';
import { InvalidArgumentError } from '../../errors';
import type { ImageService } from '../../tokens';

/** RemoveImage: by ID, tag or digest; idempotent; refused while a container uses the image. */
export function removeImageHandler(images: ImageService): UnaryCriHandler<RemoveImageRequest__Output, RemoveImageResponse> {
  return async (request) => {
    const text = request.image?.image ?? '';
    if (text.trim() === '') throw new InvalidArgumentError('RemoveImage needs an image (image.image is empty)');
    await images.remove(text);
    return {};
  };
}
