// Base error classes. Each failure kind is its own class so callers test with instanceof.

export class RampartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A wire decoder found something it cannot accept; `offset` is where in the input. */
export class DecodeError extends RampartError {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at offset ${offset})`);
  }
}
