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

  /** Starts a transient scope holding `pids` in `slice` (how a supervisor gets a cgroup of its own). */
  async startScope(name: string, slice: string, pids: readonly number[], description: string): Promise<void> {
    const manager = await this.manager();
    const properties = [
      ['PIDs', new dbus.Variant('au', [...pids])],
      ['Slice', new dbus.Variant('s', slice)],
      ['Description', new dbus.Variant('s', description)],
      ['CollectMode', new dbus.Variant('s', 'inactive-or-failed')],
    ];
    await manager['StartTransientUnit']?.(name, 'fail', properties, []);
  }

  /** Stops a unit; answers false when systemd does not know it (already gone). */
  async stopUnit(name: string): Promise<boolean> {
    const manager = await this.manager();
    try {
      await manager['StopUnit']?.(name, 'replace');
      return true;
    } catch (error) {
      if (/NoSuchUnit|not loaded/i.test(`${(error as { type?: string }).type ?? ''} ${(error as Error).message}`)) return false;
      throw error;
    }
  }

  private async manager(): Promise<dbus.ClientInterface> {
    const object = await this.bus.getProxyObject(SYSTEMD, MANAGER_PATH);
    return object.getInterface(MANAGER_INTERFACE);
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
