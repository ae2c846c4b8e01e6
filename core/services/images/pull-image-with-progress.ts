import type { StreamingCriHandler } from '../../cri/cri-handler-types';
import type { PullImageProgress } from '../../cri/generated/caisson/v1/PullImageProgress';
import type { PullImageRequest__Output } from '../../cri/generated/runtime/v1/PullImageRequest';
import { InvalidArgumentError } from '../../errors';
import type { PullProgressEvent } from '../../images/image-puller';
import { credentialsFromAuthConfig } from '../../images/registry/registry-credentials';
import type { ImageService } from '../../tokens';

/** caisson.v1.Images/PullImageWithProgress: PullImage that streams progress (for `caisson pull`). */
export function pullImageWithProgressHandler(images: ImageService): StreamingCriHandler<PullImageRequest__Output, PullImageProgress> {
  return async (request, stream) => {
    const reference = request.image?.image ?? '';
    if (reference.trim() === '') throw new InvalidArgumentError('PullImageWithProgress needs an image reference (image.image is empty)');
    // Progress arrives synchronously from the puller; writes are sent one after another.
    let writes = Promise.resolve();
    const send = (event: PullProgressEvent): void => {
      const message = { done_bytes: event.doneBytes, total_bytes: event.totalBytes, layers_done: event.layersDone, layers: event.layers };
      writes = writes.then(() => stream.write(message)).catch(() => undefined);
    };
    const record = await images.pull(reference, credentialsFromAuthConfig(request.auth), send);
    await writes;
    const total = record.layers.reduce((sum, l) => sum + l.size, 0);
    await stream.write({ done_bytes: total, total_bytes: total, layers_done: record.layers.length, layers: record.layers.length, image_ref: record.id });
  };
}
