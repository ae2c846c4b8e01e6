import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import { loadCaissonServices, loadCriServices } from '../core/cri/cri-proto';

// The memory floor's server (bench/grpc-stack-floor.ts): node and @grpc/grpc-js serving the CRI
// v1 and v1alpha2 services and Caisson's own, protos loaded as the daemon loads them, every
// method answering an empty message. It imports nothing else, so its memory is the stack's.
// Run: node dist/bench/grpc-stack-floor-server.js <socket>

function serve(socket: string): void {
  const server = new grpc.Server();
  const answerEmpty = (service: grpc.ServiceDefinition): grpc.UntypedServiceImplementation =>
    Object.fromEntries(Object.keys(service).map((method) => [method, (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, {})]));
  for (const version of ['v1', 'v1alpha2'] as const) {
    const services = loadCriServices(version);
    for (const service of [services.RuntimeService.service, services.ImageService.service]) server.addService(service, answerEmpty(service));
  }
  const caisson = loadCaissonServices().Images.service;
  server.addService(caisson, answerEmpty(caisson));
  fs.rmSync(socket, { force: true });
  server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (error) => {
    if (error) throw error;
  });
}

serve(process.argv[2] ?? '/tmp/grpc-stack-floor.sock');
