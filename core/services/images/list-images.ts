import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { ListImagesRequest__Output } from '../../cri/generated/runtime/v1/ListImagesRequest';
import type { ListImagesResponse } from '../../cri/generated/runtime/v1/ListImagesResponse';
import type { ImageService } from '../../tokens';
import { imageMessage } from './image-message';

/** ListImages: every image, or only the one the filter names (by ID, tag or digest). */
export function listImagesHandler(images: ImageService): UnaryCriHandler<ListImagesRequest__Output, ListImagesResponse> {
  return async (request) => {
    const wanted = request.filter?.image?.image ?? '';
    const records = wanted === '' ? images.list() : [images.find(wanted)].filter((r) => r !== undefined);
    return { images: records.map((record) => imageMessage(record, images)) };
  };
}
