import { ImageService as ImageServiceImpl } from '../../images/image-service';
import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { DaemonConfig, ImageService, Logger, MetadataStore, ObjectLocks } from '../../tokens';
import { imageFsInfoHandler } from './image-fs-info';
import { imageStatusHandler } from './image-status';
import { listImagesHandler } from './list-images';
import { pullImageHandler } from './pull-image';
import { pullImageWithProgressHandler } from './pull-image-with-progress';
import { removeImageHandler } from './remove-image';

/** image.images: the CRI ImageService (pull, status, list, remove, filesystem info) and caisson.v1 pull progress. */
export const imagesPlugin = definePlugin({
  id: 'images',
  type: PluginType.Image,
  requires: { config: DaemonConfig, store: MetadataStore, logger: Logger, locks: ObjectLocks },
  provides: [ImageService],
  init(ctx, { config, store, logger, locks }) {
    const images = new ImageServiceImpl(config, store, logger, locks);
    images.recover();
    ctx.provide(ImageService, images);
    ctx.cri.handle('PullImage', pullImageHandler(images));
    ctx.cri.handle('ImageStatus', imageStatusHandler(images));
    ctx.cri.handle('ListImages', listImagesHandler(images));
    ctx.cri.handle('RemoveImage', removeImageHandler(images));
    ctx.cri.handle('ImageFsInfo', imageFsInfoHandler(images));
    ctx.cri.handle('PullImageWithProgress', pullImageWithProgressHandler(images));
  },
});
