import * as fs from 'node:fs';
import * as path from 'node:path';
import { criuVerdict } from '../../checkpoint/criu-check';
import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { CheckpointContainerRequest__Output } from '../../cri/generated/runtime/v1/CheckpointContainerRequest';
import type { CheckpointContainerResponse } from '../../cri/generated/runtime/v1/CheckpointContainerResponse';
import { FailedPreconditionError, InvalidArgumentError, UnimplementedError } from '../../errors';
import { checkHostPath } from '../../pods/host-path-rules';
import type { ContainerService, DaemonConfig } from '../../tokens';

// CheckpointContainer (CRI v1 1.29): the container must run, the location must be an archive
// path the daemon may write (absolute, its folder existing, off the daemon's roots and kernel
// filesystems), and CRIU must work on this host. Where `criu check` fails, as with Debian 12's
// CRIU on newer kernels, the call answers FAILED_PRECONDITION with CRIU's own words.

export function checkpointContainerHandler(deps: { containers: ContainerService; config: DaemonConfig }): UnaryCriHandler<CheckpointContainerRequest__Output, CheckpointContainerResponse> {
  return async (request) => {
    const record = deps.containers.get(request.container_id);
    if (record.state !== 'CONTAINER_RUNNING') {
      throw new FailedPreconditionError(`container ${record.id} is ${record.state.replace('CONTAINER_', '').toLowerCase()}; only a running container can be checkpointed`);
    }
    if (request.location === '') throw new InvalidArgumentError(`CheckpointContainer of container ${record.id} needs a location (the archive to write)`);
    checkHostPath(request.location, `checkpoint location of container ${record.id}`, deps.config);
    if (!fs.existsSync(path.dirname(request.location))) {
      throw new InvalidArgumentError(`checkpoint location "${request.location}" of container ${record.id}: its folder ${path.dirname(request.location)} does not exist`);
    }
    const criu = await criuVerdict();
    if (!criu.usable) throw new FailedPreconditionError(`container ${record.id} cannot be checkpointed: CRIU does not work on this host: ${criu.reason}`);
    // Writing the archive needs a CRIU that works; none could be tested on the hosts this was
    // built on, so it is not claimed.
    throw new UnimplementedError(`container ${record.id} cannot be checkpointed: criu check passes here, but this build of caissond does not write checkpoint archives yet`);
  };
}
