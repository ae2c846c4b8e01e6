import * as dbus from 'dbus-next';

// The daemon's connection to systemd over the D-Bus system bus (the address in
// DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket), as runc and kubelet reach it.

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER_INTERFACE = 'org.freedesktop.systemd1.Manager';

export function systemBusAddress(): string {
  return process.env['DBUS_SYSTEM_BUS_ADDRESS'] ?? 'unix:path=/run/dbus/system_bus_socket';
}

export class SystemdBus {
  private constructor(private readonly bus: dbus.MessageBus) {}

  /** Connects and asks systemd for its version; fails with the reason when systemd does not answer. */
  static async connect(timeoutMs: number): Promise<{ bus: SystemdBus; version: string }> {
    const bus = dbus.systemBus();
    let busError: Error | undefined;
    bus.on('error', (error: Error) => {
      busError = error;
    });
    try {
      const version = await withTimeout(readManagerVersion(bus), timeoutMs, () => busError);
      return { bus: new SystemdBus(bus), version };
    } catch (error) {
      bus.disconnect();
      throw error;
    }
  }

  disconnect(): void {
    this.bus.disconnect();
  }
}

async function readManagerVersion(bus: dbus.MessageBus): Promise<string> {
  const manager = await bus.getProxyObject(SYSTEMD, MANAGER_PATH);
  const properties = manager.getInterface('org.freedesktop.DBus.Properties');
  const version = (await properties['Get']?.(MANAGER_INTERFACE, 'Version')) as dbus.Variant<string> | undefined;
  return String(version?.value ?? 'unknown');
}

function withTimeout<T>(work: Promise<T>, ms: number, lastError: () => Error | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const cause = lastError();
      reject(new Error(cause ? cause.message : `no answer within ${ms} ms`));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
