import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { loadCriServices } from '../../core/cri/cri-proto';
import { useBusyboxPods } from '../support/busybox-pods';
import { containerConfig, startContainer } from '../support/pod-fixtures';

// The Prometheus endpoint of a real daemon with real pods: scraped over HTTP on 127.0.0.1 and
// read with a Prometheus text-format parser, the way a Prometheus server reads it.

interface Sample {
  readonly value?: string;
  readonly labels?: Record<string, string>;
  readonly count?: string;
}
interface Family {
  readonly name: string;
  readonly type: string;
  readonly metrics: Sample[];
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

describe('Prometheus metrics endpoint', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('metrics-logs');

  it('serves CRI calls, operations, objects, events, the process and the containers\' resources, agreeing with ListPodSandboxMetrics', async () => {
    const port = await freePort();
    const { daemon: d, client, podId, pod } = await pods.startPod({}, { 'metrics-port': port, 'enable-pod-events': true });
    const id = await startContainer(client, podId, pod, containerConfig('main', pods.image, ['sleep', '300'], { linux: { resources: { memory_limit_in_bytes: 64 * 1024 * 1024 } } }));
    await assert.rejects(client.call('ContainerStatus', { container_id: 'f00d' }), { code: grpc.status.NOT_FOUND });
    const { RuntimeService } = loadCriServices('v1');
    const events = new RuntimeService(`unix://${d.socket}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const stream = (events as unknown as { GetContainerEvents(r: object): grpc.ClientReadableStream<unknown> }).GetContainerEvents({});
    stream.on('error', () => undefined);
    try {
      // The stream is open once the daemon counts it.
      let families: Map<string, Family> = new Map();
      let text = '';
      const scrape = async (): Promise<Map<string, Family>> => {
        const { status, type, body } = await get(port, '/metrics');
        assert.equal(status, 200);
        assert.match(type, /^text\/plain; version=0\.0\.4/);
        text = body;
        return new Map((parsePrometheusTextFormat(body) as Family[]).map((family) => [family.name, family]));
      };
      const value = (name: string, labels: Record<string, string> = {}): number | undefined => {
        const found = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
        return found === undefined ? undefined : Number(found.value ?? found.count);
      };
      for (let i = 0; i < 50 && value('caisson_event_subscribers') !== 1; i++) {
        families = await scrape();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // CRI calls by method and code, with latency histograms.
      assert.equal(value('caisson_cri_requests_total', { method: 'PullImage', code: 'OK' }), 1);
      assert.equal(value('caisson_cri_requests_total', { method: 'ContainerStatus', code: 'NOT_FOUND' }), 1);
      assert.equal(families.get('caisson_cri_request_duration_seconds')?.type, 'HISTOGRAM');
      // The parser folds a histogram's labelled series into one: its count is read from the text.
      assert.match(text, /^caisson_cri_request_duration_seconds_count\{method="RunPodSandbox",code="OK"\} 1$/m);
      assert.match(text, /^caisson_operation_duration_seconds_count\{operation="container_start",outcome="ok"\} 1$/m);
      // Operations, and the bytes pulled.
      assert.equal(value('caisson_operations_total', { operation: 'pod_create', outcome: 'ok' }), 1);
      assert.equal(value('caisson_operations_total', { operation: 'container_create', outcome: 'ok' }), 1);
      assert.equal(value('caisson_operations_total', { operation: 'container_start', outcome: 'ok' }), 1);
      assert.equal(value('caisson_operations_total', { operation: 'image_pull', outcome: 'ok' }), 1);
      const { image } = await client.call('ImageStatus', { image: { image: pods.image } });
      assert.equal(value('caisson_image_pulled_bytes_total'), Number(image?.size));
      // What the daemon holds.
      assert.equal(value('caisson_pods', { state: 'SANDBOX_READY' }), 1);
      assert.equal(value('caisson_pods', { state: 'SANDBOX_NOTREADY' }), 0);
      assert.equal(value('caisson_containers', { state: 'CONTAINER_RUNNING' }), 1);
      assert.equal(value('caisson_images'), 1);
      assert.equal(value('caisson_event_subscribers'), 1);
      assert.ok((value('caisson_events_published_total') ?? 0) >= 3, 'pod created and started, container created and started');
      assert.equal(value('caisson_event_overflows_total'), 0);
      // The process.
      assert.ok((value('caisson_process_resident_memory_bytes') ?? 0) > 10 * 1024 * 1024);
      assert.ok(families.has('caisson_nodejs_eventloop_lag_seconds'));
      assert.ok(families.has('caisson_nodejs_heap_size_used_bytes'));

      // The containers' resources: the same series, labels and (for values that do not move)
      // the same values as ListPodSandboxMetrics.
      const labels = { container: 'main', pod: String((pod['metadata'] as { name: string }).name), namespace: 'caisson-test' };
      assert.equal(value('container_spec_memory_limit_bytes', labels), 64 * 1024 * 1024);
      assert.ok((value('container_memory_working_set_bytes', labels) ?? 0) > 0);
      assert.equal(families.get('container_cpu_usage_seconds_total')?.type, 'COUNTER');
      const { pod_metrics } = await client.call('ListPodSandboxMetrics', {});
      const { descriptors } = await client.call('ListMetricDescriptors', {});
      const keys = new Map((descriptors ?? []).map((descriptor) => [descriptor.name, descriptor.label_keys ?? []]));
      const criSeries = (pod_metrics ?? [])
        .flatMap((p) => [...(p.metrics ?? []), ...(p.container_metrics ?? []).flatMap((c) => c.metrics ?? [])])
        .map((m) => `${m.name}${JSON.stringify(Object.fromEntries((keys.get(m.name) ?? []).map((k, i) => [k, m.label_values?.[i] ?? ''])))}`)
        .sort();
      const endpointSeries = [...families.values()]
        .filter((family) => keys.has(family.name))
        .flatMap((family) => family.metrics.map((m) => `${family.name}${JSON.stringify(Object.fromEntries((keys.get(family.name) ?? []).map((k) => [k, m.labels?.[k] ?? ''])))}`))
        .sort();
      assert.ok(criSeries.length > 10);
      assert.deepEqual(endpointSeries, criSeries);
      const limitInCri = (pod_metrics ?? []).flatMap((p) => (p.container_metrics ?? []).flatMap((c) => c.metrics ?? [])).find((m) => m.name === 'container_spec_memory_limit_bytes');
      assert.equal(Number(limitInCri?.value?.value), value('container_spec_memory_limit_bytes', labels));

      assert.equal((await get(port, '/other')).status, 404);
      await client.call('StopContainer', { container_id: id, timeout: 0 });
      families = await scrape();
      assert.equal(value('caisson_containers', { state: 'CONTAINER_EXITED' }), 1);
      assert.equal(value('caisson_operations_total', { operation: 'container_stop', outcome: 'ok' }), 1);
      // A stream the client cancels is counted as CANCELLED once it has ended.
      stream.cancel();
      for (let i = 0; i < 50 && value('caisson_cri_requests_total', { method: 'GetContainerEvents', code: 'CANCELLED' }) !== 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        families = await scrape();
      }
      assert.equal(value('caisson_cri_requests_total', { method: 'GetContainerEvents', code: 'CANCELLED' }), 1);
    } finally {
      stream.cancel();
      events.close();
    }
  });

  it('is off unless "metrics-port" is set', async () => {
    const { daemon: d } = await pods.startPod();
    assert.ok(!d.logs.join('').includes('metrics endpoint listening'));
  });
});
