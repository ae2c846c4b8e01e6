import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ImageStatusRequest__Output } from '../../cri/generated/runtime/v1/ImageStatusRequest';
import type { ImageStatusResponse } from '../../cri/generated/runtime/v1/ImageStatusResponse';
import { InvalidArgumentError } from '../../errors';
import type { ImageService } from '../../tokens';
import { imageMessage } from './image-message';

/** ImageStatus: the image, or an empty answer when it is not present (not an error, per CRI). */
export function imageStatusHandler(images: ImageService): UnaryCriHandler<ImageStatusRequest__Output, ImageStatusResponse> {
  return async (request) => {
    const text = request.image?.image ?? '';
    if (text.trim() === '') throw new InvalidArgumentError('ImageStatus needs an image (image.image is empty)');
    const record = images.find(text);
    if (!record) return {};
    const response: ImageStatusResponse = { image: imageMessage(record, images) };
    if (request.verbose) {
      const info = {
        imageSpec: record.config,
        manifestDigest: record.manifestDigest,
        manifestMediaType: record.manifestMediaType,
        chainId: record.layers[record.layers.length - 1]?.chainId ?? '',
        layers: record.layers,
        pulledAt: record.pulledAt,
      };
      response.info = { info: JSON.stringify(info) };
    }
    return response;
  };
}
