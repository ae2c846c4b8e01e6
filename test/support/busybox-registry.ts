import { busyboxBaseLayer, pushImage, type PushedImage } from './images/image-builder';
import { BUSYBOX_CONFIG } from './images/standard-images';
import { startTestRegistry, type TestRegistry } from './registry/test-registry';

/**
 * The setup most container tests share: a docker-registry on 127.0.0.1 serving the busybox test
 * image. The caller stops the registry (usually in `after`).
 */
export async function startBusyboxRegistry(): Promise<{ registry: TestRegistry; image: string; busybox: PushedImage }> {
  const registry = await startTestRegistry();
  try {
    const busybox = await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });
    return { registry, image: `${registry.host}/busybox:latest`, busybox };
  } catch (error) {
    await registry.stop();
    throw error;
  }
}
