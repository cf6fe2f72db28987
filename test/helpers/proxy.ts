/**
 * A TCP proxy of the test's own in front of a real server (the machine's PostgreSQL), so
 * a test can break the connection for real without touching the shared service:
 * - cut(): stop listening and destroy every connection, as a crashed or unreachable
 *   server looks (new connections are refused, open ones are reset);
 * - hang(): keep accepting connections but pass nothing either way, as a frozen server
 *   or a network that drops packets looks (bytes wait, as TCP would keep them);
 * - restore(): listen again on the same port and pass everything through again.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';

export interface TcpProxy {
  port: number;
  cut: () => Promise<void>;
  hang: () => void;
  restore: () => Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
}

export async function tcpProxy(t: TestContext, target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let hung = false;

  const flow = (link: Link) => {
    if (!link.upstream) {
      const upstream = net.connect(target.port, target.host);
      link.upstream = upstream;
      upstream.once('error', () => link.client.destroy());
      upstream.once('close', () => link.client.destroy());
      link.client.once('close', () => upstream.destroy());
    }
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  };
  const stall = (link: Link) => {
    // Unpiped and paused, each side's bytes wait in its socket until restore().
    link.client.unpipe();
    link.client.pause();
    link.upstream?.unpipe();
    link.upstream?.pause();
  };

  const server = net.createServer((client) => {
    const link: Link = { client };
    links.add(link);
    client.once('error', () => client.destroy());
    client.once('close', () => links.delete(link));
    if (hung) stall(link);
    else flow(link);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);

  const cut = async () => {
    hung = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const link of links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    await closed;
  };
  t.after(cut);
  return {
    port,
    cut,
    hang: () => {
      hung = true;
      for (const link of links) stall(link);
    },
    restore: async () => {
      hung = false;
      if (!server.listening) await listen(port);
      for (const link of links) flow(link);
    },
  };
}
