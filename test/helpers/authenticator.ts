/**
 * A software authenticator for the HTTP-level passkey tests: it makes real WebAuthn
 * responses (ES256 keys from node:crypto, "none" attestation, CBOR through the same
 * library the server uses), so the server's verification runs in full. The browser tests
 * use Chromium's virtual authenticator instead; this one lets a test do what a device
 * would not: sign with another key, tamper with what was signed, turn its counter back,
 * or sign (validly) for another site than the one it was made for, as a phishing page's
 * relay or a mixed-up client would.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_DATA = 0x40;

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array | string) => isoBase64URL.fromBuffer(typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data));

function counterBytes(counter: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(counter);
  return bytes;
}

/** What a response is signed for, instead of the authenticator's origin and the options' RP ID. */
export interface SiteOptions {
  /** The origin in the (signed) client data. */
  origin?: string;
  /** The RP ID whose SHA-256 hash the (signed) authenticator data carries. */
  rpId?: string;
}

export interface AssertOptions extends SiteOptions {
  /** Sign with this key instead of the credential's own (a response from another credential). */
  signWith?: KeyObject;
  /** Report this counter (the credential's own counts up by one per assertion otherwise). */
  counter?: number;
  /** Changes the client data after signing. */
  tamper?: (clientData: Record<string, unknown>) => void;
  /** Signs another challenge than the options' (one the server never issued). */
  challenge?: string;
}

export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16);
  readonly #keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  #counter = 0;
  #userHandle: string | undefined;

  constructor(readonly origin: string) {}

  get id(): string {
    return b64url(this.credentialId);
  }

  /** A new key pair, for signing as another credential would. */
  static otherKey(): KeyObject {
    return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  }

  register(options: PublicKeyCredentialCreationOptionsJSON, how: SiteOptions = {}): RegistrationResponseJSON {
    this.#userHandle = options.user.id;
    const jwk = this.#keys.publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y ?? '', 'base64url'))],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(how.rpId ?? options.rp.id ?? ''),
      Buffer.from([FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED_DATA]),
      counterBytes(this.#counter),
      Buffer.alloc(16), // AAGUID: none
      idLength,
      this.credentialId,
      isoCBOR.encode(coseKey),
    ]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', new Uint8Array(authData)],
    ]) as never);
    const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: how.origin ?? this.origin, crossOrigin: false });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  assert(options: PublicKeyCredentialRequestOptionsJSON, rpId: string, how: AssertOptions = {}): AuthenticationResponseJSON {
    this.#counter = how.counter ?? this.#counter + 1;
    const authData = Buffer.concat([sha256(how.rpId ?? rpId), Buffer.from([FLAG_USER_PRESENT | FLAG_USER_VERIFIED]), counterBytes(this.#counter)]);
    const clientData: Record<string, unknown> = { type: 'webauthn.get', challenge: how.challenge ?? options.challenge, origin: how.origin ?? this.origin, crossOrigin: false };
    const signed = JSON.stringify(clientData);
    const signature = sign('sha256', Buffer.concat([authData, sha256(signed)]), how.signWith ?? this.#keys.privateKey);
    how.tamper?.(clientData);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(how.tamper ? JSON.stringify(clientData) : signed),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: this.#userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
