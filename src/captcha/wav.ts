/**
 * The one audio format of the audio captcha: RIFF WAVE, PCM, mono, 16-bit little-endian.
 * decodeWav reads the committed clips (skipping any chunk other than fmt and data, as sox
 * may add some) and refuses anything else; encodeWav writes what the mixer makes.
 */
export interface Pcm {
  sampleRate: number;
  samples: Int16Array;
}

const HEADER_BYTES = 44;

export function encodeWav({ sampleRate, samples }: Pcm): Buffer {
  const dataBytes = samples.length * 2;
  const wav = Buffer.alloc(HEADER_BYTES + dataBytes);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(HEADER_BYTES - 8 + dataBytes, 4);
  wav.write('WAVEfmt ', 8, 'latin1');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28); // bytes per second
  wav.writeUInt16LE(2, 32); // bytes per frame
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(dataBytes, 40);
  const data = new DataView(wav.buffer, wav.byteOffset + HEADER_BYTES, dataBytes);
  for (let i = 0; i < samples.length; i += 1) data.setInt16(2 * i, samples[i] as number, true);
  return wav;
}

export function decodeWav(wav: Buffer, name = 'WAV'): Pcm {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error(`${name}: not a RIFF WAVE file`);
  }
  let sampleRate: number | undefined;
  for (let offset = 12; offset + 8 <= wav.length; ) {
    const id = wav.toString('latin1', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = wav.subarray(offset + 8, offset + 8 + size);
    if (id === 'fmt ') {
      const format = body.readUInt16LE(0);
      const channels = body.readUInt16LE(2);
      const bits = body.readUInt16LE(14);
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new Error(`${name}: expected 16-bit mono PCM, found format ${format}, ${channels} channel(s), ${bits} bits`);
      }
      sampleRate = body.readUInt32LE(4);
    } else if (id === 'data') {
      if (sampleRate === undefined) throw new Error(`${name}: data before fmt`);
      const samples = new Int16Array(Math.floor(body.length / 2));
      for (let i = 0; i < samples.length; i += 1) samples[i] = body.readInt16LE(2 * i);
      return { sampleRate, samples };
    }
    offset += 8 + size + (size % 2); // chunks are padded to an even size
  }
  throw new Error(`${name}: no data chunk`);
}
