// Reads a QR code from a photo: the browser's BarcodeDetector where it has
// one (Android Chrome), else jsQR on the photo's pixels. Used by set-up
// (central's address and the device token, from the supervisor's screen)
// and by barcode questions.

interface Detector {
  detect(image: ImageBitmapSource): Promise<{ rawValue: string }[]>;
}

export async function decodeQr(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    const Native = (globalThis as { BarcodeDetector?: new (o: object) => Detector }).BarcodeDetector;
    if (Native) {
      try {
        const found = await new Native({ formats: ['qr_code'] }).detect(bitmap);
        if (found[0]?.rawValue) return found[0].rawValue;
      } catch {
        // Fall through to jsQR.
      }
    }
    // Large photos are scaled down: jsQR's time grows with the pixels.
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    ctx.drawImage(bitmap, 0, 0, w, h);
    const pixels = ctx.getImageData(0, 0, w, h);
    // Loaded only when a code is read: most starts never need it.
    const { default: jsQR } = await import('jsqr');
    return jsQR(pixels.data, w, h)?.data ?? null;
  } finally {
    bitmap.close();
  }
}

/** What an enrolment code holds: `enumera:enrol?server=URL&token=TOKEN[&key=HEX]`,
 * or a link to the app with the same parameters after `#enrol?`. */
export function parseEnrolment(text: string): { server?: string; token?: string; key?: string } | null {
  const t = text.trim();
  const query = t.startsWith('enumera:enrol?') ? t.slice('enumera:enrol?'.length) : t.includes('#enrol?') ? t.split('#enrol?')[1] : null;
  if (query === null) return null;
  const p = new URLSearchParams(query);
  return { server: p.get('server') ?? undefined, token: p.get('token') ?? undefined, key: p.get('key') ?? undefined };
}
