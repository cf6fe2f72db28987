/**
 * The sounds already mixed, kept so that a challenge's sound is mixed once and every
 * later download of it costs a lookup (mixing is ~4-10 ms of event-loop time, drawing a
 * picture under 1 ms). Least recently used first out, under a cap in bytes, so a flood of
 * new challenges cannot grow it. A miss only costs a mix: the mix is a pure function of
 * the challenge, so a cache in each process (WORKERS=N, several machines) is consistent.
 */
export interface SoundCache {
  get(key: string): Buffer | undefined;
  set(key: string, wav: Buffer): void;
  delete(key: string): void;
  /** Bytes held now (never above the cap). */
  readonly bytes: number;
}

export function createSoundCache(maxBytes: number): SoundCache {
  // A Map iterates in insertion order: re-inserting on use keeps the oldest use first.
  const entries = new Map<string, Buffer>();
  let bytes = 0;
  const remove = (key: string) => {
    const wav = entries.get(key);
    if (!wav) return;
    entries.delete(key);
    bytes -= wav.length;
  };
  return {
    get(key) {
      const wav = entries.get(key);
      if (wav) {
        entries.delete(key);
        entries.set(key, wav);
      }
      return wav;
    },
    set(key, wav) {
      remove(key);
      if (wav.length > maxBytes) return;
      entries.set(key, wav);
      bytes += wav.length;
      for (const oldest of entries.keys()) {
        if (bytes <= maxBytes) break;
        remove(oldest);
      }
    },
    delete: remove,
    get bytes() {
      return bytes;
    },
  };
}
