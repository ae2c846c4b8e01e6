import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { PullImageRequest__Output } from '../../cri/generated/runtime/v1/PullImageRequest';
import type { PullImageResponse } from '../../cri/generated/runtime/v1/PullImageResponse';
import { InvalidArgumentError } from '../../errors';
import { credentialsFromAuthConfig } from '../../images/registry/registry-credentials';
import type { ImageService } from '../../tokens';

/** PullImage: pulls (or refreshes) an image and answers its ID. The sandbox's runtime handler does not change what is pulled. */
export function pullImageHandler(images: ImageService): UnaryCriHandler<PullImageRequest__Output, PullImageResponse> {
  return async (request) => {
    const reference = request.image?.image ?? '';
    if (reference.trim() === '') throw new InvalidArgumentError('PullImage needs an image reference (image.image is empty)');
    const record = await images.pull(reference, credentialsFromAuthConfig(request.auth));
    return { image_ref: record.id };
  };
}
