import { KEY_MATERIAL_BYTES } from '../../lambda/import-key-material/wrap';

/** What a material file may hold, for messages. */
export const MATERIAL_FILE_FORMS = `${KEY_MATERIAL_BYTES} raw bytes, 64 hex digits, or base64 of ${KEY_MATERIAL_BYTES} bytes`;

const HEX = /^[0-9a-fA-F]{64}$/;
/** Standard base64 with padding, as the import handler reads a SecretString (lambda/import-key-material/material.ts). */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Printable ASCII and whitespace: what a text encoding is made of. */
const TEXT = /^[\x20-\x7e\t\r\n]*$/;

/**
 * Reads bring-your-own material from a file's bytes, by the import handler's
 * rules for a secret: exactly 32 bytes are the material itself; anything else
 * is text (surrounding whitespace and a final newline ignored) holding 64 hex
 * digits or base64 of 32 bytes. Returns the problem as text when it is none
 * of them; problems speak of lengths and encodings only, never of the bytes.
 */
export function decodeMaterialFile(file: string, bytes: Buffer): Buffer | string {
  const todo = `What to do: give a file that holds ${MATERIAL_FILE_FORMS} (e.g. \`openssl rand -out material.bin 32\`).`;
  if (bytes.length === KEY_MATERIAL_BYTES) {
    // Random material is almost never all printable; 32 characters of text are a shorter key in hex or base64.
    if (TEXT.test(bytes.toString('latin1'))) {
      return `${file} holds 32 characters of text, not 32 raw bytes: as hex or base64 that is less than ${KEY_MATERIAL_BYTES} bytes of material. ${todo}`;
    }
    return Buffer.from(bytes);
  }
  const text = bytes.toString('latin1').trim();
  if (text.length === 0) return `${file} is empty. ${todo}`;
  let material: Buffer;
  if (HEX.test(text)) material = Buffer.from(text, 'hex');
  else if (BASE64.test(text) && text.length % 4 === 0) material = Buffer.from(text, 'base64');
  else if (!TEXT.test(text)) return `${file} holds ${bytes.length} bytes, but raw material is exactly ${KEY_MATERIAL_BYTES}. ${todo}`;
  else return `${file} holds ${text.length} characters of text that are neither 64 hex digits nor base64. ${todo}`;
  if (material.length !== KEY_MATERIAL_BYTES) {
    return `${file} holds base64 of ${material.length} bytes, but the material is exactly ${KEY_MATERIAL_BYTES}. ${todo}`;
  }
  return material;
}
