// What the firmware update commands (`verify flash:FILE`, `upgrade`, `show boot`) ask of
// the box: the daemon implements it over its A/B slots (firmware/mgmt/update/); a box
// without slots (booted without a bootloader) has none and the commands say so.

export interface BootSlotView {
  name: 'A' | 'B';
  active: boolean;
  next: boolean;
  good: boolean;
  triesLeft: number;
  /** incomplete: an install into the slot was cut off (power, error) before it finished */
  content: 'empty' | 'image' | 'invalid' | 'incomplete';
  version?: string;
  buildId?: string;
  created?: string;
}

export interface ImageReport {
  file: string;
  bytes: number;
  format: number;
  product: string;
  boards: string[];
  version: string;
  buildId: string;
  created: string;
  signedBy: string;
  payloads: { name: string; size: number; sha256: string }[];
  downgrade: boolean;
}

export interface UpdateServices {
  /** Verifies flash:FILE (signature, board, hashes); throws Error with IOS-style text. */
  verify(file: string, progress: (done: number, total: number | undefined) => void): Promise<ImageReport>;
  /** Installs flash:FILE into the slot not running; it boots next, on trial. */
  install(file: string, force: boolean, progress: (phase: 'verify' | 'write' | 'read-back', done: number, total: number) => void): Promise<{ slot: 'A' | 'B'; image: ImageReport }>;
  /** The next boot starts the other slot. */
  rollback(): { slot: 'A' | 'B'; version: string; trial: boolean };
  slots(): BootSlotView[];
  /** What `show version` adds: the running slot and a rollback the bootloader made. */
  versionLines(): string[];
}

declare module './context.js' {
  interface SystemServices {
    /** Firmware update over A/B slots; absent on a box without slots. */
    readonly updates?: UpdateServices;
  }
}
