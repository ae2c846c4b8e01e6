import { ContainerService as ContainerServiceImpl } from '../../containers/container-service';
import { SandboxService as SandboxServiceImpl } from '../../pods/sandbox-service';
import { definePlugin, PluginType } from '../../plugin/plugin-manifest';
import { optional } from '../../plugin/token';
import { CgroupDriver, ContainerService, DaemonConfig, EventBus, ImageService, Logger, MetadataStore, NetworkPlugin, ObjectLocks, RuntimeRegistry, SandboxService } from '../../tokens';
import { containerStatusHandler } from './container-status';
import { createContainerHandler } from './create-container';
import { listContainersHandler } from './list-containers';
import { listPodSandboxHandler } from './list-pod-sandbox';
import { podSandboxStatusHandler } from './pod-sandbox-status';
import { removeContainerHandler } from './remove-container';
import { removePodSandboxHandler } from './remove-pod-sandbox';
import { reopenContainerLogHandler } from './reopen-container-log';
import { runPodSandboxHandler } from './run-pod-sandbox';
import { startContainerHandler } from './start-container';
import { stopContainerHandler } from './stop-container';
import { stopPodSandboxHandler } from './stop-pod-sandbox';
import { updateContainerResourcesHandler } from './update-container-resources';

/** service.pods: pod sandboxes and containers (the CRI RuntimeService's lifecycle RPCs). */
export const podsPlugin = definePlugin({
  id: 'pods',
  type: PluginType.Service,
  requires: {
    config: DaemonConfig,
    store: MetadataStore,
    driver: CgroupDriver,
    runtimes: RuntimeRegistry,
    logger: Logger,
    images: ImageService,
    network: optional(NetworkPlugin),
    events: EventBus,
    locks: ObjectLocks,
  },
  provides: [SandboxService, ContainerService],
  // Runtime plugins register their runtimes in the RuntimeRegistry during their own init.
  after: [PluginType.Runtime],
  async init(ctx, { config, store, driver, runtimes, logger, images, network, events, locks }) {
    const sandboxes = new SandboxServiceImpl(config, store, driver, runtimes, images, logger.child('pods'), () => network, events, locks);
    const containers = new ContainerServiceImpl({
      config,
      store,
      driver,
      runtimes,
      images,
      logger: logger.child('containers'),
      sandbox: (id) => sandboxes.get(id),
      events,
      locks,
    });
    sandboxes.attachContainers(containers);
    // Before any handler is registered, interrupted RPCs are settled: containers first (exits
    // folded in, half-made containers rolled back), then sandboxes, whose completed stops and
    // removals go through the container service.
    await containers.open();
    await sandboxes.recover();
    ctx.onStop(() => containers.close());
    ctx.provide(SandboxService, sandboxes);
    ctx.provide(ContainerService, containers);

    ctx.cri.handle('RunPodSandbox', runPodSandboxHandler(sandboxes));
    ctx.cri.handle('StopPodSandbox', stopPodSandboxHandler(sandboxes));
    ctx.cri.handle('RemovePodSandbox', removePodSandboxHandler(sandboxes));
    ctx.cri.handle('PodSandboxStatus', podSandboxStatusHandler(sandboxes, containers));
    ctx.cri.handle('ListPodSandbox', listPodSandboxHandler(sandboxes));
    ctx.cri.handle('CreateContainer', createContainerHandler(containers));
    ctx.cri.handle('StartContainer', startContainerHandler(containers));
    ctx.cri.handle('StopContainer', stopContainerHandler(containers));
    ctx.cri.handle('RemoveContainer', removeContainerHandler(containers));
    ctx.cri.handle('ContainerStatus', containerStatusHandler(containers));
    ctx.cri.handle('ListContainers', listContainersHandler(containers, sandboxes));
    ctx.cri.handle('ReopenContainerLog', reopenContainerLogHandler(containers));
    ctx.cri.handle('UpdateContainerResources', updateContainerResourcesHandler(containers));
  },
});
