// The firmware version shown by `show version` (kept equal to package.json by a test).
export const FIRMWARE_VERSION = '0.1.0';
