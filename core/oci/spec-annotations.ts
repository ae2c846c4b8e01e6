// The annotations of the spec: the client's own, plus the ones containerd's CRI plugin sets so
// that tools reading config.json (and OCI hooks) can tell which pod and image a container is of.

import type { PodSandboxMetadata__Output } from '../cri/generated/runtime/v1/PodSandboxMetadata';

/** Annotation keys, named as containerd's CRI plugin names them. */
export const CriAnnotation = {
  ContainerType: 'io.kubernetes.cri.container-type',
  SandboxId: 'io.kubernetes.cri.sandbox-id',
  SandboxName: 'io.kubernetes.cri.sandbox-name',
  SandboxNamespace: 'io.kubernetes.cri.sandbox-namespace',
  ContainerName: 'io.kubernetes.cri.container-name',
  ImageName: 'io.kubernetes.cri.image-name',
} as const;

export interface AnnotationsRequest {
  readonly criAnnotations: Readonly<Record<string, string>>;
  readonly sandboxId: string;
  readonly sandboxMetadata: PodSandboxMetadata__Output | null;
  readonly containerName: string;
  readonly imageName: string;
}

/** The CRI plugin keys come last, so a client cannot forge them. */
export function containerAnnotations(request: AnnotationsRequest): Record<string, string> {
  const metadata = request.sandboxMetadata;
  return {
    ...request.criAnnotations,
    [CriAnnotation.ContainerType]: 'container',
    [CriAnnotation.SandboxId]: request.sandboxId,
    [CriAnnotation.SandboxName]: metadata?.name ?? '',
    [CriAnnotation.SandboxNamespace]: metadata?.namespace ?? '',
    [CriAnnotation.ContainerName]: request.containerName,
    [CriAnnotation.ImageName]: request.imageName,
  };
}
